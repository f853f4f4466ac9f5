"""One IAM role per Airflow component (IRSA): each trusts exactly its Kubernetes service account and may do what
that component does with the DAG bucket, the task-log bucket and the Secrets Manager prefixes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.self_managed.service_account_role import service_account_role
from k8s import identities
from components.self_managed.workload_identity_policy import AIRFLOW_ACCESS, airflow_component_policy


@dataclass
class AirflowIdentitiesArgs:
    namespace: str
    region: str
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    dag_bucket_arn: pulumi.Input[str]
    log_bucket_arn: pulumi.Input[str]
    secret_prefixes: Sequence[str]
    # The customer-managed key of the DAG bucket and the secrets, if the stack has one.
    kms_key_arn: Optional[pulumi.Input[str]] = None
    # The accounts of the Airflow version's components (k8s.identities.service_accounts).
    service_accounts: Sequence[str] = identities.AIRFLOW_SERVICE_ACCOUNTS
    permissions_boundary: Optional[pulumi.Input[str]] = None
    # The CloudWatch namespace the metrics agent publishes into (k8s.metrics.metrics_namespace).
    metrics_namespace: str = ""


class AirflowIdentities(pulumi.ComponentResource):
    # Service account name -> the role's ARN, for the `eks.amazonaws.com/role-arn` annotation.
    role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AirflowIdentitiesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:AirflowIdentities", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role_arns = {}
        for service_account in args.service_accounts:
            access = AIRFLOW_ACCESS[service_account]
            component = service_account.removeprefix("airflow-")
            role = service_account_role(
                f"{name}-{component}",
                parent=self,
                description=f"Airflow {component}: service account {args.namespace}/{service_account}",
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer=args.oidc_issuer,
                namespace=args.namespace,
                service_account=service_account,
                permissions_boundary=args.permissions_boundary,
            )
            document = pulumi.Output.all(args.account_id, args.dag_bucket_arn, args.log_bucket_arn, args.kms_key_arn).apply(
                lambda values, access=access: airflow_component_policy(
                    access,
                    region=args.region,
                    account=values[0],
                    dag_bucket_arn=values[1],
                    log_bucket_arn=values[2],
                    secret_prefixes=args.secret_prefixes,
                    kms_key_arn=values[3],
                    metrics_namespace=args.metrics_namespace,
                )
            )
            if access.needs_aws:
                aws.iam.RolePolicy(
                    f"{name}-{component}-policy",
                    role=role.id,
                    policy=document.apply(json.dumps),
                    opts=child,
                )
            self.role_arns[service_account] = role.arn
        self.register_outputs({"roleArns": self.role_arns})
