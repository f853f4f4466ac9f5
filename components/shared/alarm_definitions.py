"""The stack's CloudWatch alarms and its dashboard, as plain data: what each alarm watches, when it fires and what it
means. `components/shared/monitoring.py` turns them into resources; tests hold them against botocore's
PutMetricAlarm model.

Managed (namespace `AmazonMWAA`, which MWAA publishes by default; MWAA user guide, "Apache Airflow metrics"
access-metrics-cw-202: the metric names and their `Function`/`Environment` dimensions, `TaskInstanceFailures` with
`DAG=All, Task=All`). MWAA's own container and database metrics (`AWS/MWAA`) go on the dashboard through a SEARCH,
not into alarms: AWS's page names the dimensions (Cluster, Queue, Database) but not the sets a metric carries, and an
alarm on a wrong set waits in INSUFFICIENT_DATA for ever, where a SEARCH finds whatever is published.

Self-managed: Airflow's own metrics under the stack's namespace (StatsD through the CloudWatch agent: k8s/metrics.py
says how Airflow's names become CloudWatch's, and the twin holds them to what Airflow emits), the cluster's pods no
node takes (`AWS/EKS`), its nodes that are not Ready (counted by the node watcher), and (namespace `AWS/RDS`,
dimension `DBInstanceIdentifier`: RDS user guide, rds-metrics) the metadata database's CPU, free storage,
connections and freeable memory. RDS publishes `ReplicaLag` for read replicas and Multi-AZ DB clusters only, not for the Multi-AZ DB instance this stack runs (its standby is synchronous), so there
is no replica-lag alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from components.naming import alarm_name, arn, database_identifier, dashboard_name, partition
from k8s.metrics import STATSD_TYPES, agent_metric_name, cloudwatch_metric, metrics_namespace
from k8s.node_readiness import NODES, OLDEST_NOT_READY
from stackconfig import limits
from stackconfig.database import DatabaseSettings
from stackconfig.monitoring import MonitoringSettings

MWAA_NAMESPACE = "AmazonMWAA"
MWAA_ENVIRONMENT_NAMESPACE = "AWS/MWAA"
RDS_NAMESPACE = "AWS/RDS"
EKS_NAMESPACE = "AWS/EKS"
GIB = 1024**3
FIVE_MINUTES = 300


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    id: str = "m"  # its name in a metric-math expression


@dataclass(frozen=True)
class Alarm:
    """One alarm: `metric` compared with `threshold`, or `expression` (CloudWatch metric math) over `inputs`."""

    what: str  # the alarm's name after the environment's: <environment>-<what>
    meaning: str  # the alarm's description: what it says and where to look
    threshold: float
    comparison: str
    period: int
    evaluation_periods: int
    treat_missing_data: str = "missing"
    metric: Optional[Metric] = None
    expression: Optional[str] = None
    inputs: tuple[Metric, ...] = field(default_factory=tuple)

    def metrics(self) -> tuple[Metric, ...]:
        return (self.metric,) if self.metric else self.inputs


def managed_alarms(environment: str, monitoring: MonitoringSettings) -> list[Alarm]:
    env = ("Environment", environment)

    def mwaa(name: str, function: Optional[str], statistic: str, id: str = "m", **extra: str) -> Metric:
        dimensions = ((("Function", function),) if function else ()) + tuple(extra.items()) + (env,)
        return Metric(MWAA_NAMESPACE, name, dimensions, statistic, id)

    return [
        _heartbeat(mwaa("SchedulerHeartbeat", "Scheduler", "Sum"),
                   "See the environment's scheduler log group and its health in the MWAA console."),
        _stuck_queued(mwaa("QueuedTasks", "Executor", "Maximum", "queued"),
                      mwaa("RunningTasks", "Executor", "Maximum", "running"), monitoring.queued_minutes),
        _task_failures(mwaa("TaskInstanceFailures", None, "Sum", DAG="All", Task="All"), monitoring.task_failures),
        _import_errors(mwaa("ImportErrors", "DAG Processing", "Maximum")),
    ]


def self_managed_alarms(environment: str, database: DatabaseSettings, monitoring: MonitoringSettings) -> list[Alarm]:
    """Airflow's own metrics (StatsD through the metrics agent, k8s/metrics.py), the cluster's scheduler, and the
    metadata database."""

    def airflow(statsd_name: str, statsd_type: str, statistic: str, id: str = "m") -> Metric:
        # The agent's only dimension in a container: the StatsD type (k8s/metrics.py).
        return Metric(metrics_namespace(environment), cloudwatch_metric(statsd_name),
                      (("metric_type", STATSD_TYPES[statsd_type]),), statistic, id)

    return [
        _heartbeat(airflow("scheduler_heartbeat", "c", "Sum"),
                   "See `kubectl logs deploy/airflow-scheduler -c scheduler`; if the schedulers are up, the metrics "
                   "agent is not: `kubectl logs deploy/airflow-metrics`."),
        _stuck_queued(airflow("executor.queued_tasks", "g", "Maximum", "queued"),
                      airflow("executor.running_tasks", "g", "Maximum", "running"), monitoring.queued_minutes),
        _task_failures(airflow("ti_failures", "c", "Sum"), monitoring.task_failures),
        _import_errors(airflow("dag_processing.import_errors", "g", "Maximum")),
        _pods_unschedulable(environment, monitoring.unschedulable_minutes),
        *_node_readiness(environment, monitoring.node_not_ready_minutes),
        *_database_alarms(environment, database, monitoring),
    ]


def _database_alarms(environment: str, database: DatabaseSettings, monitoring: MonitoringSettings) -> list[Alarm]:
    instance = (("DBInstanceIdentifier", database_identifier(environment)),)
    free_bytes = database.allocated_storage_gb * GIB * monitoring.database_free_storage_percent / 100
    most = limits.rds_max_connections_estimate(database.instance_class)
    connections = max(1, most * monitoring.database_connections_percent // 100)
    memory_gib = limits.rds_instance_memory_gib(database.instance_class)
    return [
        Alarm(
            "database-cpu",
            f"The metadata database's CPU averaged {monitoring.database_cpu_percent}% or more for 15 minutes: "
            "schedulers slow down. See Performance Insights for the queries, then database.instanceClass.",
            threshold=monitoring.database_cpu_percent, comparison="GreaterThanOrEqualToThreshold", period=FIVE_MINUTES,
            evaluation_periods=3, metric=Metric(RDS_NAMESPACE, "CPUUtilization", instance, "Average"),
        ),
        Alarm(
            "database-storage",
            f"The metadata database has less than {monitoring.database_free_storage_percent}% of its "
            f"{database.allocated_storage_gb} GiB free. Run `airflow db clean`, or raise database.allocatedStorageGb "
            "(storage autoscaling, when on, grows it up to database.maxAllocatedStorageGb).",
            threshold=free_bytes, comparison="LessThanThreshold", period=FIVE_MINUTES, evaluation_periods=1,
            metric=Metric(RDS_NAMESPACE, "FreeStorageSpace", instance, "Minimum"),
        ),
        Alarm(
            "database-connections",
            f"The metadata database has held {connections} or more connections ({monitoring.database_connections_percent}% "
            f"of the about {most} a {database.instance_class} takes) for 10 minutes: new ones will be refused and tasks "
            "fail to start. PgBouncer's pools (database.pgbouncer) hold most; without it each worker pod and "
            "component opens its own: fewer parallel tasks, or a larger database.instanceClass.",
            threshold=connections, comparison="GreaterThanOrEqualToThreshold", period=FIVE_MINUTES, evaluation_periods=2,
            metric=Metric(RDS_NAMESPACE, "DatabaseConnections", instance, "Maximum"),
        ),
        Alarm(
            "database-memory",
            f"The metadata database has had less than {monitoring.database_freeable_memory_percent}% of its "
            f"{memory_gib} GiB freeable for 15 minutes: it swaps and slows every scheduler. See its connections and "
            "Performance Insights, then database.instanceClass.",
            threshold=memory_gib * GIB * monitoring.database_freeable_memory_percent / 100, comparison="LessThanThreshold",
            period=FIVE_MINUTES, evaluation_periods=3,
            metric=Metric(RDS_NAMESPACE, "FreeableMemory", instance, "Minimum"),
        ),
    ]


def _heartbeat(heartbeats: Metric, where: str) -> Alarm:
    return Alarm(
        "scheduler-heartbeat",
        "No scheduler heartbeat for 10 minutes: nothing is being scheduled (an environment update restarts the "
        f"schedulers and can raise it). {where}",
        # Two periods: one late data point alone does not page.
        threshold=1, comparison="LessThanThreshold", period=FIVE_MINUTES, evaluation_periods=2,
        # No data at all is the worst case: the scheduler is not there to publish.
        treat_missing_data="breaching", metric=heartbeats,
    )


def _task_failures(failures: Metric, threshold: int) -> Alarm:
    return Alarm(
        "task-failures",
        f"{threshold} or more task tries failed within 15 minutes. See the failed task instances in the Airflow UI "
        "and their logs.",
        threshold=threshold, comparison="GreaterThanOrEqualToThreshold", period=900,
        evaluation_periods=1, treat_missing_data="notBreaching", metric=failures,
    )


def _pods_unschedulable(cluster_name: str, minutes: int) -> Alarm:
    """EKS publishes its scheduler's queues for Kubernetes 1.28 and later, free, every minute (EKS user guide,
    cloudwatch.html "Basic metrics"; the names and the ClusterName dimension as aws-cdk-lib's generated
    aws-eks/lib/eks-canned-metrics lists them)."""
    return Alarm(
        "pods-unschedulable",
        f"Pods have found no node for {minutes} minutes: worker pods wait and their tasks stay queued. The Cluster "
        "Autoscaler adds a node within minutes unless the node group is at cluster.maxNodes or no instance type "
        "fits the pod. See `kubectl get events --field-selector reason=FailedScheduling` and the autoscaler's log.",
        threshold=1, comparison="GreaterThanOrEqualToThreshold", period=60, evaluation_periods=minutes,
        treat_missing_data="notBreaching",
        # A gauge, one value a minute: its Maximum is the value whatever the number of samples.
        metric=Metric(EKS_NAMESPACE, "scheduler_pending_pods_UNSCHEDULABLE", (("ClusterName", cluster_name),), "Maximum"),
    )


def _node_readiness(environment: str, minutes: int) -> list[Alarm]:
    """The node watcher's gauges (k8s/node_readiness.py), once a minute through the agent: how long the longest
    not-Ready node has been so, and how many nodes there are, which stops only when the watcher does."""

    def gauge(name: str, statistic: str) -> Metric:
        return Metric(metrics_namespace(environment), agent_metric_name(name), (("metric_type", STATSD_TYPES["g"]),),
                      statistic)

    return [
        Alarm(
            "nodes-not-ready",
            f"A node has not been Ready for {minutes} minutes: Kubernetes evicts its pods after 5 (their default "
            "tolerations) and its running tasks fail or are retried elsewhere. See `kubectl get nodes` and `kubectl "
            "describe node <name>` (its conditions: memory or disk pressure, the kubelet stopped), and the node "
            "group's health in the EKS console; a node that stays NotReady can be drained and its instance terminated.",
            # One minute at or over it: the age only gets there after `minutes` of one node's not being Ready, so a
            # new node's first minute, or nodes briefly not Ready one after another in a rollout, never page.
            threshold=minutes * 60, comparison="GreaterThanOrEqualToThreshold", period=60, evaluation_periods=1,
            # Minutes without the watcher are node-watcher-silent's.
            treat_missing_data="notBreaching",
            metric=gauge(OLDEST_NOT_READY, "Maximum"),
        ),
        Alarm(
            "node-watcher-silent",
            "The node watcher has sent nothing for 10 minutes, so nodes-not-ready cannot fire: see `kubectl -n "
            "<namespace> get pods -l app.kubernetes.io/component=node-readiness` and `kubectl logs "
            "deploy/airflow-node-readiness` (its account may list nodes; the metrics agent must be up: "
            "scheduler-heartbeat says when it is not).",
            # A cluster the watcher runs on has at least its own node: fewer than one, or none sent, is silence.
            threshold=1, comparison="LessThanThreshold", period=FIVE_MINUTES, evaluation_periods=2,
            treat_missing_data="breaching", metric=gauge(NODES, "Maximum"),
        ),
    ]


def _stuck_queued(queued: Metric, running: Metric, minutes: int) -> Alarm:
    return Alarm(
        "tasks-stuck-queued",
        f"Tasks have waited in the executor's queue for {minutes} minutes with none running: the scheduler cannot "
        "hand tasks to the workers (the executor's slots, its queue). See the scheduler's log. A task handed to the "
        "queue counts as running: a worker that does not take it shows in the dashboard's queue age.",
        threshold=1, comparison="GreaterThanOrEqualToThreshold", period=FIVE_MINUTES,
        evaluation_periods=minutes // 5, treat_missing_data="notBreaching",
        expression=f"IF({queued.id} > 0 AND {running.id} == 0, 1, 0)", inputs=(queued, running),
    )


def _import_errors(errors: Metric) -> Alarm:
    return Alarm(
        "import-errors",
        "A DAG file has not imported for 10 minutes: its DAGs are gone from the UI. See Import Errors in the UI, or "
        "the DAG processing log group.",
        threshold=0, comparison="GreaterThanThreshold", period=FIVE_MINUTES, evaluation_periods=2,
        treat_missing_data="notBreaching", metric=errors,
    )


# ------------------------------------------------------------------ the API's shapes
def _metric_stat(metric: Metric, period: int) -> dict[str, Any]:
    return {
        "Metric": {"Namespace": metric.namespace, "MetricName": metric.name,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions]},
        "Period": period,
        "Stat": metric.statistic,
    }


def put_metric_alarm_input(alarm: Alarm, environment: str, topic_arn: Any) -> dict[str, Any]:
    """PutMetricAlarm's request for an alarm, notifying `topic_arn` when it fires and when it clears."""
    request: dict[str, Any] = {
        "AlarmName": alarm_name(environment, alarm.what),
        "AlarmDescription": alarm.meaning,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn],
        "OKActions": [topic_arn],
        "EvaluationPeriods": alarm.evaluation_periods,
        "Threshold": float(alarm.threshold),
        "ComparisonOperator": alarm.comparison,
        "TreatMissingData": alarm.treat_missing_data,
    }
    if alarm.metric:
        metric = alarm.metric
        request.update({
            "Namespace": metric.namespace, "MetricName": metric.name, "Statistic": metric.statistic,
            "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions], "Period": alarm.period,
        })
    else:
        request["Metrics"] = [
            {"Id": m.id, "MetricStat": _metric_stat(m, alarm.period), "ReturnData": False} for m in alarm.inputs
        ] + [{"Id": "alarm", "Expression": alarm.expression, "Label": alarm.what, "ReturnData": True}]
    return request


