"""Settings of Airflow's processes on the cluster (self-managed flavour): replicas, exposure, resources."""

from __future__ import annotations

import ipaddress
from typing import Literal, Optional

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel

from stackconfig import limits
from stackconfig.errors import ConfigIssue
from stackconfig.section import Section, raise_if
from stackconfig.section import within


_QUANTITY_CPU = limits.re.compile(r"^([1-9]\d*m|\d+(\.\d{1,3})?)$")
_QUANTITY_MEMORY = limits.re.compile(r"^[1-9]\d*(Mi|Gi)$")


class ContainerResources(Section):
    """Requests of one container; the memory request is also its limit (Airflow processes leak under pressure)."""

    cpu: str
    """the container's CPU request, e.g. `500m` or `2` (required with the object; no CPU limit is set)"""
    memory: str
    """the container's memory request and limit, e.g. `2Gi` or `512Mi` (required with the object)"""

    @model_validator(mode="after")
    def _check(self) -> "ContainerResources":
        issues = []
        if not _QUANTITY_CPU.match(self.cpu):
            issues.append(ConfigIssue("cpu", self.cpu, "a Kubernetes CPU quantity such as 500m or 2"))
        if not _QUANTITY_MEMORY.match(self.memory):
            issues.append(ConfigIssue("memory", self.memory, "a Kubernetes memory quantity in Mi or Gi such as 1536Mi or 2Gi"))
        raise_if(issues)
        return self


