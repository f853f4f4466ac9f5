"""`mwaa`: the Amazon MWAA environment (the managed flavour)."""

from __future__ import annotations

import ipaddress
from typing import Literal, Optional

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from stackconfig import limits
from stackconfig.errors import ConfigIssue
from stackconfig.section import Section as _Section, context as _context, raise_if as _raise_if



LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "OFF"]


class MwaaLogging(_Section):
    """Log level per MWAA module; OFF disables a module's logs."""

    dag_processing: LogLevel = "WARNING"
    """as above"""
    scheduler: LogLevel = "WARNING"
    """as above"""
    task: LogLevel = "INFO"
    """as above"""
    webserver: LogLevel = "WARNING"
    """as above"""
    worker: LogLevel = "WARNING"
    """as above"""


class MwaaSettings(_Section):
    environment_class: Literal[limits.MWAA_ENVIRONMENT_CLASSES] = "mw1.small"  # type: ignore[valid-type]
    """`mw1.micro`, `mw1.small`, `mw1.medium`, `mw1.large`, `mw1.xlarge`, `mw1.2xlarge`"""
    min_workers: Optional[int] = None
    """Unset: 1. 1-25; 1 on mw1.micro"""
    max_workers: Optional[int] = None
    """Unset: 10 (1 on micro). `minWorkers`-25; 1 on mw1.micro"""
    schedulers: Optional[int] = None
    """Unset: 2 (1 on micro). 2-5; 1 on mw1.micro"""
    min_webservers: Optional[int] = None
    """Unset: 2 (1 on micro). 2-5; 1 on mw1.micro"""
    max_webservers: Optional[int] = None
    """Unset: 2 (1 on micro). `minWebservers`-5; 1 on mw1.micro"""
    webserver_access_mode: Literal["PRIVATE_ONLY", "PUBLIC_ONLY", "PUBLIC_AND_PRIVATE"] = "PRIVATE_ONLY"
    """`PRIVATE_ONLY`, `PUBLIC_ONLY`; `PUBLIC_AND_PRIVATE` (both endpoints) with Airflow 3.2 or later"""
    endpoint_management: Literal["SERVICE", "CUSTOMER"] = "SERVICE"
    """`SERVICE`; `CUSTOMER` (the program creates the VPC endpoints MWAA waits for); create-only"""
    # A private endpoint: the IPv4 ranges (a VPN, a bastion, a peered network) that may reach the webserver on 443. The
    # webserver's endpoint sits in the environment's security group, which otherwise admits only its own members.
    webserver_allowed_cidrs: list[str] = Field(default_factory=list)
    """with a private endpoint (`PRIVATE_ONLY`, `PUBLIC_AND_PRIVATE`): IPv4 ranges (your VPN, bastion or peered
    network) that may reach the webserver's endpoint on 443. The endpoint sits in the environment's security group, which otherwise admits only its own members, so
    without a range the UI and REST API are reachable from the environment alone
    """
    weekly_maintenance_window_start: str = "SUN:03:00"
    """`DAY:HH:MM` in UTC, `MM` 00 or 30"""
    worker_replacement_strategy: Optional[Literal["FORCED", "GRACEFUL"]] = None
    """Unset: (MWAA's). `FORCED`, `GRACEFUL` (updates wait up to 12 h for running tasks)"""
    logging: MwaaLogging = Field(default_factory=MwaaLogging)
    """a level per module: `CRITICAL`, `ERROR`, `WARNING`, `INFO`, `DEBUG`, or `OFF`."""
    log_retention_days: int = 30
    """a CloudWatch retention period: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653
    """
    kms_key: str = "none"
    """`none` (AWS-owned key), `create` (a rotated customer key for environment, bucket, secrets and logs), or a key
    ARN in `aws:region` (no aliases, no multi-Region keys); create-only. Kept whatever the flavour: with
    `self-managed` it encrypts the DAG bucket, the secrets, every log group, the alarms' topic, the task-log bucket, the image
    repository, Performance Insights and (EKS envelope encryption) the Kubernetes Secrets; the database's storage
    keeps its AWS-managed key. On a deployed self-managed stack, setting it turns on Secrets encryption in place
    (EKS cannot turn it off again) and leaves an existing image repository on the key it was made with (ECR cannot
    re-encrypt a repository; to move it, delete the repository's images and run `pulumi up --target-replace` on it).
    An existing key must admit CloudWatch Logs, CloudWatch (the alarms' topic is encrypted with it: without the
    statement every alarm notification is dropped) and the EKS cluster role: add the statements of the
    `kmsKeyPolicyStatements` output (`make plan` shows them offline) to its policy first
    """
    startup_script: str = ""
    """a project shell script delivered as `startup.sh`"""

    @property
    def is_micro(self) -> bool:
        return self.environment_class == "mw1.micro"

    def _sizing(self) -> dict[str, int]:
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
        if self.webserver_allowed_cidrs and self.webserver_access_mode == "PUBLIC_ONLY":
            issues.append(
                ConfigIssue(
                    "webserverAllowedCidrs",
                    self.webserver_allowed_cidrs,
                    "only with a private endpoint, mwaa.webserverAccessMode PRIVATE_ONLY or PUBLIC_AND_PRIVATE (a "
                    "PUBLIC_ONLY webserver is reached over the internet)",
                )
            )
        project_dir = _context(info).get("project_dir")
        if self.startup_script and project_dir is not None and not (project_dir / self.startup_script).is_file():
            issues.append(ConfigIssue("startupScript", self.startup_script, "a shell script of the project, or ''"))
        _raise_if(issues)
        # Resolved once, here: every reader sees the class-aware numbers, none has to fill in defaults.
        for field, value in self._sizing().items():
            object.__setattr__(self, field, value)
        return self

    def _check_sizing(self) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        size = self._sizing()
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
