"""Amazon MWAA: the execution role, security group, log groups and the environment itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.shared.dag_bucket import DagBucket
from components.shared.dag_delivery import DagDelivery
from components.naming import mwaa_log_group_name
from components.managed.execution_role_policy import permissions_policy, trust_policy
from stackconfig.mwaa import MwaaSettings

# MWAA's module names as they appear in its log group names, keyed by the logging configuration's field.
LOG_MODULES = {
    "dag_processing": "DAGProcessing",
    "scheduler": "Scheduler",
    "task": "Task",
    "webserver": "WebServer",
    "worker": "Worker",
}


@dataclass
class ManagedAirflowArgs:
    environment: str
    airflow_version: str
    region: str
    account_id: pulumi.Input[str]
    settings: MwaaSettings
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    bucket: DagBucket
    assets: DagDelivery
    configuration_options: Mapping[str, str]
    secret_prefixes: Sequence[str]
    kms_key_arn: Optional[pulumi.Input[str]] = None
    permissions_boundary: Optional[pulumi.Input[str]] = None


class ManagedAirflow(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    webserver_url: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    log_group_names: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ManagedAirflowArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:ManagedAirflow", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        role, role_policy = self._execution_role(name, args)
        group = self._security_group(name, args)
        log_groups = {
            field: aws.cloudwatch.LogGroup(
                f"{name}-logs-{module.lower()}",
                # The names MWAA writes to: created here first, so they get a retention and the key.
                name=mwaa_log_group_name(args.environment, module),
                retention_in_days=settings.log_retention_days,
                kms_key_id=args.kms_key_arn,
                opts=child,
            )
            for field, module in LOG_MODULES.items()
        }
        assets = args.assets
        environment = aws.mwaa.Environment(
            f"{name}-environment",
            name=args.environment,
            airflow_version=args.airflow_version,
            environment_class=settings.environment_class,
            execution_role_arn=role.arn,
            source_bucket_arn=args.bucket.arn,
            dag_s3_path=assets.dag_s3_path,
            requirements_s3_path=assets.requirements.key if assets.requirements else None,
            requirements_s3_object_version=assets.requirements.version if assets.requirements else None,
            plugins_s3_path=assets.plugins.key if assets.plugins else None,
            plugins_s3_object_version=assets.plugins.version if assets.plugins else None,
            startup_script_s3_path=assets.startup_script.key if assets.startup_script else None,
            startup_script_s3_object_version=assets.startup_script.version if assets.startup_script else None,
            network_configuration=aws.mwaa.EnvironmentNetworkConfigurationArgs(
                subnet_ids=list(args.subnet_ids), security_group_ids=[group.id]
            ),
            webserver_access_mode=settings.webserver_access_mode,
            endpoint_management=settings.endpoint_management,
            weekly_maintenance_window_start=settings.weekly_maintenance_window_start,
            worker_replacement_strategy=settings.worker_replacement_strategy,
            min_workers=settings.min_workers,
            max_workers=settings.max_workers,
            schedulers=settings.schedulers,
            min_webservers=settings.min_webservers,
            max_webservers=settings.max_webservers,
            kms_key=args.kms_key_arn,
            # Secret in state (pulumi-aws makes it so too): MWAA treats the map as sensitive, it may hold credentials.
            airflow_configuration_options=pulumi.Output.secret(dict(args.configuration_options)),
            logging_configuration=_logging(settings),
            opts=pulumi.ResourceOptions(
                parent=self,
                # MWAA checks the role, bucket and log groups while it creates the environment.
                depends_on=[role_policy, *log_groups.values(), *args.bucket.ready],
            ),
        )
        if settings.endpoint_management == "CUSTOMER":
            self._customer_endpoints(name, args, environment, group)

        self.name = environment.name
        self.arn = environment.arn
        self.webserver_url = environment.webserver_url.apply(lambda host: f"https://{host}" if host else "")
        self.execution_role_arn = role.arn
        self.security_group_id = group.id
        self.log_group_names = {LOG_MODULES[f]: g.name for f, g in log_groups.items()}
        self.register_outputs(
            {
                "name": self.name,
                "arn": self.arn,
                "webserverUrl": self.webserver_url,
                "executionRoleArn": self.execution_role_arn,
                "securityGroupId": self.security_group_id,
                "logGroups": self.log_group_names,
            }
        )

    def _execution_role(self, name: str, args: ManagedAirflowArgs) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        account = pulumi.Output.from_input(args.account_id)
        role = aws.iam.Role(
            f"{name}-execution-role",
            description=f"Execution role of the MWAA environment {args.environment}",
            assume_role_policy=account.apply(
                lambda a: json.dumps(trust_policy(region=args.region, account=a, environment=args.environment))
            ),
            permissions_boundary=args.permissions_boundary,
            opts=pulumi.ResourceOptions(parent=self),
        )
        document = pulumi.Output.all(account, args.bucket.arn, args.kms_key_arn).apply(
            lambda v: json.dumps(
                permissions_policy(
                    region=args.region,
                    account=v[0],
                    environment=args.environment,
                    bucket_arn=v[1],
                    kms_key_arn=v[2],
                    secret_prefixes=args.secret_prefixes,
                )
            )
        )
        policy = aws.iam.RolePolicy(
            f"{name}-execution-policy", role=role.id, policy=document, opts=pulumi.ResourceOptions(parent=self)
        )
        return role, policy

    def _security_group(self, name: str, args: ManagedAirflowArgs) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"MWAA environment {args.environment}: its own members, and out",
            tags={"Name": f"{name}-mwaa"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # MWAA requires members of the group to reach each other on every port.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-sg-self",
            security_group_id=group.id,
            referenced_security_group_id=group.id,
            ip_protocol="-1",
            description="MWAA components among themselves",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # A private webserver's endpoint is in this group: the ranges given may reach the UI and REST API on 443.
        for i, cidr in enumerate(args.settings.webserver_allowed_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-sg-webserver-{i + 1}",
                security_group_id=group.id,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description=f"Airflow webserver (HTTPS) from {cidr}",
                opts=pulumi.ResourceOptions(parent=self),
            )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-sg-out",
            security_group_id=group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="-1",
            description="AWS services, package indexes and the data sources tasks talk to",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group

    def _customer_endpoints(
        self, name: str, args: ManagedAirflowArgs, environment: aws.mwaa.Environment, group: aws.ec2.SecurityGroup
    ) -> None:
        """With CUSTOMER endpoint management MWAA waits (PENDING) until these endpoints exist."""
        services = {"database": environment.database_vpc_endpoint_service}
        if args.settings.webserver_access_mode != "PUBLIC_ONLY":  # a private endpoint to reach
            services["webserver"] = environment.webserver_vpc_endpoint_service
        for role, service in services.items():
            aws.ec2.VpcEndpoint(
                f"{name}-{role}-endpoint",
                vpc_id=args.vpc_id,
                service_name=service,
                vpc_endpoint_type="Interface",
                subnet_ids=list(args.subnet_ids),
                security_group_ids=[group.id],
                tags={"Name": f"{name}-{role}"},
                opts=pulumi.ResourceOptions(parent=self),
            )


def _logging(settings: MwaaSettings) -> aws.mwaa.EnvironmentLoggingConfigurationArgs:
    def module(level: str) -> dict:
        enabled = level != "OFF"
        # The API wants a valid level even for a disabled module.
        return {"enabled": enabled, "log_level": level if enabled else "INFO"}

    levels = settings.logging
    return aws.mwaa.EnvironmentLoggingConfigurationArgs(
        dag_processing_logs=aws.mwaa.EnvironmentLoggingConfigurationDagProcessingLogsArgs(**module(levels.dag_processing)),
        scheduler_logs=aws.mwaa.EnvironmentLoggingConfigurationSchedulerLogsArgs(**module(levels.scheduler)),
        task_logs=aws.mwaa.EnvironmentLoggingConfigurationTaskLogsArgs(**module(levels.task)),
        webserver_logs=aws.mwaa.EnvironmentLoggingConfigurationWebserverLogsArgs(**module(levels.webserver)),
        worker_logs=aws.mwaa.EnvironmentLoggingConfigurationWorkerLogsArgs(**module(levels.worker)),
    )
