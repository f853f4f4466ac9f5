"""The self-managed runtime: Airflow on EKS with RDS PostgreSQL and an image in ECR, on the shared foundation, and
its outputs."""

from __future__ import annotations

import pulumi

from components.preflight import AccountFacts
from components.shared.deployed_airflow_version import DeployedAirflowVersion, DeployedAirflowVersionArgs
from components.self_managed.airflow_identities import AirflowIdentities, AirflowIdentitiesArgs
from components.self_managed.airflow_on_kubernetes import AirflowOnKubernetes, AirflowOnKubernetesArgs
from components.self_managed.image_registry import ImageRegistry, ImageRegistryArgs
from components.self_managed.kubernetes_cluster import KubernetesCluster, KubernetesClusterArgs
from components.self_managed.metadata_database import MetadataDatabase, MetadataDatabaseArgs
from components.self_managed.task_log_bucket import TaskLogBucket, TaskLogBucketArgs
from components.shared.alarm_definitions import self_managed_alarms
from components.shared.foundation import Foundation, StackContext
from components.shared.monitoring import monitor
from k8s.identities import service_accounts as identities_of
from k8s.metrics import metrics_namespace
from k8s.sso import redirect_uri
from k8s.spec import spec_from_settings
from stackconfig import Settings


def self_managed_runtime(settings: Settings, ctx: StackContext, foundation: Foundation, facts: AccountFacts) -> None:
    name, network, prefixes = ctx.name, foundation.network, settings.secret_prefixes
    cluster = KubernetesCluster(
        name,
        KubernetesClusterArgs(
            cluster_name=name,
            region=ctx.region,
            account_id=ctx.account_id,
            settings=settings.cluster,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            aws_provider=ctx.provider,
            protect=ctx.protect,
            permissions_boundary=ctx.boundary,
            kms_key_arn=ctx.key_arn,
        ),
        opts=ctx.on_aws,
    )
    database = MetadataDatabase(
        name,
        MetadataDatabaseArgs(
            settings=settings.database,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            client_security_group_id=cluster.security_group_id,
            protect=ctx.protect,
            region=ctx.region,
            running_version=facts.running_database_version,
            account_id=ctx.account_id,
            kms_key_arn=ctx.key_arn,
            permissions_boundary=ctx.boundary,
            airflow_upgrade=(facts.airflow.running, facts.airflow.target) if facts.snapshot_before_migration else None,
        ),
        opts=ctx.on_aws,
    )
    registry = ImageRegistry(
        name,
        ImageRegistryArgs(
            docker_dir=ctx.files.docker_dir,
            plugins_dir=ctx.files.image_plugins_dir,
            airflow_version=settings.airflow.version,
            keep_images=settings.registry.keep_images,
            protect=ctx.protect,
            kms_key_arn=ctx.key_arn,
        ),
        opts=ctx.on_aws,
    )
    task_logs = TaskLogBucket(
        f"{name}-task-logs",
        TaskLogBucketArgs(
            protect=ctx.protect,
            retention_days=settings.task_logs.retention_days,
            kms_key_arn=ctx.key_arn,
            access_logs=foundation.access_logs("task-log-bucket/"),
        ),
        opts=ctx.on_aws,
    )
    identities = AirflowIdentities(
        name,
        AirflowIdentitiesArgs(
            namespace=settings.cluster.namespace,
            region=ctx.region,
            account_id=ctx.account_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            dag_bucket_arn=foundation.bucket.arn,
            log_bucket_arn=task_logs.arn,
            secret_prefixes=[prefixes.variables, prefixes.connections],
            kms_key_arn=ctx.key_arn,
            service_accounts=identities_of(settings.airflow.version),
            permissions_boundary=ctx.boundary,
            metrics_namespace=metrics_namespace(name),
        ),
        opts=ctx.on_aws,
    )
    spec = spec_from_settings(settings, environment=name, secrets_backend=foundation.secrets_backend)
    airflow = AirflowOnKubernetes(
        name,
        AirflowOnKubernetesArgs(
            spec=spec,
            image=registry.image_ref,
            dag_bucket=foundation.bucket.name,
            log_bucket=task_logs.name,
            role_arns=identities.role_arns,
            sql_alchemy_conn=database.sqlalchemy_url,
            async_sql_alchemy_conn=database.async_sqlalchemy_url,
            database_host=database.address,
            database_username=database.username,
            database_password=database.password,
            sso_client_secret=pulumi.Output.secret(settings.sso.client_secret) if settings.sso.enabled else None,
            provider=cluster.provider,
            before_migration=database.before_migration,
        ),
        opts=pulumi.ResourceOptions(depends_on=[foundation.secrets, foundation.assets]),
    )
    DeployedAirflowVersion(
        name, DeployedAirflowVersionArgs(name, settings.flavour, settings.airflow.version or "", after=airflow.applied), opts=ctx.on_aws
    )
    monitor(settings, ctx, self_managed_alarms(ctx.name, settings.database, settings.monitoring), after=[database])
    pulumi.export("airflowVersion", settings.airflow.version)
    pulumi.export("clusterName", cluster.name)
    pulumi.export("namespace", settings.cluster.namespace)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("databaseEndpoint", database.address)
    pulumi.export("databasePort", database.port)
    pulumi.export("databaseName", database.database_name)
    pulumi.export("imageRepository", registry.repository_url)
    pulumi.export("image", registry.image_ref)
    pulumi.export("taskLogBucket", task_logs.name)
    pulumi.export("serviceAccountRoles", identities.role_arns)
    pulumi.export("webserverHostname", airflow.webserver_hostname)
    pulumi.export("webserverUrl", airflow.webserver_url)  # Airflow's base URL: the links in its e-mails
    if settings.sso.enabled:  # what to register with the identity provider
        pulumi.export("ssoRedirectUri", redirect_uri(spec))
    pulumi.export("adminUsername", airflow.admin_username)
    pulumi.export("adminPassword", airflow.admin_password)
