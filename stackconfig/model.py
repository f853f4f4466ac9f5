"""The typed stack settings. Field names are snake_case in Python and camelCase in `pulumi config set`.

Field-level rules live on the fields; rules that relate fields live in `after` validators that raise
`ConfigIssues`, so that every problem of every section is reported in one go.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from stackconfig.airflow_options import secrets_backend_options
from stackconfig import limits
from stackconfig.errors import UNSET, ConfigIssue
from stackconfig.section import Section as _Section, context as _context, raise_if as _raise_if
from stackconfig.workloads import WorkloadSettings
from stackconfig.self_managed import (
    ClusterSettings,
    DatabaseSettings,
    RegistrySettings,
    TaskLogSettings,
    IMAGE_DIR,
    check_self_managed,
)


# --------------------------------------------------------------------------------------------------------- network


class NetworkSettings(_Section):
    """Either a new VPC (cidr, availabilityZones, natGateways) or an existing one (vpcId, privateSubnetIds)."""

    cidr: str = "10.0.0.0/16"
    availability_zones: Optional[list[str]] = None
    nat_gateways: Literal["single", "perAz", "none"] = "single"
    private_subnet_cidrs: Optional[list[str]] = None
    public_subnet_cidrs: Optional[list[str]] = None
    vpc_id: Optional[str] = None
    private_subnet_ids: Optional[list[str]] = None
    # VPC flow logs (all traffic) to a CloudWatch log group, for a new or an existing VPC; unset follows protectData.
    flow_logs: Optional[bool] = None
    flow_log_retention_days: int = 90

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None

    @property
    def az_count(self) -> int:
        return len(self.availability_zones) if self.availability_zones else 2

    @model_validator(mode="after")
    def _check(self) -> "NetworkSettings":
        issues: list[ConfigIssue] = []
        if self.existing:
            issues += self._check_existing()
        else:
            issues += self._check_new()
        if self.flow_log_retention_days not in limits.LOG_RETENTION_DAYS:
            issues.append(
                ConfigIssue(
                    "flowLogRetentionDays",
                    self.flow_log_retention_days,
                    f"one of CloudWatch's retention periods: {', '.join(map(str, limits.LOG_RETENTION_DAYS))}",
                )
            )
        _raise_if(issues)
        return self

    def _check_existing(self) -> list[ConfigIssue]:
        issues = []
        if not limits.VPC_ID.match(self.vpc_id or ""):
            issues.append(ConfigIssue("vpcId", self.vpc_id, "a VPC id like vpc-0123456789abcdef0"))
        ids = self.private_subnet_ids
        if ids is None:
            issues.append(ConfigIssue("privateSubnetIds", UNSET, "required with vpcId: two private subnet ids"))
        elif len(ids) != 2 or len(set(ids)) != 2:
            issues.append(
                ConfigIssue("privateSubnetIds", ids, "exactly two different private subnets (MWAA takes two)")
            )
        else:
            for i, subnet in enumerate(ids):
                if not limits.SUBNET_ID.match(subnet):
                    issues.append(ConfigIssue(f"privateSubnetIds[{i}]", subnet, "a subnet id like subnet-0abc1234"))
        for name in ("cidr", "availability_zones", "nat_gateways", "private_subnet_cidrs", "public_subnet_cidrs"):
            if self._is_set(name):
                issues.append(
                    ConfigIssue(
                        to_camel(name),
                        getattr(self, name),
                        "only for a new VPC; remove it when network.vpcId adopts an existing VPC",
                    )
                )
        return issues

    def _check_new(self) -> list[ConfigIssue]:
        issues = []
        if self.private_subnet_ids is not None:
            issues.append(
                ConfigIssue("privateSubnetIds", self.private_subnet_ids, "only with network.vpcId (an existing VPC)")
            )
        try:
            vpc = ipaddress.IPv4Network(self.cidr, strict=True)
        except ValueError as err:
            issues.append(ConfigIssue("cidr", self.cidr, f"an IPv4 network such as 10.0.0.0/16 ({err})"))
            vpc = None
        if vpc is not None and not 16 <= vpc.prefixlen <= 24:
            issues.append(ConfigIssue("cidr", self.cidr, "a prefix from /16 to /24 (room for the subnets)"))
            vpc = None
        zones = self.availability_zones
        if zones is not None:
            if not 2 <= len(zones) <= 3 or len(set(zones)) != len(zones):
                issues.append(ConfigIssue("availabilityZones", zones, "two or three different zones"))
            for i, zone in enumerate(zones):
                if not limits.AVAILABILITY_ZONE.match(zone):
                    issues.append(ConfigIssue(f"availabilityZones[{i}]", zone, "a zone name such as eu-west-1a"))
        issues += self._check_subnet_cidrs(vpc)
        return issues

    def _check_subnet_cidrs(self, vpc: Optional[ipaddress.IPv4Network]) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for field in ("private_subnet_cidrs", "public_subnet_cidrs"):
            cidrs = getattr(self, field)
            if cidrs is None:
                continue
            key = to_camel(field)
            if len(cidrs) != self.az_count:
                issues.append(ConfigIssue(key, cidrs, f"one CIDR per availability zone ({self.az_count})"))
            for i, text in enumerate(cidrs):
                item = f"{key}[{i}]"
                try:
                    net = ipaddress.IPv4Network(text, strict=True)
                except ValueError as err:
                    issues.append(ConfigIssue(item, text, f"an IPv4 network such as 10.0.0.0/19 ({err})"))
                    continue
                if net.prefixlen > 28:
                    issues.append(ConfigIssue(item, text, "a prefix of /28 or larger (AWS's smallest subnet)"))
                if vpc is not None and not net.subnet_of(vpc):
                    issues.append(ConfigIssue(item, text, f"a range inside network.cidr {vpc}"))
                for other_key, other in seen:
                    if net.overlaps(other):
                        issues.append(
                            ConfigIssue(item, text, f"a range that does not overlap network.{other_key} ({other})")
                        )
                seen.append((item, net))
        return issues

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """The private and public subnet CIDRs: as configured, or carved from the VPC range.

        The VPC range is cut into eight equal blocks: private subnets take the first ones (where the workers and
        the database live, and the addresses run out first), public subnets the last ones.
        """
        blocks = list(ipaddress.IPv4Network(self.cidr).subnets(prefixlen_diff=3))
        n = self.az_count
        private = self.private_subnet_cidrs or [str(b) for b in blocks[:n]]
        public = self.public_subnet_cidrs or [str(b) for b in blocks[4 : 4 + n]]
        return list(private), list(public)


# --------------------------------------------------------------------------------------------------------- airflow


_PREFIX = re.compile(r"^[A-Za-z0-9_+=.@\-]+(/[A-Za-z0-9_+=.@\-]+)*$")
_SECTION_OPTION = re.compile(r"^[a-z0-9_]+\.[a-z0-9_.]+$")
_URI = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
RESERVED_OPTIONS = ("secrets.backend", "secrets.backend_kwargs")


class SecretsBackendSettings(_Section):
    """Where Airflow looks up Variables and Connections in AWS Secrets Manager.

    The prefixes default to `<environmentName>/connections` and `<environmentName>/variables` (see
    `Settings.secret_prefixes`), so that two stacks in one account never share or overwrite each other's secrets.
    """

    connections_prefix: Optional[str] = None
    variables_prefix: Optional[str] = None
    connections_lookup_pattern: Optional[str] = None
    variables_lookup_pattern: Optional[str] = None

    @model_validator(mode="after")
    def _check(self) -> "SecretsBackendSettings":
        issues = []
        for field in ("connections_prefix", "variables_prefix"):
            value = getattr(self, field)
            if value is not None and not _PREFIX.match(value):
                issues.append(
                    ConfigIssue(
                        to_camel(field),
                        value,
                        "a Secrets Manager name prefix: letters, digits and _+=.@- in parts separated by '/', "
                        "no leading or trailing '/'",
                    )
                )
        if self.connections_prefix is not None and self.connections_prefix == self.variables_prefix:
            issues.append(
                ConfigIssue("variablesPrefix", self.variables_prefix, "a prefix different from connectionsPrefix")
            )
        for field in ("connections_lookup_pattern", "variables_lookup_pattern"):
            value = getattr(self, field)
            if value is None:
                continue
            try:
                re.compile(value)
            except re.error as err:
                issues.append(ConfigIssue(to_camel(field), value, f"a valid regular expression ({err})"))
        _raise_if(issues)
        return self


class AirflowSettings(_Section):
    version: str = "2.9.2"
    configuration_options: dict[str, Any] = Field(default_factory=dict)
    secrets: SecretsBackendSettings = Field(default_factory=SecretsBackendSettings)
    variables: dict[str, SecretStr] = Field(default_factory=dict)
    connections: dict[str, SecretStr] = Field(default_factory=dict)
    dags_dir: str = "dags"
    requirements_file: str = "airflow-requirements.txt"
    plugins_dir: str = "plugins"

    @field_validator("configuration_options", mode="before")
    @classmethod
    def _options_as_text(cls, value: Any) -> Any:
        # `pulumi config set --path` stores numbers and booleans as such; Airflow reads text.
        if isinstance(value, dict):
            return {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "AirflowSettings":
        issues: list[ConfigIssue] = []
        issues += self._check_options()
        issues += self._check_files(_context(info).get("project_dir"))
        _raise_if(issues)
        return self

    def _check_options(self) -> list[ConfigIssue]:
        issues = []
        for key, value in self.configuration_options.items():
            item = f'configurationOptions."{key}"'
            if key in RESERVED_OPTIONS:
                issues.append(ConfigIssue(item, value, "set by this project; use airflow.secrets.* instead"))
                continue
            if (
                len(key) > limits.CONFIG_OPTION_KEY_MAX
                or not limits.CONFIG_OPTION_KEY.match(key)
                or not _SECTION_OPTION.match(key)
            ):
                issues.append(
                    ConfigIssue(
                        item,
                        value,
                        "a key 'section.option' of lower-case letters, digits, '_' and '.', "
                        f"at most {limits.CONFIG_OPTION_KEY_MAX} characters",
                    )
                )
            if not isinstance(value, (str, int, float)):
                issues.append(ConfigIssue(item, value, "a text, number or boolean value"))
            elif len(str(value)) > limits.CONFIG_OPTION_VALUE_MAX or not limits.PRINTABLE_ASCII.match(str(value)):
                issues.append(
                    ConfigIssue(item, value, f"printable ASCII, at most {limits.CONFIG_OPTION_VALUE_MAX} characters")
                )
        return issues

    def check_seeds(self, prefixes: "SecretPrefixes") -> list[ConfigIssue]:
        issues = []
        for field, prefix in (("variables", prefixes.variables), ("connections", prefixes.connections)):
            for name, secret in getattr(self, field).items():
                item = f"airflow.{field}.{name}"
                full = f"{prefix}/{name}"
                if not limits.SECRET_NAME_CHARS.match(name) or len(full) > limits.SECRET_NAME_MAX:
                    issues.append(
                        ConfigIssue(
                            item,
                            "[secret]",
                            f"a name of letters, digits and _+=.@-/ that keeps '{prefix}/<name>' within "
                            f"{limits.SECRET_NAME_MAX} characters",
                        )
                    )
                value = secret.get_secret_value()
                if not value:
                    issues.append(ConfigIssue(item, "[secret]", "a non-empty value"))
                elif field == "connections" and not (_URI.match(value) or _is_json_object(value)):
                    issues.append(
                        ConfigIssue(
                            item,
                            "[secret]",
                            "a connection URI such as postgres://user:password@host:5432/db, or a JSON object",
                        )
                    )
        return issues

    def check_constraint_line(self, project_dir: Optional[Path]) -> list[ConfigIssue]:
        """requirements.txt's --constraint line must name the Airflow version the stack runs."""
        path = project_dir / self.requirements_file if project_dir and self.requirements_file else None
        if path is None or not path.is_file():
            return []
        pinned = _constraint_version(path.read_text())
        if pinned is None or pinned == self.version:
            return []
        return [
            ConfigIssue(
                "airflow.requirementsFile",
                self.requirements_file,
                f"its --constraint line is for Airflow {pinned}; make it match airflow.version {self.version}",
            )
        ]

    def _check_files(self, project_dir: Optional[Path]) -> list[ConfigIssue]:
        if project_dir is None:
            return []
        issues = []
        if not (project_dir / self.dags_dir).is_dir():
            issues.append(ConfigIssue("dagsDir", self.dags_dir, "a folder of the project that holds the DAG files"))
        if self.requirements_file:
            path = project_dir / self.requirements_file
            if not path.is_file():
                issues.append(
                    ConfigIssue("requirementsFile", self.requirements_file, "a file of the project, or '' for none")
                )
        if "plugins_dir" in self.model_fields_set and self.plugins_dir and not (project_dir / self.plugins_dir).is_dir():
            issues.append(ConfigIssue("pluginsDir", self.plugins_dir, "a folder of the project, or '' for none"))
        return issues


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


