"""Who may assume a stack's deploy role: Pulumi Cloud's OIDC tokens for exactly that organization, project and stack.

Pulumi Deployments' token: audience = the organization's name, subject
`pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write`.
A Pulumi ESC environment's token: audience `aws:<org>`, subject `pulumi:environments:org:<org>:env:<project>/<env>`.
"""

from __future__ import annotations

import json
from typing import Any

ISSUER = "api.pulumi.com/oidc"


def deployments_audience(organization: str) -> str:
    return organization.lower()


def esc_audience(organization: str) -> str:
    return f"aws:{organization.lower()}"


# The operations of Pulumi Deployments (its REST API's OperationContext.operation values).
OPERATIONS = ("update", "preview", "destroy", "refresh", "detect-drift", "remediate-drift")
# A pull request's deployment is a `preview` of the pull request's branch, unreviewed code included. A protected
# stack's role refuses every preview: its updates, refreshes and destroys run only from the reviewed branch.
PROTECTED_OPERATIONS = tuple(op for op in OPERATIONS if op != "preview")


def deployments_subject(organization: str, project: str, stack: str, operation: str = "*") -> str:
    """The subject of this one stack's deployment tokens; `*` any operation. Nothing else in the organization."""
    return f"pulumi:deploy:org:{organization.lower()}:project:{project}:stack:{stack}:operation:{operation}:scope:write"


def deployments_subjects(organization: str, project: str, stack: str, *, protected: bool) -> str | list[str]:
    if not protected:
        return deployments_subject(organization, project, stack)
    return [deployments_subject(organization, project, stack, op) for op in PROTECTED_OPERATIONS]


def esc_subject(organization: str, esc_project: str, environment: str) -> str:
    return f"pulumi:environments:org:{organization.lower()}:env:{esc_project}/{environment}"


def trust_policy(provider_arn: str, audience: str, subject: str | list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PulumiCloudOidc",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{ISSUER}:aud": audience},
                    "StringLike": {f"{ISSUER}:sub": subject},
                },
            }
        ],
    }


def trust_policy_json(provider_arn: str, audience: str, subject: str | list[str]) -> str:
    return json.dumps(trust_policy(provider_arn, audience, subject))
