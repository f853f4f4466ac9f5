"""Airflow on AWS: one stack, one Airflow environment. The architecture diagram of README.md, as code."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

import stackconfig
from components import preflight
from components.naming import permissions_boundary_arn
from k8s.spec import spec_from_settings
from stackconfig.airflow_options import configuration_options, secrets_backend_options
from components.shared.access_log_bucket import AccessLogBucket, AccessLogBucketArgs
from components.shared.airflow_secrets import AirflowSecrets, AirflowSecretsArgs
from components.shared.private_bucket import AccessLogTarget
from components.shared.dag_bucket import DagBucket, DagBucketArgs
from components.shared.dag_delivery import DagDelivery, DagDeliveryArgs
from components.shared.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.shared.encryption_key_policy import service_statements
from components.self_managed.airflow_identities import AirflowIdentities, AirflowIdentitiesArgs
from components.self_managed.airflow_on_kubernetes import AirflowOnKubernetes, AirflowOnKubernetesArgs
from components.self_managed.image_registry import ImageRegistry, ImageRegistryArgs
from components.self_managed.kubernetes_cluster import KubernetesCluster, KubernetesClusterArgs
from components.managed.managed_airflow import ManagedAirflow, ManagedAirflowArgs
from components.self_managed.metadata_database import MetadataDatabase, MetadataDatabaseArgs
from components.shared.network import FlowLogArgs, Network, NetworkArgs
from components.shared.operator_policy import operator_policy
from components.self_managed.task_log_bucket import TaskLogBucket, TaskLogBucketArgs

# Every problem in the stack's config is reported here, before anything is created.
project_dir = Path(__file__).parent
settings = stackconfig.read(project_dir)
account_facts = preflight.check(settings)
name, files = settings.name, settings.files(project_dir)
prefixes = settings.secret_prefixes
secrets_backend = secrets_backend_options(**settings.secrets_backend)

provider = aws.Provider(f"{name}-aws", region=settings.region, default_tags={"tags": settings.resource_tags})
on_aws = pulumi.ResourceOptions(providers=[provider])
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id
# Every IAM role the stack creates carries it (the bootstrap's deploy role may create roles under it only).
boundary = (
    account_id.apply(
        lambda account: permissions_boundary_arn(
            settings.permissions_boundary, region=settings.region, account=account, environment=name
        )
    )
    if settings.permissions_boundary != "none"
    else None
)

# The key stays whatever the flavour, so that a stack's bucket objects, secrets and logs stay readable.
key_arn = settings.mwaa.existing_kms_key_arn
if settings.mwaa.kms_key == "create":
    key_arn = EncryptionKey(
        name, EncryptionKeyArgs(name, settings.region, account_id, protect=settings.protect_data), opts=on_aws
    ).arn

if settings.mwaa.existing_kms_key_arn:
    # A key the stack does not own: what its policy must admit (CloudWatch Logs, the EKS cluster role).
    pulumi.export(
        "kmsKeyPolicyStatements",
        account_id.apply(lambda account: service_statements(region=settings.region, account=account, environment=name)),
    )

flow_logs = (
    FlowLogArgs(account_id, settings.network.flow_log_retention_days, kms_key_arn=key_arn, permissions_boundary=boundary)
    if settings.flow_logs
    else None
)
network = Network(name, NetworkArgs(settings.network, settings.region, flow_logs=flow_logs), opts=on_aws)

# S3 server access logs of the stack's buckets (protected stacks by default) go to a bucket of their own.
access_logs = None
if settings.access_logs_enabled:
    access_log_bucket = AccessLogBucket(
        f"{name}-access-logs",
        AccessLogBucketArgs(name, settings.region, account_id, settings.protect_data, settings.access_logs.retention_days),
        opts=on_aws,
    )
    access_logs = lambda prefix: AccessLogTarget(access_log_bucket.name, prefix)  # noqa: E731
else:
    access_logs = lambda prefix: None  # noqa: E731

bucket = DagBucket(
    name,
    DagBucketArgs(protect=settings.protect_data, kms_key_arn=key_arn, access_logs=access_logs("dag-bucket/")),
    opts=on_aws,
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
    ),
    opts=on_aws,
)
secrets = AirflowSecrets(
    name,
    AirflowSecretsArgs(
        variables_prefix=prefixes.variables,
        connections_prefix=prefixes.connections,
        variables=settings.airflow.variables,
        connections=settings.airflow.connections,
        kms_key_arn=key_arn,
        protect=settings.protect_data,
    ),
    opts=on_aws,
)

pulumi.export("flavour", settings.flavour)
pulumi.export("region", settings.region)
pulumi.export("dagBucket", bucket.name)
pulumi.export("dagS3Path", assets.dag_s3_path)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("secretsBackend", secrets_backend)
pulumi.export(
    "operatorPolicy",
    account_id.apply(
        lambda account: operator_policy(managed=settings.managed, region=settings.region, account=account, environment=name)
    ),
)

if settings.managed:
    airflow = ManagedAirflow(
        name,
        ManagedAirflowArgs(
            environment=name,
            airflow_version=settings.airflow.version,
            region=settings.region,
            account_id=account_id,
            settings=settings.mwaa,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids[:2],  # MWAA takes exactly two, in two zones
            bucket=bucket,
            assets=assets,
            configuration_options=configuration_options(settings.airflow.configuration_options, secrets_backend),
            secret_prefixes=[prefixes.variables, prefixes.connections],
            kms_key_arn=key_arn,
            permissions_boundary=boundary,
        ),
        opts=pulumi.ResourceOptions(providers=[provider], depends_on=[secrets]),
    )
    pulumi.export("environmentName", airflow.name)
    pulumi.export("environmentArn", airflow.arn)
    pulumi.export("webserverUrl", airflow.webserver_url)
    pulumi.export("executionRoleArn", airflow.execution_role_arn)
    pulumi.export("securityGroupId", airflow.security_group_id)
    pulumi.export("logGroups", airflow.log_group_names)
else:
    cluster = KubernetesCluster(
        name,
        KubernetesClusterArgs(
            cluster_name=name,
            region=settings.region,
            account_id=account_id,
            settings=settings.cluster,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            aws_provider=provider,
            protect=settings.protect_data,
            permissions_boundary=boundary,
            kms_key_arn=key_arn,
        ),
        opts=on_aws,
    )
    database = MetadataDatabase(
        name,
        MetadataDatabaseArgs(
            settings=settings.database,
            vpc_id=network.vpc_id,
            subnet_ids=network.private_subnet_ids,
            client_security_group_id=cluster.security_group_id,
            protect=settings.protect_data,
            region=settings.region,
            running_version=account_facts.running_database_version,
            account_id=account_id,
            kms_key_arn=key_arn,
            permissions_boundary=boundary,
        ),
        opts=on_aws,
    )
    registry = ImageRegistry(
        name,
        ImageRegistryArgs(
            docker_dir=files.docker_dir,
            airflow_version=settings.airflow.version,
            keep_images=settings.registry.keep_images,
            protect=settings.protect_data,
            kms_key_arn=key_arn,
        ),
        opts=on_aws,
    )
    task_logs = TaskLogBucket(
        f"{name}-task-logs",
        TaskLogBucketArgs(
            protect=settings.protect_data,
            retention_days=settings.task_logs.retention_days,
            kms_key_arn=key_arn,
            access_logs=access_logs("task-log-bucket/"),
        ),
        opts=on_aws,
    )
    identities = AirflowIdentities(
        name,
        AirflowIdentitiesArgs(
            namespace=settings.cluster.namespace,
            region=settings.region,
            account_id=account_id,
            oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer,
            dag_bucket_arn=bucket.arn,
            log_bucket_arn=task_logs.arn,
            secret_prefixes=[prefixes.variables, prefixes.connections],
            kms_key_arn=key_arn,
            permissions_boundary=boundary,
        ),
        opts=on_aws,
    )
    airflow = AirflowOnKubernetes(
        name,
        AirflowOnKubernetesArgs(
            spec=spec_from_settings(settings, environment=name, secrets_backend=secrets_backend),
            image=registry.image_ref,
            dag_bucket=bucket.name,
            log_bucket=task_logs.name,
            role_arns=identities.role_arns,
            sql_alchemy_conn=database.sqlalchemy_url,
            provider=cluster.provider,
        ),
        opts=pulumi.ResourceOptions(depends_on=[secrets, assets]),
    )
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
    pulumi.export("adminUsername", airflow.admin_username)
    pulumi.export("adminPassword", airflow.admin_password)
