"""An IAM role that exactly one Kubernetes service account may assume (IRSA), as both the Airflow components and
the Cluster Autoscaler use it."""

from __future__ import annotations

import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.self_managed.workload_identity_policy import service_account_trust_policy


def service_account_role(
    name: str,
    *,
    parent: pulumi.Resource,
    description: str,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
    permissions_boundary: Optional[pulumi.Input[str]] = None,
) -> aws.iam.Role:
    trust = pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(
        lambda values: json.dumps(
            service_account_trust_policy(
                oidc_provider_arn=values[0], oidc_issuer=values[1], namespace=namespace, service_account=service_account
            )
        )
    )
    return aws.iam.Role(
        name,
        description=description,
        assume_role_policy=trust,
        permissions_boundary=permissions_boundary,
        opts=pulumi.ResourceOptions(parent=parent),
    )
