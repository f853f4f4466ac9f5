"""`database` (self-managed): the RDS PostgreSQL instance holding Airflow's metadata."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from stackconfig import limits
from stackconfig.errors import ConfigIssue
from stackconfig.section import Section, raise_if, retention_issues as _retention, within

PostgresVersion = Literal[limits.POSTGRES_VERSIONS]  # type: ignore[valid-type]


# Connections to the instance that do not go through PgBouncer: the migration Job, the metadata cleanup, an
# operator's psql, RDS's own (rdsadmin).
DIRECT_CONNECTIONS = 10


class PgBouncerSettings(Section):
    """PgBouncer between Airflow's pods (workers included) and the instance: transaction pooling, TLS to RDS
    verified. Migrations and the metadata cleanup go straight to the instance (they hold session locks)."""

    enabled: bool = True
    """`false`: every pod connects to the instance itself, one connection or more per worker pod"""
    replicas: int = 2
    """1-10 PgBouncer pods, on different nodes and zones where they can be; 2 or more while `protectData` is true"""
    pool_size: int = 20
    """connections each PgBouncer pod keeps to the instance (1-1000); all pods' together, one more pod while they
    roll, must stay below what the instance class takes (see `monitoring.databaseConnectionsPercent`), less 10 for
    direct connections
    """
    max_client_connections: int = 1000
    """connections from Airflow's processes each PgBouncer pod accepts (10-10000): a worker pod holds one or two, a
    scheduler or webserver a pool of its own
    """

    @model_validator(mode="after")
    def _check(self) -> "PgBouncerSettings":
        raise_if(within("replicas", self.replicas, (1, 10)) + within("poolSize", self.pool_size, (1, 1000))
                 + within("maxClientConnections", self.max_client_connections, (10, 10000)))
        return self


class DatabaseSettings(Section):
    """The RDS PostgreSQL instance holding Airflow's metadata. Unset Multi-AZ follows `protectData`."""

    postgres_version: PostgresVersion = "16"
    """`13`, `14`, `15`, `16` (what Airflow 2.9 supports); minor versions upgrade automatically; raising it upgrades
    the instance in place at the next `pulumi up`, protected or not (the parameter group of the new major replaces
    the old one, which RDS frees only once the instance has moved; RDS snapshots the instance first, as backups are
    on); lowering it below the running version is refused (RDS cannot downgrade). Other changes of a protected stack
    wait for the maintenance window, except in the `pulumi up` of a major upgrade, which applies every pending
    change of the instance at once
    """
    instance_class: str = "db.t4g.medium"
    """an RDS class that exists for PostgreSQL: families t3, t4g (micro to 2xlarge), m5, m5d, m6g, m6gd, m6i, m7g, m7i,
    m8g, r5, r5d, r6g, r6gd, r6i, r7g, r7i, r8g (large and up), e.g. `db.m7g.large`
    """
    allocated_storage_gb: int = 20
    """20-65536 GiB of gp3"""
    # Storage autoscaling grows the volume up to this size; equal to allocatedStorageGb turns it off.
    max_allocated_storage_gb: int = 100
    """storage autoscaling's ceiling: at least 10% above `allocatedStorageGb`, at most 65536; equal to
    `allocatedStorageGb` turns autoscaling off
    """
    multi_az: Optional[bool] = None
    """Unset: `protectData`. a standby in a second zone"""
    backup_retention_days: int = 7
    """1-35; at least 7 with `protectData: true`"""
    log_retention_days: int = 30
    """a CloudWatch retention period for the database's `postgresql` and `upgrade` log groups"""
    # Performance Insights, encrypted with the stack's key when it has one; unset: on in protected stacks where
    # the instance class offers it.
    performance_insights: Optional[bool] = None
    """Unset: `protectData`, where the class offers it. Performance Insights (encrypted with the stack's key when it
    has one); refused on `db.t*.micro` and `db.t*.small`, which RDS does not offer it on
    """
    performance_insights_retention_days: int = 7
    """7 (free), a number of 31-day months (31, 62, ... 713) or 731"""
    # Enhanced Monitoring (OS metrics every N seconds) through a role of its own; unset: 60 in protected stacks, else 0.
    monitoring_interval_seconds: Optional[int] = None
    """Unset: 60 if `protectData`, else 0. Enhanced Monitoring every 1, 5, 10, 15, 30 or 60 seconds through a role of
    its own; 0 turns it off
    """

    pgbouncer: PgBouncerSettings = Field(default_factory=PgBouncerSettings)
    """the connection pooler in front of the instance (self-managed)"""

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        family, _, size = value.removeprefix("db.").partition(".")
        if not value.startswith("db.") or size not in limits.RDS_INSTANCE_SIZES.get(family, ()):
            raise ValueError(
                "an RDS instance class for PostgreSQL such as db.t4g.medium, db.m7g.large or db.r7g.xlarge "
                f"(families {', '.join(limits.RDS_INSTANCE_SIZES)}; burstable t3/t4g up to 2xlarge)"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> "DatabaseSettings":
        issues = []
        issues += within("allocatedStorageGb", self.allocated_storage_gb, limits.RDS_GP3_STORAGE_GB, " GiB (gp3)")
        # RDS wants the autoscaling ceiling at least 10% above the allocated storage, or autoscaling off.
        low = math.ceil(self.allocated_storage_gb * 1.1)
        ceiling = self.max_allocated_storage_gb
        if not issues and ceiling != self.allocated_storage_gb and not low <= ceiling <= limits.RDS_GP3_STORAGE_GB[1]:
            issues.append(
                ConfigIssue(
                    "maxAllocatedStorageGb",
                    ceiling,
                    f"{low} to {limits.RDS_GP3_STORAGE_GB[1]} GiB (10% above database.allocatedStorageGb), "
                    f"or {self.allocated_storage_gb} to turn storage autoscaling off",
                )
            )
        issues += within("backupRetentionDays", self.backup_retention_days, limits.RDS_BACKUP_DAYS, " days")
        issues += _retention("logRetentionDays", self.log_retention_days)
        if self.performance_insights_retention_days not in limits.RDS_PI_RETENTION_DAYS:
            issues.append(
                ConfigIssue(
                    "performanceInsightsRetentionDays",
                    self.performance_insights_retention_days,
                    "7 (free), a number of 31-day months (31, 62, ... 713) or 731",
                )
            )
        if self.performance_insights and limits.RDS_PI_UNSUPPORTED.match(self.instance_class):
            issues.append(
                ConfigIssue(
                    "performanceInsights",
                    True,
                    f"false with database.instanceClass {self.instance_class}: RDS offers Performance Insights from "
                    "the medium burstable classes up",
                )
            )
        interval = self.monitoring_interval_seconds
        if interval is not None and interval not in limits.RDS_MONITORING_INTERVALS:
            issues.append(
                ConfigIssue(
                    "monitoringIntervalSeconds",
                    interval,
                    f"one of {', '.join(map(str, limits.RDS_MONITORING_INTERVALS))} (0 turns Enhanced Monitoring off)",
                )
            )
        pooler = self.pgbouncer
        # The instance class's default max_connections (RDS's formula, estimated at or below it): PgBouncer's
        # connections beyond it would be refused, and the tasks behind them fail.
        # A rollout runs one more replica beside the others (maxSurge 1).
        most = limits.rds_max_connections_estimate(self.instance_class) - DIRECT_CONNECTIONS
        pods = pooler.replicas + 1
        if pooler.enabled and pods * pooler.pool_size > most:
            issues.append(ConfigIssue(
                "pgbouncer.poolSize", pooler.pool_size,
                f"at most {max(1, most // pods)} with {pooler.replicas} replicas (and one more while they roll): "
                f"{self.instance_class} takes about {most + DIRECT_CONNECTIONS} connections, {DIRECT_CONNECTIONS} of "
                "them kept for direct ones (or a larger database.instanceClass)"))
        raise_if(issues)
        return self

    def check_protected(self) -> list[ConfigIssue]:
        """Protected (production) stacks keep their database connections through a node's loss."""
        pooler = self.pgbouncer
        if pooler.enabled and pooler.replicas < 2:
            return [ConfigIssue("database.pgbouncer.replicas", pooler.replicas, "2 or more while protectData is true")]
        return []

    def resolved(self, protect: bool) -> "DatabaseSettings":
        """Unset Multi-AZ, Performance Insights and Enhanced Monitoring resolved for a protected stack or not."""
        insights = protect and not limits.RDS_PI_UNSUPPORTED.match(self.instance_class)
        return self.model_copy(
            update={
                "multi_az": protect if self.multi_az is None else self.multi_az,
                "performance_insights": insights if self.performance_insights is None else self.performance_insights,
                "monitoring_interval_seconds": (60 if protect else 0)
                if self.monitoring_interval_seconds is None
                else self.monitoring_interval_seconds,
            }
        )
