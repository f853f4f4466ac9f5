"""The Cluster Autoscaler: adds nodes when worker pods cannot be scheduled, removes idle ones. It runs from the
official Helm chart under its own IRSA role, which may only resize this cluster's node groups."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.self_managed.service_account_role import service_account_role
from components.self_managed.workload_identity_policy import cluster_autoscaler_policy
from k8s import identities
from k8s.cluster_autoscaler_values import CHART, CHART_REPOSITORY, CHART_VERSION, autoscaler_values


@dataclass
class ClusterAutoscalerArgs:
    cluster_name: str
    kubernetes_version: str
    region: str
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    kubernetes_provider: k8s.Provider
    permissions_boundary: Optional[pulumi.Input[str]] = None


class ClusterAutoscaler(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:ClusterAutoscaler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = service_account_role(
            f"{name}-role",
            parent=self,
            description=f"Cluster Autoscaler of EKS cluster {args.cluster_name}",
            oidc_provider_arn=args.oidc_provider_arn,
            oidc_issuer=args.oidc_issuer,
            namespace=identities.AUTOSCALER_NAMESPACE,
            service_account=identities.AUTOSCALER,
            permissions_boundary=args.permissions_boundary,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(
                    cluster_autoscaler_policy(region=args.region, account=account, cluster_name=args.cluster_name)
                )
            ),
            opts=child,
        )
        k8s.helm.v3.Release(
            f"{name}-release",
            name=identities.AUTOSCALER,
            chart=CHART,
            version=CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            namespace=identities.AUTOSCALER_NAMESPACE,
            values=role.arn.apply(
                lambda arn: autoscaler_values(
                    cluster_name=args.cluster_name,
                    region=args.region,
                    role_arn=arn,
                    kubernetes_version=args.kubernetes_version,
                )
            ),
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.kubernetes_provider, depends_on=[policy]),
        )
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})
