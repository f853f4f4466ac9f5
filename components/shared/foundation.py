"""What both flavours stand on: the stack's context (its provider, account, key and permissions boundary) and the
shared foundation (network, buckets, DAG delivery, secrets), with the outputs they give."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pulumi
import pulumi_aws as aws

from components.naming import permissions_boundary_arn
from components.shared.access_log_bucket import AccessLogBucket, AccessLogBucketArgs
from components.shared.airflow_secrets import AirflowSecrets, AirflowSecretsArgs
from components.shared.dag_bucket import DagBucket, DagBucketArgs
from components.shared.dag_delivery import DagDelivery, DagDeliveryArgs
from components.shared.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.shared.encryption_key_policy import service_statements
from components.shared.network import FlowLogArgs, Network, NetworkArgs
from components.shared.operator_policy import operator_policy
from components.shared.private_bucket import AccessLogTarget
from stackconfig import Settings
from stackconfig.airflow_options import secrets_backend_options
from stackconfig.settings import ProjectFiles


@dataclass(frozen=True)
class StackContext:
    """The facts every component of the stack is built with."""

    name: str  # the environment's name: prefix of every resource name
    region: str
    protect: bool
    provider: aws.Provider
    account_id: pulumi.Output[str]
    # The stack's key (created, or the one `mwaa.kmsKey` names), None for AWS-managed keys.
    key_arn: Optional[pulumi.Input[str]]
    # The permissions boundary every IAM role carries, None without one.
    boundary: Optional[pulumi.Output[str]]
    files: ProjectFiles

    @property
    def on_aws(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers=[self.provider])


@dataclass(frozen=True)
class Foundation:
    network: Network
    bucket: DagBucket
    assets: DagDelivery
    secrets: AirflowSecrets
    secrets_backend: dict[str, str]
    # Where a bucket's server access logs go (under a prefix of its own), or None when the stack keeps none.
    access_logs: Callable[[str], Optional[AccessLogTarget]]


def stack_context(settings: Settings, project_dir: Path) -> StackContext:
    name = settings.name
    provider = aws.Provider(f"{name}-aws", region=settings.region, default_tags={"tags": settings.resource_tags})
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id
    # The bootstrap's deploy role may create roles under the boundary only.
    boundary = None
    if settings.permissions_boundary != "none":
        boundary = account_id.apply(
            lambda account: permissions_boundary_arn(
                settings.permissions_boundary, region=settings.region, account=account, environment=name
            )
        )
    # The key stays whatever the flavour, so that a stack's bucket objects, secrets and logs stay readable.
    key_arn = settings.mwaa.existing_kms_key_arn
    if settings.mwaa.kms_key == "create":
        key_arn = EncryptionKey(
            name,
            EncryptionKeyArgs(name, settings.region, account_id, protect=settings.protect_data),
            opts=pulumi.ResourceOptions(providers=[provider]),
        ).arn
    elif key_arn:
        # A key the stack does not own: what its policy must admit (CloudWatch Logs, CloudWatch for the alarms'
        # topic, the EKS cluster role).
        pulumi.export(
            "kmsKeyPolicyStatements",
            account_id.apply(lambda account: service_statements(region=settings.region, account=account, environment=name)),
        )
    return StackContext(
        name=name, region=settings.region, protect=settings.protect_data, provider=provider, account_id=account_id,
        key_arn=key_arn, boundary=boundary, files=settings.files(project_dir),
    )


def shared_foundation(settings: Settings, ctx: StackContext) -> Foundation:
    name, files, prefixes = ctx.name, ctx.files, settings.secret_prefixes
    flow_logs = None
    if settings.network.flow_logs:
        flow_logs = FlowLogArgs(
            ctx.account_id, settings.network.flow_log_retention_days, kms_key_arn=ctx.key_arn, permissions_boundary=ctx.boundary
        )
    network = Network(name, NetworkArgs(settings.network, ctx.region, flow_logs=flow_logs), opts=ctx.on_aws)

    # S3 server access logs of the stack's buckets (protected stacks by default) go to a bucket of their own.
    def no_access_logs(prefix: str) -> Optional[AccessLogTarget]:
        return None

    access_logs = no_access_logs
    if settings.access_logs.enabled:
        log_bucket = AccessLogBucket(
            f"{name}-access-logs",
            AccessLogBucketArgs(name, ctx.region, ctx.account_id, ctx.protect, settings.access_logs.retention_days),
            opts=ctx.on_aws,
        )

        def access_logs(prefix: str) -> Optional[AccessLogTarget]:
            return AccessLogTarget(log_bucket.name, prefix)

    bucket = DagBucket(
        name, DagBucketArgs(protect=ctx.protect, kms_key_arn=ctx.key_arn, access_logs=access_logs("dag-bucket/")), opts=ctx.on_aws
    )
    assets = DagDelivery(
        name,
        DagDeliveryArgs(
            bucket,
            dags_dir=files.dags_dir,
            build_dir=files.build_dir,
            requirements_file=files.requirements_file,
            plugins_dir=files.plugins_dir,
            startup_script=files.startup_script,
            # Self-managed worker pods fetch the DAG folder as one object; MWAA reads the files.
            dag_archive=not settings.managed,
        ),
        opts=ctx.on_aws,
    )
    secrets = AirflowSecrets(
        name,
        AirflowSecretsArgs(
            variables_prefix=prefixes.variables,
            connections_prefix=prefixes.connections,
            variables=settings.airflow.variables,
            connections=settings.airflow.connections,
            kms_key_arn=ctx.key_arn,
            protect=ctx.protect,
        ),
        opts=ctx.on_aws,
    )
    secrets_backend = secrets_backend_options(**settings.secrets_backend)

    pulumi.export("flavour", settings.flavour)
    pulumi.export("region", ctx.region)
    pulumi.export("dagBucket", bucket.name)
    pulumi.export("dagS3Path", assets.dag_s3_path)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("privateSubnetIds", network.private_subnet_ids)
    pulumi.export("secretsBackend", secrets_backend)
    pulumi.export(
        "operatorPolicy",
        ctx.account_id.apply(
            lambda account: operator_policy(managed=settings.managed, region=ctx.region, account=account, environment=name)
        ),
    )
    return Foundation(network, bucket, assets, secrets, secrets_backend, access_logs)
