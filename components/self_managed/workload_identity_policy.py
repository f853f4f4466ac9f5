"""IAM for pods (IRSA): who may assume a role, and what each Airflow component may do with it.

A role trusts exactly one Kubernetes service account through the cluster's OIDC provider; the permissions follow
what the component does: workers and the triggerer write task logs, the webserver only reads them, and whatever
parses DAGs reads the DAG bucket and the Secrets Manager prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Sequence

from components.naming import arn
from components.shared.secrets_access import secrets_read_statements
from k8s import identities
from k8s.spec import DAG_ARCHIVE_KEY, DAG_PREFIX

LogAccess = Literal["none", "read", "write"]


@dataclass(frozen=True)
class ComponentAccess:
    dags: bool
    secrets: bool
    logs: LogAccess
    # Publishes the stack's Airflow metrics (k8s/metrics.py) into its CloudWatch namespace.
    metrics: bool = False

    @property
    def needs_aws(self) -> bool:
        return self.dags or self.secrets or self.logs != "none" or self.metrics


# Per service account of the Airflow deployment.
AIRFLOW_ACCESS: dict[str, ComponentAccess] = {
    # The scheduler writes into task logs too (why a pod failed before its task could log anything).
    identities.SCHEDULER: ComponentAccess(dags=True, secrets=True, logs="write"),
    identities.TRIGGERER: ComponentAccess(dags=True, secrets=True, logs="write"),
    # Its DAG sync sidecar mirrors the bucket too (the UI shows DAG code); it reads logs, never writes them.
    identities.WEBSERVER: ComponentAccess(dags=True, secrets=True, logs="read"),
    # S3TaskHandler reads the existing object to append to it, hence read and write.
    identities.WORKER: ComponentAccess(dags=True, secrets=True, logs="write"),
    # Airflow 3's DAG processor parses DAGs, whose top-level code may read Variables; it writes no task logs.
    identities.DAG_PROCESSOR: ComponentAccess(dags=True, secrets=True, logs="none"),
    identities.METRICS: ComponentAccess(dags=False, secrets=False, logs="none", metrics=True),
}


def service_account_trust_policy(*, oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> dict:
    """Only the named service account of the named namespace, with tokens meant for STS, may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{oidc_issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{oidc_issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def airflow_component_policy(
    access: ComponentAccess,
    *,
    region: str,
    account: str,
    dag_bucket_arn: str,
    log_bucket_arn: str,
    secret_prefixes: Sequence[str],
    kms_key_arn: Optional[str] = None,
    metrics_namespace: str = "",
) -> Optional[dict]:
    """The component's permissions, or None when it needs no AWS access at all."""
    statements: list[dict] = []
    if access.metrics and not metrics_namespace:
        raise ValueError("a role that publishes metrics needs the namespace it publishes into")
    if access.metrics:
        # PutMetricData has no resource type; its namespace condition keeps the agent to the stack's own
        # (Service Authorization Reference, Amazon CloudWatch: cloudwatch:namespace).
        statements.append({"Sid": "PublishAirflowMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
                           "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespace": metrics_namespace}}})
    if access.dags:
        statements += [
            {"Sid": "ListDags", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": dag_bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": ["dags/*", "dags"]}}},
            # The files, and the folder's archive that worker pods fetch in their place (k8s/spec.py).
            {"Sid": "ReadDags", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": [f"{dag_bucket_arn}/{DAG_PREFIX}/*", f"{dag_bucket_arn}/{DAG_ARCHIVE_KEY}"]},
        ]
    if access.logs != "none":
        object_actions = ["s3:GetObject"] + (["s3:PutObject"] if access.logs == "write" else [])
        statements += [
            {"Sid": "ListTaskLogs", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": log_bucket_arn},
            {"Sid": "TaskLogObjects", "Effect": "Allow", "Action": object_actions, "Resource": f"{log_bucket_arn}/*"},
        ]
    if access.secrets:
        # The secrets backend reads secrets by name; it never lists them.
        statements += secrets_read_statements(region=region, account=account, prefixes=secret_prefixes, list_secrets=False)
    if kms_key_arn and (access.dags or access.secrets or access.logs != "none"):
        # DAG objects, task logs and secrets encrypted with the stack's own key are used through S3 and Secrets
        # Manager only; writing a task log (SSE-KMS) needs a data key.
        uses_s3 = access.dags or access.logs != "none"
        services = (["s3"] if uses_s3 else []) + (["secretsmanager"] if access.secrets else [])
        actions = ["kms:Decrypt", "kms:DescribeKey"] + (["kms:GenerateDataKey"] if access.logs == "write" else [])
        statements.append(
            {
                "Sid": "DecryptWithStackKey",
                "Effect": "Allow",
                "Action": actions,
                "Resource": kms_key_arn,
                "Condition": {"StringLike": {"kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in services]}},
            }
        )
    if not statements:
        return None
    return {"Version": "2012-10-17", "Statement": statements}


def cluster_autoscaler_policy(*, region: str, account: str, cluster_name: str) -> dict:
    """The Cluster Autoscaler's documented permissions; it may only resize node groups of its own cluster (EKS
    names their Auto Scaling groups eks-<node group>-<id> and tags them with the cluster)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DiscoverNodeGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "DescribeOwnNodeGroups",
                "Effect": "Allow",
                "Action": "eks:DescribeNodegroup",
                "Resource": arn("eks", region, account, f"nodegroup/{cluster_name}/*/*"),
            },
            {
                "Sid": "ResizeOwnNodeGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": arn("autoscaling", region, account, "autoScalingGroup:*:autoScalingGroupName/eks-*"),
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
            },
        ],
    }


def node_trust_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }


