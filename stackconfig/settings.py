"""The typed stack settings: the top-level keys and every section. Field names are snake_case in Python and
camelCase in `pulumi config set`.

Field-level rules live on the fields; rules that relate fields live in `after` validators that raise
`ConfigIssues`, so that every problem of every section is reported in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import Field, ValidationInfo, model_validator

from stackconfig import limits
from stackconfig.errors import UNSET, ConfigIssue
from stackconfig.section import Section as _Section, context as _context, raise_if as _raise_if
from stackconfig.airflow import AirflowSettings, SecretPrefixes
from stackconfig.airflow_options import secrets_backend_options
from stackconfig.monitoring import MonitoringSettings
from stackconfig.mwaa import MwaaSettings
from stackconfig.network import NetworkSettings
from stackconfig.project_files import IMAGE_DIR
from stackconfig.self_managed import (
    ClusterSettings,
    DatabaseSettings,
    RegistrySettings,
    TaskLogSettings,
    check_self_managed,
)
from stackconfig.sso import SsoSettings
from stackconfig.workloads import WorkloadSettings


@dataclass(frozen=True)
class ProjectFiles:
    """The project's files a stack delivers, as paths; None where a stack delivers none."""

    dags_dir: Path
    build_dir: Path
    requirements_file: Optional[Path]
    plugins_dir: Optional[Path]
    startup_script: Optional[Path]
    docker_dir: Path
    # Self-managed: the plugins folder the image carries (every component and worker pod runs the image).
    image_plugins_dir: Optional[Path] = None


class AccessLogSettings(_Section):
    """S3 server access logs of the DAG and task-log buckets, into a bucket of their own that expires them."""

    # Unset follows protectData.
    enabled: Optional[bool] = None
    """Unset: `protectData`. into a private, TLS-only bucket of their own (`<environmentName>-access-logs-bucket-*`,
    SSE-S3: S3 delivers access logs only into such buckets), one prefix per bucket
    """
    retention_days: int = 365
    """1-3650: access logs expire after this many days"""

    @model_validator(mode="after")
    def _check(self) -> "AccessLogSettings":
        low, high = limits.S3_EXPIRY_DAYS
        if not low <= self.retention_days <= high:
            _raise_if([ConfigIssue("retentionDays", self.retention_days, f"{low} to {high} days")])
        return self


