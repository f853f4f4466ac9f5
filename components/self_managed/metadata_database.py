"""Airflow's metadata database: RDS PostgreSQL in private subnets, reachable only from the cluster, TLS only,
encrypted, backed up; in a protected stack also Multi-AZ by default, deletion-protected and snapshotted on delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.self_managed import database_parameters as db
from components.naming import ENHANCED_MONITORING_POLICY, aws_managed_policy_arn, rds_log_group_name
from components.shared.service_role_policies import service_trust_policy
from components.naming import airflow_migration_parameter, database_identifier, upgrade_snapshot_identifier
from stackconfig.database import DatabaseSettings

CA_CERTIFICATE = "rds-ca-rsa2048-g1"
LOG_EXPORTS = ["postgresql", "upgrade"]


@dataclass
class MetadataDatabaseArgs:
    settings: DatabaseSettings
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    # The only security group allowed to connect: the cluster's nodes and pods.
    client_security_group_id: pulumi.Input[str]
    protect: bool
    region: str
    # The engine version AWS reports for the running instance (None before it exists).
    running_version: Optional[str] = None
    account_id: Optional[pulumi.Input[str]] = None
    # The stack's key: Performance Insights and the database's log groups are encrypted with it when given.
    kms_key_arn: Optional[pulumi.Input[str]] = None
    permissions_boundary: Optional[pulumi.Input[str]] = None
    # An Airflow upgrade is under way, (from, to): `from` None when nothing was recorded. A snapshot and the
    # migration marker come before its migration Job.
    airflow_upgrade: Optional[tuple[Optional[str], str]] = None


class MetadataDatabase(pulumi.ComponentResource):
    address: pulumi.Output[str]
    port: pulumi.Output[int]
    database_name: pulumi.Output[str]
    username: pulumi.Output[str]
    password: pulumi.Output[str]
    sqlalchemy_url: pulumi.Output[str]
    async_sqlalchemy_url: pulumi.Output[str]  # Airflow 3's async engine, straight to the instance
    # What the migration Job waits for: on an Airflow upgrade, the snapshot and the marker (empty otherwise).
    before_migration: list[pulumi.Resource]

    def __init__(self, name: str, args: MetadataDatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:MetadataDatabase", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        subnets, security_group = self._network_access(name, args)
        parameters = self._parameters(name, args)
        # The instance's name is fixed so that its log groups can exist (with retention) before it does.
        identifier = database_identifier(name)
        log_groups = self._log_groups(name, identifier, args)
        # A final snapshot name must be new each time an instance is deleted; this suffix is drawn once per database.
        snapshot_suffix = random.RandomId(f"{name}-snapshot-suffix", byte_length=4, opts=child)
        monitoring = self._monitoring_role(name, args) if settings.monitoring_interval_seconds else None
        monitoring_role = monitoring[0] if monitoring else None
        # Letters, digits and URL-safe punctuation only: the password goes into a connection URL unescaped by some
        # tools, and RDS refuses '/', '@', '"' and spaces.
        password = random.RandomPassword(
            f"{name}-password",
            length=40,
            special=True,
            override_special="-_.~",
            opts=child,
        )
        instance = aws.rds.Instance(
            f"{name}-db",
            identifier=identifier,
            engine="postgres",
            engine_version=settings.postgres_version,
            auto_minor_version_upgrade=True,
            # Raising database.postgresVersion upgrades in place (with the new version's parameter group).
            allow_major_version_upgrade=True,
            instance_class=settings.instance_class,
            storage_type="gp3",
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=(
                settings.max_allocated_storage_gb if settings.max_allocated_storage_gb > settings.allocated_storage_gb else 0
            ),
            storage_encrypted=True,
            db_name=db.DATABASE_NAME,
            username=db.MASTER_USERNAME,
            password=password.result,
            port=db.PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=bool(settings.multi_az),
            ca_cert_identifier=CA_CERTIFICATE,
            backup_retention_period=settings.backup_retention_days,
            copy_tags_to_snapshot=True,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            performance_insights_enabled=bool(settings.performance_insights),
            performance_insights_kms_key_id=args.kms_key_arn if settings.performance_insights else None,
            performance_insights_retention_period=(
                settings.performance_insights_retention_days if settings.performance_insights else None
            ),
            monitoring_interval=settings.monitoring_interval_seconds or 0,
            monitoring_role_arn=monitoring_role.arn if monitoring_role is not None else None,
            deletion_protection=args.protect,
            skip_final_snapshot=not args.protect,
            final_snapshot_identifier=snapshot_suffix.hex.apply(lambda h: f"{identifier}-final-{h}") if args.protect else None,
            # Unprotected stacks take changes now; protected ones in the maintenance window, except a major upgrade.
            apply_immediately=db.apply_immediately(
                protect=args.protect, configured=settings.postgres_version, running=args.running_version
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect,
                additional_secret_outputs=["password"],
                # RDS checks the monitoring role's policy when it turns Enhanced Monitoring on.
                depends_on=[*log_groups, *([monitoring[1]] if monitoring else [])],
            ),
        )

        self.before_migration = self._before_upgrade(name, args, instance) if args.airflow_upgrade else []
        self.address = instance.address
        self.port = instance.port
        self.database_name = instance.db_name
        self.username = instance.username
        self.password = pulumi.Output.secret(password.result)
        self.sqlalchemy_url = pulumi.Output.secret(
            pulumi.Output.all(instance.address, instance.port, password.result).apply(
                lambda values: db.sqlalchemy_url(
                    host=values[0],
                    port=int(values[1]),
                    database=db.DATABASE_NAME,
                    username=db.MASTER_USERNAME,
                    password=values[2],
                )
            )
        )
        self.async_sqlalchemy_url = pulumi.Output.secret(
            pulumi.Output.all(instance.address, instance.port, password.result).apply(
                lambda values: db.async_sqlalchemy_url(host=values[0], port=int(values[1]), database=db.DATABASE_NAME,
                                                       username=db.MASTER_USERNAME, password=values[2])
            )
        )
        self.register_outputs({"address": self.address, "port": self.port, "databaseName": self.database_name})

    def _before_upgrade(self, name: str, args: MetadataDatabaseArgs, instance: aws.rds.Instance) -> list[pulumi.Resource]:
        """A manual snapshot before `airflow db migrate` changes the schema: the way back from an upgrade (Airflow's
        upgrade guide, Step 2: back up the metadata database first). Kept in AWS when it leaves the program (the next
        deployment, once the version is recorded) and when the stack is destroyed: manual snapshots outlive the
        instance, and nothing deletes one but its owner. RDS snapshots are crash-consistent, a hot backup. Its suffix
        is drawn once per upgrade, so the same upgrade done again after a rollback gets a snapshot of its own.

        Then the marker: the version the database is being migrated to, so that the next deployment knows when a
        migration started and did not finish (components/preflight.py)."""
        running, target = args.airflow_upgrade or (None, "")
        suffix = random.RandomId(
            f"{name}-snapshot-before-upgrade-suffix",
            byte_length=4,
            keepers={"from": running or "unrecorded", "to": target},
            opts=pulumi.ResourceOptions(parent=self),
        )
        snapshot = aws.rds.Snapshot(
            f"{name}-snapshot-before-upgrade",
            db_instance_identifier=instance.identifier,
            db_snapshot_identifier=suffix.hex.apply(lambda h: upgrade_snapshot_identifier(name, running, target, h)),
            opts=pulumi.ResourceOptions(
                parent=self,
                retain_on_delete=True,
                # The provider waits for the snapshot to be available (20 minutes by default): large databases take longer.
                custom_timeouts=pulumi.CustomTimeouts(create="120m"),
            ),
        )
        marker = aws.ssm.Parameter(
            f"{name}-airflow-migrating-to",
            name=airflow_migration_parameter(name),
            type="String",
            insecure_value=target,
            description="The Airflow version a migration of the metadata database is under way to",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[snapshot]),
        )
        return [snapshot, marker]

    def _network_access(self, name: str, args: MetadataDatabaseArgs) -> tuple[aws.rds.SubnetGroup, aws.ec2.SecurityGroup]:
        """Private subnets, and a security group that admits PostgreSQL from the cluster only."""
        child = pulumi.ResourceOptions(parent=self)
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description=f"Private subnets of {name}",
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"PostgreSQL of {name}: the cluster only",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-cluster",
            security_group_id=security_group.id,
            referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp",
            from_port=db.PORT,
            to_port=db.PORT,
            description="PostgreSQL from the nodes and pods of the EKS cluster",
            opts=child,
        )
        return subnets, security_group

    def _parameters(self, name: str, args: MetadataDatabaseArgs) -> aws.rds.ParameterGroup:
        settings, child = args.settings, pulumi.ResourceOptions(parent=self)
        return aws.rds.ParameterGroup(
            f"{name}-params",
            family=db.parameter_group_family(settings.postgres_version),
            description=f"PostgreSQL settings of {name}",
            parameters=[aws.rds.ParameterGroupParameterArgs(name=k, value=v) for k, v in db.parameters().items()],
            opts=child,
        )

    def _log_groups(self, name: str, identifier: str, args: MetadataDatabaseArgs) -> list[aws.cloudwatch.LogGroup]:
        settings, child = args.settings, pulumi.ResourceOptions(parent=self)
        return [
            aws.cloudwatch.LogGroup(
                f"{name}-{export}-logs",
                name=rds_log_group_name(identifier, export),
                retention_in_days=settings.log_retention_days,
                kms_key_id=args.kms_key_arn,
                opts=child,
            )
            for export in LOG_EXPORTS
        ]

    def _monitoring_role(self, name: str, args: MetadataDatabaseArgs) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """The role RDS Enhanced Monitoring publishes OS metrics with (RDS user guide, USER_Monitoring.OS)."""
        role = aws.iam.Role(
            f"{name}-monitoring-role",
            description=f"RDS Enhanced Monitoring of {name}",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(service_trust_policy("monitoring.rds.amazonaws.com", account))
            ),
            permissions_boundary=args.permissions_boundary,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-monitoring-policy",
            role=role.name,
            policy_arn=aws_managed_policy_arn(args.region, ENHANCED_MONITORING_POLICY),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role, attachment