class WorkloadSettings(Section):
    """Airflow's processes on the cluster (self-managed flavour)."""

    # Unset replica counts follow protectData: 2 in a protected stack, 1 otherwise.
    scheduler_replicas: Optional[int] = None
    """Unset: 2 with `protectData`, else 1. 1-10; at least 2 with `protectData: true`"""
    webserver_replicas: Optional[int] = None
    """Unset: 2 with `protectData`, else 1. 1-10; at least 2 with `protectData: true`"""
    triggerer_replicas: Optional[int] = None
    """Unset: 2 with `protectData`, else 1. 1-10"""
    # The webserver's Service: a load balancer inside the VPC, or one on the internet (the UI still asks to log in).
    webserver_exposure: Literal["internal", "internet-facing"] = "internal"
    """`internal` (a network load balancer inside the VPC; from a laptop: `kubectl -n airflow port-forward
    svc/airflow-webserver 8080:80`, `8080:443` with `webserverCertificateArn`; on Airflow 3 the login stays on
    localhost unless `webserverHostname` is set) or `internet-facing` (needs `webserverAllowedCidrs`)
    """
    # Who may reach the webserver's load balancer; required when it is internet-facing.
    webserver_allowed_cidrs: list[str] = Field(default_factory=list)
    """IPv4 ranges allowed to reach the load balancer (`loadBalancerSourceRanges`); required with `internet-facing`"""
    # An ACM certificate: the load balancer then serves HTTPS on 443.
    webserver_certificate_arn: Optional[str] = None
    """Unset: (none). an ACM certificate ARN: the load balancer serves HTTPS on 443 instead of HTTP on 80"""
    # The name users reach the UI at (a DNS record pointing at the load balancer, the name the certificate is for):
    # Airflow builds the links in alert e-mails and redirects from it.
    webserver_hostname: Optional[str] = None
    """Unset: the load balancer's own DNS name. a DNS name such as `airflow.example.com` that points at the load
    balancer (and that `webserverCertificateArn` is for): Airflow's base URL (`[webserver] base_url`, Airflow 3's
    `[api] base_url`) is `https://<name>` with a certificate, `http://<name>` without"""
    scheduler: ContainerResources = Field(default_factory=lambda: ContainerResources(cpu="1", memory="2Gi"))
    """the scheduler's container: `cpu` (e.g. `500m`, `2`) and `memory` (`Mi`/`Gi`) requests; memory is also its
    limit, CPU has none (a throttled scheduler misses its heartbeats). Setting the object needs both `cpu` and `memory`.
    """
    webserver: ContainerResources = Field(default_factory=lambda: ContainerResources(cpu="500m", memory="2Gi"))
    """the webserver's container, as `workloads.scheduler`. Setting the object needs both `cpu` and `memory`."""
    triggerer: ContainerResources = Field(default_factory=lambda: ContainerResources(cpu="250m", memory="1Gi"))
    """the triggerer's container, as `workloads.scheduler`. Setting the object needs both `cpu` and `memory`."""
    worker: ContainerResources = Field(default_factory=lambda: ContainerResources(cpu="500m", memory="1Gi"))
    """each task's worker pod, as `workloads.scheduler`. Setting the object needs both `cpu` and `memory`."""
    worker_pods_creation_batch_size: int = 8
    """1-100 worker pods the scheduler creates per loop"""
    dag_sync_interval_seconds: int = 30
    """5-3600: how often the DAG sync sidecars mirror `s3://<dagBucket>/dags/`"""
    metadata_retention_days: int = 90
    """0-3650: a CronJob runs `airflow db clean` for what started longer ago than this (DAG runs, task instances,
    logs, jobs, XComs; Airflow keeps each DAG's latest scheduled run); 0: no CronJob, the history stays"""
    metadata_clean_schedule: str = "30 3 * * *"
    """when that CronJob runs, a cron schedule in UTC (five fields, or @daily, @weekly, ...)"""
    component_log_retention_days: int = 7
    """1-365: days the scheduler's, DAG processor's and triggerer's own log files stay in their pods (a sidecar
    deletes older ones; task logs are in the task-log bucket)"""
    admin_username: str = "admin"
    """the Airflow admin user created once; its password is generated (`pulumi stack output adminPassword
    --show-secrets`)
    """

    @model_validator(mode="after")
    def _check(self) -> "WorkloadSettings":
        issues: list[ConfigIssue] = []
        for field in ("scheduler_replicas", "webserver_replicas", "triggerer_replicas"):
            if getattr(self, field) is not None:
                issues += within(to_camel(field), getattr(self, field), (1, 10))
        issues += within("workerPodsCreationBatchSize", self.worker_pods_creation_batch_size, (1, 100))
        issues += within("dagSyncIntervalSeconds", self.dag_sync_interval_seconds, (5, 3600), " seconds")
        issues += within("metadataRetentionDays", self.metadata_retention_days, (0, 3650), " days")
        issues += within("componentLogRetentionDays", self.component_log_retention_days, (1, 365), " days")
        if not limits.cron_schedule(self.metadata_clean_schedule):
            issues.append(ConfigIssue("metadataCleanSchedule", self.metadata_clean_schedule, limits.CRON_SCHEDULE_RULE))
        for i, text in enumerate(self.webserver_allowed_cidrs):
            try:
                ipaddress.IPv4Network(text, strict=True)
            except ValueError as err:
                issues.append(ConfigIssue(f"webserverAllowedCidrs[{i}]", text, f"an IPv4 range such as 203.0.113.0/24 ({err})"))
        if self.webserver_exposure == "internet-facing" and not self.webserver_allowed_cidrs:
            issues.append(
                ConfigIssue(
                    "webserverAllowedCidrs",
                    [],
                    "the IPv4 ranges allowed to reach an internet-facing webserver (its login page), e.g. [203.0.113.0/24]",
                )
            )
        if self.webserver_certificate_arn is not None and not limits.ACM_CERTIFICATE_ARN.match(self.webserver_certificate_arn):
            issues.append(
                ConfigIssue(
                    "webserverCertificateArn",
                    self.webserver_certificate_arn,
                    "an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>",
                )
            )
        if self.webserver_hostname is not None and not limits.dns_name(self.webserver_hostname):
            issues.append(ConfigIssue("webserverHostname", self.webserver_hostname, limits.DNS_NAME_RULE))
        if not limits.re.match(r"^[a-zA-Z][a-zA-Z0-9_.@-]{0,63}$", self.admin_username):
            issues.append(ConfigIssue("adminUsername", self.admin_username, "1-64 letters, digits and _.@-, a letter first"))
        raise_if(issues)
        return self

    def check_protected(self) -> list[ConfigIssue]:
        """Protected (production) stacks keep the UI and scheduling up through a node's loss."""
        return [
            ConfigIssue(f"workloads.{to_camel(field)}", getattr(self, field), "2 or more while protectData is true")
            for field in ("scheduler_replicas", "webserver_replicas")
            if getattr(self, field) is not None and getattr(self, field) < 2
        ]

    def resolved(self, protect: bool) -> "WorkloadSettings":
        default = 2 if protect else 1
        fields = ("scheduler_replicas", "webserver_replicas", "triggerer_replicas")
        return self.model_copy(update={f: default if getattr(self, f) is None else getattr(self, f) for f in fields})