_CONSTRAINT = re.compile(r"^\s*(?:-c|--constraint)[ =]\S*constraints-(\d+\.\d+\.\d+)/", re.MULTILINE)


def _constraint_version(requirements: str) -> Optional[str]:
    match = _CONSTRAINT.search(requirements)
    return match.group(1) if match else None


# ------------------------------------------------------------------------------------------------------------ mwaa


LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "OFF"]


class MwaaLogging(_Section):
    """Log level per MWAA module; OFF disables a module's logs."""

    dag_processing: LogLevel = "WARNING"
    scheduler: LogLevel = "WARNING"
    task: LogLevel = "INFO"
    webserver: LogLevel = "WARNING"
    worker: LogLevel = "WARNING"


class MwaaSettings(_Section):
    environment_class: Literal[limits.MWAA_ENVIRONMENT_CLASSES] = "mw1.small"  # type: ignore[valid-type]
    min_workers: Optional[int] = None
    max_workers: Optional[int] = None
    schedulers: Optional[int] = None
    min_webservers: Optional[int] = None
    max_webservers: Optional[int] = None
    webserver_access_mode: Literal["PRIVATE_ONLY", "PUBLIC_ONLY"] = "PRIVATE_ONLY"
    endpoint_management: Literal["SERVICE", "CUSTOMER"] = "SERVICE"
    # PRIVATE_ONLY: the IPv4 ranges (a VPN, a bastion, a peered network) that may reach the webserver on 443. The
    # webserver's endpoint sits in the environment's security group, which otherwise admits only its own members.
    webserver_allowed_cidrs: list[str] = Field(default_factory=list)
    weekly_maintenance_window_start: str = "SUN:03:00"
    worker_replacement_strategy: Optional[Literal["FORCED", "GRACEFUL"]] = None
    logging: MwaaLogging = Field(default_factory=MwaaLogging)
    log_retention_days: int = 30
    kms_key: str = "none"
    startup_script: str = ""

    @property
    def is_micro(self) -> bool:
        return self.environment_class == "mw1.micro"

    @property
    def sizing(self) -> dict[str, int]:
        """Workers, schedulers and webservers with the class-aware defaults filled in."""
        one = 1 if self.is_micro else None
        defaults = {
            "min_workers": 1,
            "max_workers": one or 10,
            "schedulers": one or 2,
            "min_webservers": one or 2,
            "max_webservers": one or 2,
        }
        return {k: (getattr(self, k) if getattr(self, k) is not None else d) for k, d in defaults.items()}

    @property
    def existing_kms_key_arn(self) -> Optional[str]:
        return self.kms_key if self.kms_key not in ("none", "create") else None

    @field_validator("weekly_maintenance_window_start")
    @classmethod
    def _window(cls, value: str) -> str:
        if not limits.MAINTENANCE_WINDOW.match(value):
            raise ValueError("DAY:HH:MM in UTC with DAY one of MON..SUN and MM 00 or 30, e.g. SUN:03:00")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in limits.LOG_RETENTION_DAYS:
            days = ", ".join(map(str, limits.LOG_RETENTION_DAYS))
            raise ValueError(f"one of CloudWatch's retention periods: {days}")
        return value

    @field_validator("kms_key")
    @classmethod
    def _kms(cls, value: str) -> str:
        problem = _kms_key_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "MwaaSettings":
        issues = self._check_sizing()
        for i, text in enumerate(self.webserver_allowed_cidrs):
            try:
                ipaddress.IPv4Network(text, strict=True)
            except ValueError as err:
                issues.append(ConfigIssue(f"webserverAllowedCidrs[{i}]", text, f"an IPv4 range such as 10.8.0.0/16 ({err})"))
        if self.webserver_allowed_cidrs and self.webserver_access_mode != "PRIVATE_ONLY":
            issues.append(
                ConfigIssue(
                    "webserverAllowedCidrs",
                    self.webserver_allowed_cidrs,
                    "only with mwaa.webserverAccessMode PRIVATE_ONLY (a PUBLIC_ONLY webserver is reached over the internet)",
                )
            )
        project_dir = _context(info).get("project_dir")
        if self.startup_script and project_dir is not None and not (project_dir / self.startup_script).is_file():
            issues.append(ConfigIssue("startupScript", self.startup_script, "a shell script of the project, or ''"))
        _raise_if(issues)
        return self

    def _check_sizing(self) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        size = self.sizing
        if self.is_micro:
            for field, value in size.items():
                if value != 1:
                    issues.append(ConfigIssue(to_camel(field), value, "1 on mw1.micro (one of each; choose mw1.small or larger for more)"))
            return issues
        if not 1 <= size["min_workers"] <= limits.MWAA_MAX_WORKERS:
            issues.append(ConfigIssue("minWorkers", size["min_workers"], f"1 to {limits.MWAA_MAX_WORKERS}"))
        if not 1 <= size["max_workers"] <= limits.MWAA_MAX_WORKERS:
            issues.append(ConfigIssue("maxWorkers", size["max_workers"], f"1 to {limits.MWAA_MAX_WORKERS}"))
        elif size["max_workers"] < size["min_workers"]:
            issues.append(ConfigIssue("maxWorkers", size["max_workers"], f"at least mwaa.minWorkers ({size['min_workers']})"))
        low, high = limits.MWAA_SCHEDULERS
        if not low <= size["schedulers"] <= high:
            issues.append(ConfigIssue("schedulers", size["schedulers"], f"{low} to {high} on {self.environment_class}"))
        low, high = limits.MWAA_WEBSERVERS
        for field in ("min_webservers", "max_webservers"):
            if not low <= size[field] <= high:
                issues.append(ConfigIssue(to_camel(field), size[field], f"{low} to {high} on {self.environment_class}"))
        if low <= size["min_webservers"] <= high and low <= size["max_webservers"] < size["min_webservers"]:
            issues.append(
                ConfigIssue("maxWebservers", size["max_webservers"], f"at least mwaa.minWebservers ({size['min_webservers']})")
            )
        return issues

    @property
    def kms_key_region(self) -> Optional[str]:
        match = limits.KMS_KEY_ARN.match(self.kms_key)
        return match.group(2) if match else None


