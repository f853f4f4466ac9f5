"""`monitoring` (both flavours): who the stack's CloudWatch alarms notify, and the thresholds they hold."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from stackconfig.errors import ConfigIssue
from stackconfig.section import Section, raise_if, within

# SNS's rules for a subscription's endpoint (SNS API reference, Subscribe: "For the email protocol, use an email
# address"; "For the https protocol, use a URL beginning with https://"). The address check is deliberately plain:
# one @, a dot in the domain, no spaces; SNS sends the confirmation and the recipient proves the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_METRIC_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class MonitoringSettings(Section):
    """CloudWatch alarms and a dashboard: both flavours. Every alarm notifies one SNS topic of the stack; the
    subscriptions below receive it."""

    alarm_emails: list[str] = Field(default_factory=list)
    """Unset: (none). e-mail addresses subscribed to the stack's alarm topic; each gets a confirmation mail from AWS
    and receives nothing until it is confirmed (an unconfirmed one stays pending, Pulumi leaves it when removed, and
    SNS deletes it after 48 hours: SNS developer guide, sns-delete-subscription-topic)
    """
    alarm_https_endpoints: list[str] = Field(default_factory=list)
    """Unset: (none). HTTPS URLs subscribed to the alarm topic (a paging or chat webhook); the receiver must confirm
    SNS's SubscriptionConfirmation request before it gets alarms
    """
    queued_minutes: int = 15
    """minutes tasks may wait in the executor's queue while none runs before `tasks-stuck-queued` alarms
    (5-1440, a multiple of 5)
    """
    task_failures: int = 3
    """failed task tries (retried ones count) within 15 minutes that raise `task-failures` (1-10000)"""
    airflow_metric_prefixes: list[str] = Field(default_factory=list)
    """Unset: (none). self-managed: more of Airflow's metrics to ship to CloudWatch, as prefixes of their names
    (`dagrun.duration.`, `pool.`; Airflow's `[metrics] metrics_allow_list`), beside the ones the alarms and the
    dashboard read. Each name and dimension set is a CloudWatch metric billed of its own, and names with DAG or task
    ids grow with the DAGs
    """
    unschedulable_minutes: int = 15
    """self-managed: minutes pods may find no node (EKS's scheduler counts them) before `pods-unschedulable` alarms
    (5-120); the Cluster Autoscaler adds a node in a few
    """
    node_not_ready_minutes: int = 5
    """self-managed: minutes a node may stay not Ready before `nodes-not-ready` alarms (3-120); Kubernetes evicts
    its pods after 5, and a new node is Ready within 2
    """
    database_cpu_percent: int = 80
    """self-managed: the RDS instance's average CPU, in percent over 15 minutes, that raises `database-cpu`
    (10-100)
    """
    database_free_storage_percent: int = 10
    """self-managed: free storage of the RDS instance, in percent of its allocated storage, below which
    `database-storage` alarms (1-50), of the size set, not of what storage autoscaling has grown it to (autoscaling
    grows the volume when 10% is free)
    """
    database_connections_percent: int = 80
    """self-managed: open connections to the RDS instance, in percent of the most its class takes by default (RDS's
    `LEAST(DBInstanceClassMemory/9531392, 5000)`, estimated at or below RDS's figure), that raise
    `database-connections` (10-100)
    """
    database_freeable_memory_percent: int = 10
    """self-managed: the RDS instance's freeable memory, in percent of its class's memory, below which
    `database-memory` alarms (1-50)
    """

    @model_validator(mode="after")
    def _check(self) -> "MonitoringSettings":
        issues: list[ConfigIssue] = []
        for i, address in enumerate(self.alarm_emails):
            if not _EMAIL.match(address):
                issues.append(ConfigIssue(f"alarmEmails[{i}]", address, "an e-mail address such as oncall@example.com"))
        for i, url in enumerate(self.alarm_https_endpoints):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                issues.append(ConfigIssue(f"alarmHttpsEndpoints[{i}]", url, "a URL beginning with https:// and a host"))
        for key, values in (("alarmEmails", self.alarm_emails), ("alarmHttpsEndpoints", self.alarm_https_endpoints)):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                issues.append(ConfigIssue(key, ", ".join(repeated), "each endpoint once"))
        for i, prefix in enumerate(self.airflow_metric_prefixes):
            if not _METRIC_PREFIX.match(prefix):
                issues.append(ConfigIssue(f"airflowMetricPrefixes[{i}]", prefix,
                                          "the start of an Airflow metric name: letters, digits, '.', '_' and '-' "
                                          "(the allow list is comma-separated)"))
        queued = within("queuedMinutes", self.queued_minutes, (5, 1440), " minutes")
        issues += queued
        if not queued and self.queued_minutes % 5:
            issues.append(ConfigIssue("queuedMinutes", self.queued_minutes, "a multiple of 5 (the alarm looks at 5-minute periods)"))
        issues += within("taskFailures", self.task_failures, (1, 10000))
        # One-minute periods, one per minute (CloudWatch: evaluation periods x period at most a day).
        issues += within("unschedulableMinutes", self.unschedulable_minutes, (5, 120), " minutes")
        issues += within("nodeNotReadyMinutes", self.node_not_ready_minutes, (3, 120), " minutes")
        issues += within("databaseCpuPercent", self.database_cpu_percent, (10, 100), " percent")
        issues += within("databaseFreeStoragePercent", self.database_free_storage_percent, (1, 50), " percent")
        issues += within("databaseConnectionsPercent", self.database_connections_percent, (10, 100), " percent")
        issues += within("databaseFreeableMemoryPercent", self.database_freeable_memory_percent, (1, 50), " percent")
        raise_if(issues)
        return self
