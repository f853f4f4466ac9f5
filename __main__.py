"""Airflow on AWS: one stack, one Airflow environment. The architecture diagram of README.md, as code."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

import stackconfig
from components.airflow_options import configuration_options, secrets_backend_options
from components.airflow_secrets import AirflowSecrets, AirflowSecretsArgs
from components.dag_bucket import DagBucket, DagBucketArgs
from components.dag_delivery import DagDelivery, DagDeliveryArgs
from components.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.managed_airflow import ManagedAirflow, ManagedAirflowArgs
from components.network import Network, NetworkArgs

# Every problem in the stack's config is reported here, before anything is created.
project_dir = Path(__file__).parent
settings = stackconfig.read(project_dir)
name, files = settings.name, settings.files(project_dir)
prefixes = settings.secret_prefixes
secrets_backend = secrets_backend_options(**settings.secrets_backend)

provider = aws.Provider(f"{name}-aws", region=settings.region, default_tags={"tags": settings.resource_tags})
on_aws = pulumi.ResourceOptions(providers=[provider])
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

network = Network(name, NetworkArgs(settings.network, settings.region), opts=on_aws)

key_arn = settings.mwaa.existing_kms_key_arn
if settings.mwaa.kms_key == "create":
    key_arn = EncryptionKey(
        name, EncryptionKeyArgs(name, settings.region, account_id, protect=settings.protect_data), opts=on_aws
    ).arn

bucket = DagBucket(name, DagBucketArgs(protect=settings.protect_data, kms_key_arn=key_arn), opts=on_aws)
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
    ),
    opts=pulumi.ResourceOptions(providers=[provider], depends_on=[secrets]),
)

pulumi.export("flavour", settings.flavour)
pulumi.export("region", settings.region)
pulumi.export("environmentName", airflow.name)
pulumi.export("environmentArn", airflow.arn)
pulumi.export("webserverUrl", airflow.webserver_url)
pulumi.export("dagBucket", bucket.name)
pulumi.export("dagS3Path", assets.dag_s3_path)
pulumi.export("executionRoleArn", airflow.execution_role_arn)
pulumi.export("securityGroupId", airflow.security_group_id)
pulumi.export("logGroups", airflow.log_group_names)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("secretsBackend", secrets_backend)