def _kms_key_problem(value: str) -> Optional[str]:
    if value in ("none", "create"):
        return None
    allowed = "'none', 'create', or a KMS key ARN arn:aws:kms:<region>:<account>:key/<key-id>"
    if value.startswith("arn:") and ":alias/" in value:
        return f"{allowed}; MWAA does not take aliases"
    match = limits.KMS_KEY_ARN.match(value)
    if match is None:
        return allowed
    if match.group(5).startswith("mrk-"):
        return f"{allowed}; MWAA does not take multi-Region keys"
    return None


# ------------------------------------------------------------------------------------------------------- top level


class SecretPrefixes(BaseModel):
    connections: str
    variables: str


@dataclass(frozen=True)
class ProjectFiles:
    """The project's files a stack delivers, as paths; None where a stack delivers none."""

    dags_dir: Path
    build_dir: Path
    requirements_file: Optional[Path]
    plugins_dir: Optional[Path]
    startup_script: Optional[Path]
    docker_dir: Path


class AccessLogSettings(_Section):
    """S3 server access logs of the DAG and task-log buckets, into a bucket of their own that expires them."""

    # Unset follows protectData.
    enabled: Optional[bool] = None
    retention_days: int = 365

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
    environment_name: Optional[str] = None
    protect_data: bool = True
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    airflow: AirflowSettings = Field(default_factory=AirflowSettings)
    mwaa: MwaaSettings = Field(default_factory=MwaaSettings)
    cluster: ClusterSettings = Field(default_factory=ClusterSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    task_logs: TaskLogSettings = Field(default_factory=TaskLogSettings)
    workloads: WorkloadSettings = Field(default_factory=WorkloadSettings)
    access_logs: AccessLogSettings = Field(default_factory=AccessLogSettings)
    # The permissions boundary every IAM role of the stack carries: none, the bootstrap's (bootstrap), or a policy ARN.
    permissions_boundary: str = "none"
    tags: dict[str, Any] = Field(default_factory=dict)

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
        )

    @property
    def flow_logs(self) -> bool:
        return self.protect_data if self.network.flow_logs is None else self.network.flow_logs

    @property
    def access_logs_enabled(self) -> bool:
        return self.protect_data if self.access_logs.enabled is None else self.access_logs.enabled

    @property
    def resource_tags(self) -> dict[str, str]:
        return {**{k: str(v) for k, v in self.tags.items()}, "project": self.project, "stack": self.stack, "managed-by": "pulumi"}

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "Settings":
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
        issues += self.airflow.check_constraint_line(project_dir)
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
        if not issues:
            issues += self.airflow.check_seeds(self.secret_prefixes)
            issues += self._check_backend_options()
        _raise_if(issues)
        return self

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


