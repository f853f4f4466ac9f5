"""Settings of the self-managed flavour: the EKS cluster and its nodes, the metadata database, the image registry
and the task-log bucket. Each has defaults that deploy; rules that depend on `protectData` live in `Settings`."""

from __future__ import annotations

import ipaddress
import math
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from stackconfig import limits
from stackconfig.errors import UNSET, ConfigIssue
from stackconfig.section import Section, raise_if

EksVersion = Literal[limits.EKS_VERSIONS]  # type: ignore[valid-type]
EksLogType = Literal[limits.EKS_LOG_TYPES]  # type: ignore[valid-type]
PostgresVersion = Literal[limits.POSTGRES_VERSIONS]  # type: ignore[valid-type]


def _retention(key: str, value: int) -> list[ConfigIssue]:
    if value in limits.LOG_RETENTION_DAYS:
        return []
    return [ConfigIssue(key, value, f"one of CloudWatch's retention periods: {', '.join(map(str, limits.LOG_RETENTION_DAYS))}")]


def within(key: str, value: int, bounds: tuple[int, int], unit: str = "") -> list[ConfigIssue]:
    low, high = bounds
    if low <= value <= high:
        return []
    return [ConfigIssue(key, value, f"{low} to {high}{unit}")]


class ClusterSettings(Section):
    """The EKS cluster, its managed node group, and the namespace Airflow runs in."""

    kubernetes_version: EksVersion = "1.34"
    # `pulumi up` talks to the API server to deploy Airflow: a private-only endpoint needs a runner inside the VPC.
    endpoint_public_access: bool = True
    public_access_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"])
    log_types: list[EksLogType] = Field(default_factory=lambda: ["api", "audit", "authenticator"])
    log_retention_days: int = 30
    # IAM users or roles (a CI role, an SSO role) given cluster-admin besides whoever creates the cluster.
    admin_principal_arns: list[str] = Field(default_factory=list)
    node_instance_types: list[str] = Field(default_factory=lambda: ["m6i.large"])
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_nodes: int = 2
    desired_nodes: int = 2
    max_nodes: int = 6
    node_disk_size_gb: int = 50
    namespace: str = "airflow"

    @model_validator(mode="after")
    def _check(self) -> "ClusterSettings":
        issues: list[ConfigIssue] = []
        issues += self._check_nodes()
        issues += self._check_endpoint()
        if not limits.K8S_NAME.match(self.namespace) or self.namespace.startswith("kube-"):
            issues.append(
                ConfigIssue("namespace", self.namespace, "a Kubernetes name: 1-63 lower-case letters, digits and '-', not kube-*")
            )
        if len(set(self.log_types)) != len(self.log_types):
            issues.append(ConfigIssue("logTypes", self.log_types, "each log type once"))
        issues += _retention("logRetentionDays", self.log_retention_days)
        for i, principal in enumerate(self.admin_principal_arns):
            if not limits.IAM_PRINCIPAL_ARN.match(principal):
                issues.append(
                    ConfigIssue(
                        f"adminPrincipalArns[{i}]",
                        principal,
                        "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
                    )
                )
        raise_if(issues)
        return self

    def _check_nodes(self) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        types = self.node_instance_types
        if not types or len(set(types)) != len(types):
            issues.append(ConfigIssue("nodeInstanceTypes", types, "one or more different EC2 instance types"))
        if self.capacity_type == "SPOT" and len(types) < 2:
            issues.append(
                ConfigIssue("nodeInstanceTypes", types, "two or more types with capacityType SPOT, so that Spot capacity is found")
            )
        sizes = {name.split(".", 1)[-1] for name in types}
        if len(sizes) > 1:
            issues.append(
                ConfigIssue(
                    "nodeInstanceTypes",
                    types,
                    "types of one size (e.g. m6i.large and m7i.large): the Cluster Autoscaler sizes a node group by one type",
                )
            )
        for i, name in enumerate(types):
            if not limits.EC2_INSTANCE_TYPE.match(name):
                issues.append(ConfigIssue(f"nodeInstanceTypes[{i}]", name, "an EC2 instance type such as m6i.large"))
            elif limits.ARM_INSTANCE_FAMILY.match(name):
                issues.append(
                    ConfigIssue(f"nodeInstanceTypes[{i}]", name, "an x86_64 instance type: the Airflow image is built for linux/amd64")
                )
        bounds = (1, limits.EKS_MAX_NODES)
        issues += within("minNodes", self.min_nodes, bounds)
        issues += within("maxNodes", self.max_nodes, bounds)
        if not issues and not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            issues.append(
                ConfigIssue(
                    "desiredNodes",
                    self.desired_nodes,
                    f"from cluster.minNodes ({self.min_nodes}) to cluster.maxNodes ({self.max_nodes})",
                )
            )
        issues += within("nodeDiskSizeGb", self.node_disk_size_gb, limits.NODE_DISK_GB, " GiB")
        return issues

    def check_protected(self) -> list[ConfigIssue]:
        """A protected stack's API server is never open to the whole internet by default: the ranges are chosen."""
        if not self.endpoint_public_access:
            return []
        if not self._is_set("public_access_cidrs"):
            return [
                ConfigIssue(
                    "cluster.publicAccessCidrs",
                    UNSET,
                    "set while protectData is true: the IPv4 ranges of the runners and people who reach the Kubernetes "
                    "API (pulumi config set --path 'cluster.publicAccessCidrs[0]' 203.0.113.0/24), or "
                    "cluster.endpointPublicAccess false for a private endpoint",
                )
            ]
        return []

    @property
    def open_to_the_internet(self) -> bool:
        return self.endpoint_public_access and any(text.endswith("/0") for text in self.public_access_cidrs)

    def _check_endpoint(self) -> list[ConfigIssue]:
        issues = []
        if not self.public_access_cidrs:
            issues.append(ConfigIssue("publicAccessCidrs", [], "one or more IPv4 ranges, e.g. [203.0.113.0/24]"))
        for i, text in enumerate(self.public_access_cidrs):
            try:
                ipaddress.IPv4Network(text, strict=True)
            except ValueError as err:
                issues.append(ConfigIssue(f"publicAccessCidrs[{i}]", text, f"an IPv4 range such as 203.0.113.0/24 ({err})"))
        if not self.endpoint_public_access and self._is_set("public_access_cidrs"):
            issues.append(
                ConfigIssue("publicAccessCidrs", self.public_access_cidrs, "only with cluster.endpointPublicAccess true")
            )
        return issues


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

    def with_defaults(self, protect: bool) -> "DatabaseSettings":
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


