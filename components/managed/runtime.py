"""The managed runtime: Amazon MWAA on the shared foundation, and its outputs."""

from __future__ import annotations

import pulumi

from components.managed.managed_airflow import ManagedAirflow, ManagedAirflowArgs
from components.shared.deployed_airflow_version import DeployedAirflowVersion, DeployedAirflowVersionArgs
from components.shared.alarm_definitions import managed_alarms
from components.shared.foundation import Foundation, StackContext
from components.shared.monitoring import monitor
from stackconfig import Settings
from stackconfig.airflow_options import configuration_options


def managed_runtime(settings: Settings, ctx: StackContext, foundation: Foundation) -> None:
    prefixes = settings.secret_prefixes
    airflow = ManagedAirflow(
        ctx.name,
        ManagedAirflowArgs(
            environment=ctx.name,
            airflow_version=settings.airflow.version,
            region=ctx.region,
            account_id=ctx.account_id,
            settings=settings.mwaa,
            vpc_id=foundation.network.vpc_id,
            subnet_ids=foundation.network.private_subnet_ids[:2],  # MWAA takes exactly two, in two zones
            bucket=foundation.bucket,
            assets=foundation.assets,
            configuration_options=configuration_options(settings.airflow.configuration_options, foundation.secrets_backend),
            secret_prefixes=[prefixes.variables, prefixes.connections],
            kms_key_arn=ctx.key_arn,
            permissions_boundary=ctx.boundary,
        ),
        opts=pulumi.ResourceOptions(providers=[ctx.provider], depends_on=[foundation.secrets]),
    )
    DeployedAirflowVersion(
        ctx.name, DeployedAirflowVersionArgs(ctx.name, settings.flavour, settings.airflow.version or "", after=[airflow]), opts=ctx.on_aws
    )
    monitor(settings, ctx, managed_alarms(ctx.name, settings.monitoring), after=[airflow])
    pulumi.export("airflowVersion", settings.airflow.version)
    pulumi.export("environmentName", airflow.name)
    pulumi.export("environmentArn", airflow.arn)
    pulumi.export("webserverUrl", airflow.webserver_url)
    pulumi.export("executionRoleArn", airflow.execution_role_arn)
    pulumi.export("securityGroupId", airflow.security_group_id)
    pulumi.export("logGroups", airflow.log_group_names)
