"""The self-managed alarms read metrics Airflow really sends: every alarm on the stack's Airflow namespace names a
metric (and its StatsD type, the agent's `metric_type` dimension) that the twin's Airflow processes sent to the
StatsD address the stack gives them, turned into CloudWatch's name by the agent's rule (k8s/metrics.py)."""

from __future__ import annotations

import time

import pytest

from components.shared.alarm_definitions import self_managed_alarms
from k8s.metrics import STATSD_TYPES, agent_metric_name, metrics_namespace
from k8s.node_readiness import NODES, OLDEST_NOT_READY
from k8s.spec import DAG_PREFIX
from local.chaos import run_state, trigger
from local.twin import wait_until
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR

pytestmark = pytest.mark.runtime

FAILING_DAG = """
from datetime import datetime
from airflow.decorators import dag, task


@dag(dag_id="metrics_failure", start_date=datetime(2024, 1, 1), schedule=None, catchup=False)
def metrics_failure():
    @task(retries=0)
    def fail():
        raise RuntimeError("a failure for the ti_failures metric")

    fail()


metrics_failure()
"""


def _sent(twin) -> set[tuple[str, str]]:
    """(CloudWatch name, metric_type) of everything the twin's Airflow sent so far."""
    return {(agent_metric_name(name), STATSD_TYPES[kind]) for name, kinds in twin.statsd.names().items()
            for kind in kinds if kind in STATSD_TYPES}


def test_every_airflow_alarm_reads_a_metric_airflow_sends(twin):
    settings = from_stack_file(PROJECT_DIR, twin.stack, {"flavour": "self-managed"})
    namespace = metrics_namespace(twin.environment)
    # The node watcher's gauges share the namespace; tests/runtime/test_node_readiness.py holds them to what it sends.
    watcher = {agent_metric_name(name) for name in (OLDEST_NOT_READY, NODES)}
    wanted = {(m.name, dict(m.dimensions)["metric_type"])
              for alarm in self_managed_alarms(twin.environment, settings.database, settings.monitoring)
              for m in alarm.metrics() if m.namespace == namespace and m.name not in watcher}
    assert {name for name, _ in wanted} >= {"airflow_scheduler_heartbeat", "airflow_ti_failures"}

    if ("airflow_ti_failures", "counter") not in _sent(twin):  # the package's earlier tests may have failed none
        twin.aws_client("s3").put_object(Bucket=twin.spec.dag_bucket, Key=f"{DAG_PREFIX}/metrics_failure.py",
                                         Body=FAILING_DAG.encode())
        run_id = f"metrics-{int(time.time())}"
        trigger(twin, "metrics_failure", run_id)
        assert run_state(twin, "metrics_failure", run_id) == "failed"
    try:
        wait_until(lambda: wanted <= _sent(twin), 60, "metrics missing", every=1)
    except TimeoutError:
        pass
    sent = _sent(twin)
    assert wanted <= sent, (f"alarms on metrics Airflow never sent: {sorted(wanted - sent)}; "
                            f"sent: {sorted(n for n in sent if n[0].startswith('airflow_'))[:60]}")
