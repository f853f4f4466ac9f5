"""The stack's alarms and dashboard (components/shared/alarm_definitions.py) against what CloudWatch and MWAA say:
every alarm's PutMetricAlarm request validates against botocore's model and CloudWatch's period rules, each
managed alarm watches a metric MWAA documents with its documented dimensions, the dashboard lists every alarm,
and the stack key's policy admits CloudWatch for these alarms and no other environment's."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.naming import alarm_arn_pattern, alarm_name
from components.shared.alarm_definitions import (
    dashboard_body, dashboard_json, managed_alarms, put_metric_alarm_input, self_managed_alarms,
)
from components.shared.encryption_key_policy import key_policy
from stackconfig.load import from_stack_file
from stackconfig.monitoring import MonitoringSettings
from stackconfig.project_files import PROJECT_DIR

TOPIC = "arn:aws:sns:eu-west-1:123456789012:airflow-prod-alarms"
ACCOUNT = "123456789012"
# MWAA user guide, "Apache Airflow metrics" (access-metrics-cw-202): namespace AmazonMWAA, each metric with these
# dimensions besides Environment.
MWAA_DOCUMENTED = {
    "SchedulerHeartbeat": {"Function": "Scheduler"},
    "QueuedTasks": {"Function": "Executor"},
    "RunningTasks": {"Function": "Executor"},
    "TaskInstanceFailures": {"DAG": "All", "Task": "All"},
    "ImportErrors": {"Function": "DAG Processing"},
}


def _alarms():
    cases = []
    for stack in ("dev", "prod"):
        settings = from_stack_file(PROJECT_DIR, stack)
        cases.append((f"{stack}-managed", settings.name, managed_alarms(settings.name, settings.monitoring)))
        cases.append((f"{stack}-self-managed", settings.name,
                      self_managed_alarms(settings.name, settings.database, settings.monitoring)))
    return cases


@pytest.fixture(scope="module")
def put_metric_alarm():
    model = botocore.session.get_session().get_service_model("cloudwatch")
    return model.operation_model("PutMetricAlarm").input_shape


def _enum_errors(value, shape, path: str = "") -> list[str]:
    """The values outside their shape's enum: botocore's validator checks types and lengths, not enums."""
    if shape.type_name == "structure":
        return [e for k, v in value.items() for e in _enum_errors(v, shape.members[k], f"{path}.{k}")]
    if shape.type_name == "list":
        return [e for i, v in enumerate(value) for e in _enum_errors(v, shape.member, f"{path}[{i}]")]
    enum = getattr(shape, "enum", None) or []
    return [f"{path}={value!r} not in {enum}"] if enum and value not in enum else []


@pytest.mark.parametrize("case,environment,alarms", _alarms(), ids=[c[0] for c in _alarms()])
def test_every_alarm_request_is_one_cloudwatch_accepts(case, environment, alarms, put_metric_alarm):
    assert alarms
    for alarm in alarms:
        request = put_metric_alarm_input(alarm, environment, TOPIC)
        report = ParamValidator().validate(request, put_metric_alarm)
        assert not report.has_errors(), report.generate_report()
        assert _enum_errors(request, put_metric_alarm) == []
        # A free string in the model; these four are CloudWatch's (PutMetricAlarm, TreatMissingData).
        assert request["TreatMissingData"] in {"breaching", "notBreaching", "ignore", "missing"}
        # CloudWatch's rules beyond the model (PutMetricAlarm: Period is 10, 20, 30 or a multiple of 60; the
        # periods evaluated span at most a day).
        assert alarm.period in (10, 20, 30) or alarm.period % 60 == 0
        assert alarm.period * alarm.evaluation_periods <= 86400
        assert 1 <= len(request["AlarmName"]) <= 255 and len(request["AlarmDescription"]) <= 1024
        if alarm.expression:  # metric math: its inputs are the metrics it names, ids a lower-case letter first
            assert all(m.id[0].islower() and m.id in alarm.expression for m in alarm.inputs)


def test_the_longest_stuck_queue_setting_still_fits_a_days_evaluation():
    longest = MonitoringSettings(queued_minutes=1440)
    alarm = next(a for a in managed_alarms("airflow-prod", longest) if a.what == "tasks-stuck-queued")
    assert alarm.period * alarm.evaluation_periods == 86400


def test_each_managed_alarm_watches_a_metric_mwaa_documents():
    for alarm in managed_alarms("airflow-prod", MonitoringSettings()):
        for metric in alarm.metrics():
            assert metric.namespace == "AmazonMWAA"
            dimensions = dict(metric.dimensions)
            assert dimensions.pop("Environment") == "airflow-prod"
            assert dimensions == MWAA_DOCUMENTED[metric.name], metric


def test_the_database_storage_alarm_is_a_share_of_the_allocated_storage():
    settings = from_stack_file(PROJECT_DIR, "prod")
    alarm = next(a for a in self_managed_alarms(settings.name, settings.database, MonitoringSettings(database_free_storage_percent=20))
                 if a.what == "database-storage")
    assert alarm.threshold == settings.database.allocated_storage_gb * 1024**3 * 0.2
    assert dict(alarm.metric.dimensions) == {"DBInstanceIdentifier": f"{settings.name}-metadata"}


# RDS user guide, rds-metrics: what RDS publishes for an instance (namespace AWS/RDS, dimension DBInstanceIdentifier).
RDS_DOCUMENTED = {"CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "FreeableMemory"}


def test_each_self_managed_alarm_watches_a_metric_rds_documents_for_its_instance():
    settings = from_stack_file(PROJECT_DIR, "prod")
    alarms = self_managed_alarms(settings.name, settings.database, MonitoringSettings())
    database = [m for a in alarms for m in a.metrics() if m.namespace == "AWS/RDS"]
    assert {m.name for m in database} == RDS_DOCUMENTED
    assert all(dict(m.dimensions) == {"DBInstanceIdentifier": f"{settings.name}-metadata"} for m in database)


def test_nodes_not_ready_fires_on_one_nodes_age_and_a_silent_watcher_is_an_alarm_of_its_own():
    settings = from_stack_file(PROJECT_DIR, "prod")
    alarms = {a.what: a for a in self_managed_alarms(settings.name, settings.database,
                                                     MonitoringSettings(node_not_ready_minutes=12))}
    not_ready = alarms["nodes-not-ready"]
    # The longest not-Ready node's age, in seconds: 12 minutes of one node, however nodes come and go meanwhile.
    assert (not_ready.threshold, not_ready.comparison) == (12 * 60, "GreaterThanOrEqualToThreshold")
    assert not_ready.metric.name.endswith("oldest_not_ready_seconds") and "12 minutes" in not_ready.meaning
    silent = alarms["node-watcher-silent"]
    # No count at all is the watcher's silence, not a healthy cluster.
    assert (silent.treat_missing_data, silent.comparison, silent.threshold) == ("breaching", "LessThanThreshold", 1)
    assert not_ready.treat_missing_data == "notBreaching"


def test_the_self_managed_airflow_alarms_read_the_stacks_own_namespace_and_the_clusters_scheduler():
    """What Airflow sends reaches CloudWatch under the stack's namespace with the agent's one dimension (the twin
    holds the names to what Airflow emits: tests/runtime/twin/test_metrics.py), and so does the node watcher's count
    (tests/runtime/test_node_readiness.py); the cluster's unschedulable pods come from EKS under the cluster's name."""
    settings = from_stack_file(PROJECT_DIR, "prod")
    alarms = {a.what: a for a in self_managed_alarms(settings.name, settings.database, MonitoringSettings())}
    assert {"scheduler-heartbeat", "tasks-stuck-queued", "task-failures", "import-errors", "pods-unschedulable",
            "nodes-not-ready", "node-watcher-silent"} <= set(alarms)
    airflow = [m for a in alarms.values() for m in a.metrics() if m.namespace == f"Airflow/{settings.name}"]
    assert {m.name for m in airflow} == {"airflow_scheduler_heartbeat", "airflow_executor_queued_tasks",
                                         "airflow_executor_running_tasks", "airflow_ti_failures",
                                         "airflow_dag_processing_import_errors", "cluster_oldest_not_ready_seconds",
                                         "cluster_nodes"}
    assert all(set(dict(m.dimensions)) == {"metric_type"} for m in airflow)
    pending = alarms["pods-unschedulable"].metric
    assert (pending.namespace, pending.name, pending.dimensions) == (
        "AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE", (("ClusterName", settings.name),))
    assert alarms["pods-unschedulable"].evaluation_periods * alarms["pods-unschedulable"].period == 15 * 60


# max_connections read from RDS instances (`show max_connections`; the default LEAST(DBInstanceClassMemory/9531392,
# 5000)): the estimate must not be above them, or an alarm at a share of it could never fire.
MEASURED_MAX_CONNECTIONS = {"db.t4g.small": 198, "db.t4g.medium": 413, "db.m6g.large": 856}


@pytest.mark.parametrize("instance_class", sorted(MEASURED_MAX_CONNECTIONS))
def test_the_connection_estimate_is_at_or_below_what_rds_allows(instance_class):
    from stackconfig import limits

    estimate = limits.rds_max_connections_estimate(instance_class)
    assert 0.9 * MEASURED_MAX_CONNECTIONS[instance_class] <= estimate <= MEASURED_MAX_CONNECTIONS[instance_class]


@pytest.mark.parametrize("instance_class, memory_gib, connections", [
    ("db.t4g.micro", 1, 73), ("db.t4g.medium", 4, 411), ("db.m6g.large", 8, 847), ("db.r6g.large", 16, 1694),
    ("db.m7g.4xlarge", 64, 5000), ("db.r8g.48xlarge", 1536, 5000)])
def test_the_connection_and_memory_alarms_follow_the_instance_class(instance_class, memory_gib, connections):
    settings = from_stack_file(PROJECT_DIR, "prod")
    database = settings.database.model_copy(update={"instance_class": instance_class})
    alarms = {a.what: a for a in self_managed_alarms(settings.name, database, MonitoringSettings(
        database_connections_percent=50, database_freeable_memory_percent=10))}
    assert alarms["database-connections"].threshold == connections // 2
    assert alarms["database-memory"].threshold == memory_gib * 1024**3 * 10 / 100


# RDS user guide, "Hardware specifications for DB instance classes" (a sample of each kind of class).
PUBLISHED_MEMORY_GIB = {"db.t3.micro": 1, "db.t4g.2xlarge": 32, "db.m5.24xlarge": 384, "db.m6i.32xlarge": 512,
                        "db.m7i.48xlarge": 768, "db.r5.large": 16, "db.r6i.32xlarge": 1024, "db.r8g.48xlarge": 1536,
                        "db.m6gd.16xlarge": 256, "db.r6gd.12xlarge": 384}


def test_every_offered_instance_class_has_its_memory():
    from stackconfig import limits

    assert {c: limits.rds_instance_memory_gib(c) for c in PUBLISHED_MEMORY_GIB} == PUBLISHED_MEMORY_GIB
    for family, sizes in limits.RDS_INSTANCE_SIZES.items():
        for size in sizes:
            assert limits.rds_instance_memory_gib(f"db.{family}.{size}") >= 1


@pytest.mark.parametrize("managed", [True, False])
def test_the_dashboard_lists_every_alarm_and_graphs_each(managed):
    alarms = managed_alarms("airflow-prod", MonitoringSettings()) if managed else self_managed_alarms(
        "airflow-prod", from_stack_file(PROJECT_DIR, "prod").database, MonitoringSettings())
    body = json.loads(dashboard_json(dashboard_body("airflow-prod", "eu-west-1", ACCOUNT, alarms, managed=managed)))
    strip = body["widgets"][0]
    assert strip["type"] == "alarm"
    assert strip["properties"]["alarms"] == [
        f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:{alarm_name('airflow-prod', a.what)}" for a in alarms]
    titles = [w["properties"]["title"] for w in body["widgets"][1:]]
    assert [a.what for a in alarms] == titles[: len(alarms)]
    # CloudWatch's dashboard quotas: 500 widgets; a widget's grid is 24 columns wide.
    assert len(body["widgets"]) <= 500 and all(w["x"] + w["width"] <= 24 for w in body["widgets"])
    searches = [q["expression"] for w in body["widgets"] for row in w["properties"].get("metrics", [])
                for q in row if isinstance(q, dict) and "expression" in q]
    assert bool(searches) == managed
    for search in searches:
        # A schema in braces matches only metrics with exactly its dimensions (CloudWatch user guide,
        # search-expression-syntax): MWAA's carry Environment with Cluster, a database role or Queue, so none here.
        assert "{" not in search and 'Environment="airflow-prod"' in search and '"AWS/MWAA"' in search, search


def test_the_stack_key_admits_cloudwatch_for_this_environments_alarms_only():
    policy = key_policy(region="eu-west-1", account=ACCOUNT, environment="airflow-prod")
    statement = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchAlarmsOfThisEnvironment")
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    pattern = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    assert pattern == alarm_arn_pattern("eu-west-1", ACCOUNT, "airflow-prod")
    for alarm in managed_alarms("airflow-prod", MonitoringSettings()):
        assert fnmatchcase(f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:{alarm_name('airflow-prod', alarm.what)}", pattern)
    assert not fnmatchcase(f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:airflow-dev-scheduler-heartbeat", pattern)
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_the_pulumi_arguments_carry_every_field_of_the_request():
    from components.shared.alarm_definitions import metric_alarm_args

    for _, environment, alarms in _alarms():
        for alarm in alarms:
            request = put_metric_alarm_input(alarm, environment, TOPIC)
            args = metric_alarm_args(alarm, environment, TOPIC)
            assert len(args) == len(request)  # one argument per field: none dropped in translation
            assert args["name"] == request["AlarmName"] and args["threshold"] == request["Threshold"]
            assert args["alarm_actions"] == args["ok_actions"] == [TOPIC]
            if alarm.expression:
                queries = {q["id"]: q for q in args["metric_queries"]}
                assert queries["alarm"] == {"id": "alarm", "return_data": True, "expression": alarm.expression,
                                            "label": alarm.what}
                for metric in alarm.inputs:
                    assert queries[metric.id] == {"id": metric.id, "return_data": False, "metric": {
                        "namespace": metric.namespace, "metric_name": metric.name, "dimensions": dict(metric.dimensions),
                        "period": alarm.period, "stat": metric.statistic}}
            else:
                assert args["dimensions"] == dict(alarm.metric.dimensions) and args["period"] == alarm.period
