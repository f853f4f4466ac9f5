"""`database` (self-managed): the RDS PostgreSQL instance holding Airflow's metadata."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import field_validator, model_validator

from stackconfig import limits
from stackconfig.errors import ConfigIssue
from stackconfig.section import Section, raise_if, retention_issues as _retention, within

PostgresVersion = Literal[limits.POSTGRES_VERSIONS]  # type: ignore[valid-type]


class DatabaseSettings(Section):
    """The RDS PostgreSQL instance holding Airflow's metadata. Unset Multi-AZ follows `protectData`."""

    postgres_version: PostgresVersion = "16"
    instance_class: str = "db.t4g.medium"
    allocated_storage_gb: int = 20
    # Storage autoscaling grows the volume up to this size; equal to allocatedStorageGb turns it off.
    max_allocated_storage_gb: int = 100
    multi_az: Optional[bool] = None
    backup_retention_days: int = 7
    log_retention_days: int = 30
    # Performance Insights, encrypted with the stack's key when it has one; unset: on in protected stacks where
    # the instance class offers it.
    performance_insights: Optional[bool] = None
    performance_insights_retention_days: int = 7
    # Enhanced Monitoring (OS metrics every N seconds) through a role of its own; unset: 60 in protected stacks, else 0.
    monitoring_interval_seconds: Optional[int] = None

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
        raise_if(issues)
        return self

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
