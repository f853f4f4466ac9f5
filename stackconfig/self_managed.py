"""Settings of the self-managed flavour that have no section of their own (the image registry, the task-log bucket),
and the rules the flavour adds to the shared keys. `cluster` and `database` are in modules of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import model_validator

from stackconfig import limits
from stackconfig.errors import ConfigIssue
from stackconfig.section import Section, raise_if, within
from stackconfig.cluster import ClusterSettings
from stackconfig.database import DatabaseSettings
from stackconfig.project_files import CONSTRAINTS_DIR, offered_image_versions

__all__ = ["ClusterSettings", "DatabaseSettings", "RegistrySettings", "TaskLogSettings", "check_self_managed"]


class RegistrySettings(Section):
    """The ECR repository of the Airflow image."""

    keep_images: int = 20
    """1-10000: the lifecycle policy expires older images. Tags are immutable except `<airflow.version>-*`, the ones
    the program pushes: a revert of a `docker/` change pushes an earlier tag again, and pods pin the digest anyway
    """

    @model_validator(mode="after")
    def _check(self) -> "RegistrySettings":
        raise_if(within("keepImages", self.keep_images, limits.ECR_KEEP_IMAGES))
        return self


class TaskLogSettings(Section):
    """The bucket task logs are shipped to, so they outlive the worker pods."""

    retention_days: int = 90
    """1-3650: logs expire after this many days"""

    @model_validator(mode="after")
    def _check(self) -> "TaskLogSettings":
        raise_if(within("retentionDays", self.retention_days, limits.S3_EXPIRY_DAYS, " days"))
        return self



def check_self_managed(
    *, airflow_version: str, database: DatabaseSettings, nat_gateways: Optional[str], protect: bool, project_dir: Optional[Path]
) -> list[ConfigIssue]:
    """The rules the self-managed flavour adds to the shared keys."""
    issues = []
    if project_dir is not None:
        offered = offered_image_versions(project_dir)
        if airflow_version not in offered:
            issues.append(
                ConfigIssue(
                    "airflow.version",
                    airflow_version,
                    f"a version the image is offered for: {', '.join(offered) or 'none'} (each has its pins in "
                    f"{CONSTRAINTS_DIR}/; make image-constraints AIRFLOW_VERSION={airflow_version} adds one)",
                )
            )
    if nat_gateways == "none":
        issues.append(
            ConfigIssue(
                "network.natGateways",
                nat_gateways,
                "single or perAz with flavour self-managed: nodes join EKS, pull images from ECR and public "
                "registries (registry.k8s.io) and assume IRSA roles through the NAT gateway",
            )
        )
    if protect and database.backup_retention_days < limits.PROTECTED_MIN_BACKUP_DAYS:
        issues.append(
            ConfigIssue(
                "database.backupRetentionDays",
                database.backup_retention_days,
                f"at least {limits.PROTECTED_MIN_BACKUP_DAYS} days while protectData is true",
            )
        )
    return issues