class Settings(_Section):
    """Everything one stack deploys. Built by `stackconfig.load`; components get parts of it, never raw config."""

    stack: str = Field(exclude=True)
    project: str = Field(exclude=True)
    region: str = Field(exclude=True)
    # The top-level keys set with --secret (some value under them is secret).
    secret_keys: frozenset[str] = Field(default=frozenset(), exclude=True)
    flavour: Literal["managed", "self-managed"] = "managed"
    """`managed` (Amazon MWAA) or `self-managed` (Airflow on EKS)"""
    environment_name: Optional[str] = None
    """Unset: `airflow-<stack>`. 2-32 lower-case letters, digits and single `-`, a letter first: the MWAA environment's
    or EKS cluster's name and the prefix of every resource, so it must suit S3 bucket, RDS and IAM names
    (create-only: changing it replaces the environment)
    """
    protect_data: bool = True
    """`true`: buckets, database and KMS key are `protect`ed and kept by `pulumi destroy`, the database and cluster get
    deletion protection, the database a final snapshot, Multi-AZ (unless `database.multiAz` says otherwise) and at
    least 7 days of backups, secrets a 7-day recovery window; `false`: destroy removes them
    """
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    """a new VPC (the default) from the new-VPC keys, or an existing one from the existing-VPC keys below"""
    airflow: AirflowSettings = Field(default_factory=AirflowSettings)
    """the Airflow both flavours run: its version and options, where Variables and Connections live, the project's
    DAG, requirements and plugin files
    """
    mwaa: MwaaSettings = Field(default_factory=MwaaSettings)
    """the managed flavour's environment; ignored by the self-managed flavour."""
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    """the self-managed flavour's EKS cluster and nodes."""
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    """the self-managed flavour's RDS PostgreSQL metadata database."""
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    """the self-managed flavour's ECR repository."""
    task_logs: TaskLogSettings = Field(default_factory=TaskLogSettings)
    """the self-managed flavour's task-log bucket (worker pods are deleted after their task; their logs stay
    here).
    """
    workloads: WorkloadSettings = Field(default_factory=WorkloadSettings)
    """the self-managed flavour's Airflow processes on the cluster."""
    access_logs: AccessLogSettings = Field(default_factory=AccessLogSettings)
    """S3 server access logs of the DAG bucket and the task-log bucket."""
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    """CloudWatch alarms, their SNS topic and its subscribers, and the stack's dashboard (both flavours)."""
    sso: SsoSettings = Field(default_factory=SsoSettings)
    """the self-managed UI's single sign-on through an OpenID Connect provider."""
    # The permissions boundary every IAM role of the stack carries: none, the bootstrap's (bootstrap), or a policy ARN.
    permissions_boundary: str = "none"
    """the permissions boundary every IAM role of the stack carries (the execution role, the IRSA, node, autoscaler,
    monitoring and flow-log roles, and pulumi-eks's cluster role): `none`; `bootstrap`, the boundary `bootstrap/`
    creates for this environment (`pulumi-boundary-<environmentName>`), the only one under which its deploy role may
    create roles, so run the bootstrap first; or the ARN of your own customer managed policy. The program checks
    that it exists before it creates anything. Deploying by hand without the bootstrap: `pulumi config set
    permissionsBoundary none` (the shipped stack files: `bootstrap`)
    """
    tags: dict[str, Any] = Field(default_factory=dict)
    """at most 7 tags: they land on every resource, DAG objects included, and S3 objects take 10 (the project adds
    `project`, `stack`, `managed-by`); keys 1-128 chars not starting `aws:`, values at most 256
    """

    @property
    def managed(self) -> bool:
        return self.flavour == "managed"

    @property
    def name(self) -> str:
        """The environment's name: MWAA's environment name and the prefix of every resource name."""
        return self.environment_name or f"airflow-{self.stack}"

    @property
    def secret_prefixes(self) -> SecretPrefixes:
        configured = self.airflow.secrets
        return SecretPrefixes(
            connections=configured.connections_prefix or f"{self.name}/connections",
            variables=configured.variables_prefix or f"{self.name}/variables",
        )

    @property
    def secrets_backend(self) -> dict[str, Optional[str]]:
        """The arguments of `stackconfig.airflow_options.secrets_backend_options`."""
        prefixes = self.secret_prefixes
        return {
            "connections_prefix": prefixes.connections,
            "variables_prefix": prefixes.variables,
            "connections_lookup_pattern": self.airflow.secrets.connections_lookup_pattern,
            "variables_lookup_pattern": self.airflow.secrets.variables_lookup_pattern,
        }

    def files(self, project_dir: Path) -> ProjectFiles:
        airflow = self.airflow
        plugins = project_dir / airflow.plugins_dir if airflow.plugins_dir else None
        return ProjectFiles(
            dags_dir=project_dir / airflow.dags_dir,
            build_dir=project_dir / ".build" / self.stack,
            # MWAA installs requirements and plugins from the bucket; the self-managed image carries its packages
            # (docker/requirements.txt), so that flavour delivers DAG files only.
            requirements_file=project_dir / airflow.requirements_file if self.managed and airflow.requirements_file else None,
            plugins_dir=plugins if self.managed and plugins is not None and plugins.is_dir() else None,
            startup_script=project_dir / self.mwaa.startup_script if self.managed and self.mwaa.startup_script else None,
            docker_dir=project_dir / IMAGE_DIR,
            image_plugins_dir=plugins if not self.managed and plugins is not None and plugins.is_dir() else None,
        )

    @property
    def resource_tags(self) -> dict[str, str]:
        return {**{k: str(v) for k, v in self.tags.items()}, "project": self.project, "stack": self.stack, "managed-by": "pulumi"}

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "Settings":
        if self.airflow.version is None:
            version = limits.DEFAULT_AIRFLOW_VERSION[self.flavour]
            object.__setattr__(self, "airflow", self.airflow.model_copy(update={"version": version}))
        issues: list[ConfigIssue] = []
        project_dir = _context(info).get("project_dir")
        if not self.managed:
            issues += check_self_managed(
                airflow_version=self.airflow.version,
                database=self.database,
                nat_gateways=None if self.network.existing else self.network.nat_gateways,
                protect=self.protect_data,
                project_dir=project_dir,
            )
            if self.protect_data:
                issues += self.workloads.check_protected()
                issues += self.cluster.check_protected()
                issues += self.database.check_protected()
        if not limits.ENVIRONMENT_NAME.match(self.name):
            issues.append(
                ConfigIssue(
                    "environmentName",
                    self.name,
                    "2-32 lower-case letters, digits and single '-', a letter first and no '-' last "
                    "(it prefixes bucket, database and role names)",
                )
            )
        if self.managed and self.airflow.version not in limits.MWAA_AIRFLOW_VERSIONS:
            issues.append(
                ConfigIssue(
                    "airflow.version",
                    self.airflow.version,
                    f"a version MWAA runs: {', '.join(limits.MWAA_AIRFLOW_VERSIONS)}",
                )
            )
        if self.managed:
            issues += self.airflow.check_constraint_line(project_dir)
            issues += self._check_access_mode()
        issues += self._check_region()
        issues += self._check_tags()
        if self.permissions_boundary not in ("none", "bootstrap") and not limits.IAM_POLICY_ARN.match(self.permissions_boundary):
            issues.append(
                ConfigIssue(
                    "permissionsBoundary",
                    self.permissions_boundary,
                    "none, bootstrap (the boundary bootstrap/ creates for this environment: run it first), or the ARN "
                    "of a customer managed policy such as arn:aws:iam::123456789012:policy/airflow-boundary",
                )
            )
        issues += self._check_secret_seeds(self.secret_keys)
        issues += self.sso.check_deployment(managed=self.managed, hostname=self.workloads.webserver_hostname,
                                            certificate=self.workloads.webserver_certificate_arn,
                                            secret="sso" in self.secret_keys)
        if not issues:
            issues += self.airflow.check_seeds(self.secret_prefixes)
            issues += self._check_backend_options()
        _raise_if(issues)
        # The defaults that follow protectData, resolved once: readers get the numbers, not a rule to remember.
        object.__setattr__(self, "database", self.database.resolved(self.protect_data))
        object.__setattr__(self, "workloads", self.workloads.resolved(self.protect_data))
        protect = self.protect_data
        if self.network.flow_logs is None:
            object.__setattr__(self, "network", self.network.model_copy(update={"flow_logs": protect}))
        if self.access_logs.enabled is None:
            object.__setattr__(self, "access_logs", self.access_logs.model_copy(update={"enabled": protect}))
        return self

    def _check_access_mode(self) -> list[ConfigIssue]:
        since = limits.MWAA_PUBLIC_AND_PRIVATE_FROM
        version = self.airflow.version or ""
        if self.mwaa.webserver_access_mode != "PUBLIC_AND_PRIVATE" or not version[:1].isdigit():
            return []
        if tuple(int(p) for p in version.split(".")[:2]) >= since:
            return []
        return [
            ConfigIssue(
                "mwaa.webserverAccessMode",
                "PUBLIC_AND_PRIVATE",
                f"PRIVATE_ONLY or PUBLIC_ONLY: MWAA offers PUBLIC_AND_PRIVATE from Airflow {since[0]}.{since[1]} "
                f"(airflow.version is {version})",
            )
        ]

    def _check_backend_options(self) -> list[ConfigIssue]:
        options = secrets_backend_options(**self.secrets_backend)
        kwargs = options["secrets.backend_kwargs"]
        if len(kwargs) > limits.CONFIG_OPTION_VALUE_MAX:
            return [
                ConfigIssue(
                    "airflow.secrets",
                    kwargs,
                    f"prefixes and lookup patterns that fit secrets.backend_kwargs in "
                    f"{limits.CONFIG_OPTION_VALUE_MAX} characters (now {len(kwargs)})",
                )
            ]
        return []

    def _check_region(self) -> list[ConfigIssue]:
        issues = []
        if not limits.REGION.match(self.region or ""):
            return [ConfigIssue("aws:region", self.region or UNSET, "an AWS Region such as eu-west-1 (pulumi config set aws:region eu-west-1)")]
        for i, zone in enumerate(self.network.availability_zones or []):
            if limits.AVAILABILITY_ZONE.match(zone) and not zone.startswith(self.region):
                issues.append(ConfigIssue(f"network.availabilityZones[{i}]", zone, f"a zone of aws:region {self.region}"))
        key_region = self.mwaa.kms_key_region
        if key_region is not None and key_region != self.region:
            issues.append(ConfigIssue("mwaa.kmsKey", self.mwaa.kms_key, f"a key in aws:region {self.region}"))
        return issues

    def _check_tags(self) -> list[ConfigIssue]:
        issues = []
        room = limits.USER_TAGS_MAX
        if len(self.tags) > room:
            issues.append(
                ConfigIssue(
                    "tags",
                    f"{len(self.tags)} tags",
                    f"at most {room}: every resource gets them, S3 objects (the DAG files) take at most "
                    f"{limits.TAGS_MAX_BY_TYPE['aws:s3/bucketObjectv2:BucketObjectv2']} tags and the project adds "
                    f"{len(limits.PROJECT_TAG_KEYS)} ({', '.join(limits.PROJECT_TAG_KEYS)})",
                )
            )
        for key, value in self.tags.items():
            item = f"tags.{key}"
            if key in limits.PROJECT_TAG_KEYS:
                issues.append(ConfigIssue(item, value, "a key of your own; this project sets it"))
            elif key.lower().startswith("aws:") or not limits.TAG_KEY.match(key):
                issues.append(ConfigIssue(item, value, "a key of 1-128 letters, digits, spaces and _.:/=+-@, not starting with aws:"))
            if not isinstance(value, (str, int, float)) or len(str(value)) > limits.TAG_VALUE_MAX:
                issues.append(ConfigIssue(item, value, f"a text of at most {limits.TAG_VALUE_MAX} characters"))
        return issues

    def _check_secret_seeds(self, secret_keys: frozenset[str]) -> list[ConfigIssue]:
        if "airflow" in secret_keys:
            return []
        issues = []
        for field in ("variables", "connections"):
            for name in getattr(self.airflow, field):
                issues.append(
                    ConfigIssue(
                        f"airflow.{field}.{name}",
                        "[hidden]",
                        f"a secret: pulumi config set --secret --path 'airflow.{field}.{name}' <value>",
                    )
                )
        return issues