# PutMetricAlarm's names as pulumi_aws.cloudwatch.MetricAlarm's arguments.
_ARGUMENT = {
    "AlarmName": "name", "AlarmDescription": "alarm_description", "ActionsEnabled": "actions_enabled",
    "AlarmActions": "alarm_actions", "OKActions": "ok_actions", "EvaluationPeriods": "evaluation_periods",
    "Threshold": "threshold", "ComparisonOperator": "comparison_operator", "TreatMissingData": "treat_missing_data",
    "Namespace": "namespace", "MetricName": "metric_name", "Statistic": "statistic", "Period": "period",
}


def _dimension_map(dimensions: list[dict[str, str]]) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dimensions}


def _only(fields: dict[str, Any], known: set[str]) -> None:
    if set(fields) - known:
        raise ValueError(f"no MetricAlarm argument for {sorted(set(fields) - known)}")


def _metric_query(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": query["Id"], "return_data": query["ReturnData"]}
    if "Expression" in query:
        _only(query, {"Id", "ReturnData", "Expression", "Label"})
        return {**out, "expression": query["Expression"], "label": query["Label"]}
    _only(query, {"Id", "ReturnData", "MetricStat"})
    _only(query["MetricStat"], {"Metric", "Period", "Stat"})
    stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
    return {**out, "metric": {"namespace": metric["Namespace"], "metric_name": metric["MetricName"],
                              "dimensions": _dimension_map(metric["Dimensions"]), "period": stat["Period"],
                              "stat": stat["Stat"]}}


def metric_alarm_args(alarm: Alarm, environment: str, topic_arn: Any) -> dict[str, Any]:
    """put_metric_alarm_input's request as pulumi_aws.cloudwatch.MetricAlarm's arguments (`topic_arn` may be an
    Output): one request, which the tests hold against botocore's model."""
    request = put_metric_alarm_input(alarm, environment, topic_arn)
    args: dict[str, Any] = {}
    for key, value in request.items():  # a field without its argument here raises: none is dropped unseen
        if key == "Dimensions":
            args["dimensions"] = _dimension_map(value)
        elif key == "Metrics":
            args["metric_queries"] = [_metric_query(query) for query in value]
        else:
            args[_ARGUMENT[key]] = value
    return args


# ------------------------------------------------------------------ the dashboard
def dashboard_body(environment: str, region: str, account: str, alarms: list[Alarm], *, managed: bool) -> dict[str, Any]:
    """One dashboard per stack: the alarms' states, then each alarm's metrics with its threshold; on MWAA also its
    containers' and database's CPU and memory (a SEARCH: whatever dimensions MWAA publishes them under)."""
    widgets: list[dict[str, Any]] = [{
        "type": "alarm", "width": 24, "height": 3,
        "properties": {"title": "Alarms", "alarms": [
            arn("cloudwatch", region, account, f"alarm:{alarm_name(environment, a.what)}") for a in alarms]},
    }]
    for alarm in alarms:
        metrics: list[list[Any]] = []
        for m in alarm.metrics():
            row: list[Any] = [m.namespace, m.name]
            for key, value in m.dimensions:
                row += [key, value]
            metrics.append(row + [{"stat": m.statistic, "label": m.id if alarm.expression else m.name}])
        properties: dict[str, Any] = {
            "title": alarm.what, "region": region, "view": "timeSeries", "period": alarm.period, "metrics": metrics,
        }
        if alarm.metric:  # a threshold line where one metric is compared with it
            properties["annotations"] = {"horizontal": [{"label": "alarm", "value": float(alarm.threshold)}]}
        widgets.append({"type": "metric", "width": 12, "height": 6, "properties": properties})
    if managed:
        for title, metric in (("MWAA CPU (containers, database)", "CPUUtilization"),
                              ("MWAA memory (containers)", "MemoryUtilization"),
                              ("MWAA database: free memory", "FreeableMemory"),
                              ("MWAA database: connections", "DatabaseConnections"),
                              ("MWAA queue: age of the oldest task", "ApproximateAgeOfOldestMessage")):
            # No schema in braces: a schema matches only metrics with exactly its dimensions, and these carry
            # Environment with Cluster, a database role or Queue (CloudWatch user guide, search-expression-syntax);
            # a quoted term matches the namespace as a whole.
            search = (f"SEARCH('\"{MWAA_ENVIRONMENT_NAMESPACE}\" MetricName=\"{metric}\" "
                      f"Environment=\"{environment}\"', 'Average', {FIVE_MINUTES})")
            widgets.append({"type": "metric", "width": 12, "height": 6, "properties": {
                "title": title, "region": region, "view": "timeSeries", "period": FIVE_MINUTES,
                "metrics": [[{"expression": search, "id": "e1"}]]}})
    for i, widget in enumerate(widgets[1:]):  # two columns under the alarm strip
        widget["x"], widget["y"] = (i % 2) * 12, 3 + (i // 2) * 6
    widgets[0]["x"], widgets[0]["y"] = 0, 0
    return {"widgets": widgets}


def dashboard_url(environment: str, region: str) -> str:
    domain = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn",
              "aws-us-gov": "console.amazonaws-us-gov.com"}[partition(region)]
    return (f"https://{region}.{domain}/cloudwatch/home?region={region}"
            f"#dashboards/dashboard/{dashboard_name(environment, region)}")


def dashboard_json(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