class RegistrySettings(Section):
    """The ECR repository of the Airflow image."""

    keep_images: int = 20

    @model_validator(mode="after")
    def _check(self) -> "RegistrySettings":
        raise_if(within("keepImages", self.keep_images, limits.ECR_KEEP_IMAGES))
        return self


class TaskLogSettings(Section):
    """The bucket task logs are shipped to, so they outlive the worker pods."""

    retention_days: int = 90

    @model_validator(mode="after")
    def _check(self) -> "TaskLogSettings":
        raise_if(within("retentionDays", self.retention_days, limits.S3_EXPIRY_DAYS, " days"))
        return self


SELF_MANAGED_SECTIONS = tuple(to_camel(name) for name in ("cluster", "database", "registry", "task_logs"))

IMAGE_DIR = "docker"
CONSTRAINTS_FILE = f"{IMAGE_DIR}/constraints.txt"


def image_airflow_version(project_dir: Path) -> Optional[str]:
    """The Airflow version docker/constraints.txt was resolved for (its `# airflow-version:` line)."""
    path = project_dir / CONSTRAINTS_FILE
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("# airflow-version:"):
            return line.split(":", 1)[1].strip()
    return None


def check_self_managed(
    *, airflow_version: str, database: DatabaseSettings, nat_gateways: Optional[str], protect: bool, project_dir: Optional[Path]
) -> list[ConfigIssue]:
    """The rules the self-managed flavour adds to the shared keys."""
    issues = []
    if project_dir is not None:
        pinned = image_airflow_version(project_dir)
        if pinned is None:
            issues.append(ConfigIssue("airflow.version", airflow_version, f"a version {CONSTRAINTS_FILE} is resolved for; that file is missing"))
        elif pinned != airflow_version:
            issues.append(
                ConfigIssue(
                    "airflow.version",
                    airflow_version,
                    f"{pinned}, the version {CONSTRAINTS_FILE} pins (or run make image-constraints AIRFLOW_VERSION={airflow_version})",
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
