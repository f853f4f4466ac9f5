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


def deployments_subject(organization: str, project: str, stack: str) -> str:
    # Any operation (preview, update, refresh, destroy) of this one stack; nothing else in the organization.
    return f"pulumi:deploy:org:{organization.lower()}:project:{project}:stack:{stack}:operation:*:scope:write"


def esc_subject(organization: str, esc_project: str, environment: str) -> str:
    return f"pulumi:environments:org:{organization.lower()}:env:{esc_project}/{environment}"


def trust_policy(provider_arn: str, audience: str, subject: str) -> dict[str, Any]:
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


def trust_policy_json(provider_arn: str, audience: str, subject: str) -> str:
    return json.dumps(trust_policy(provider_arn, audience, subject))
