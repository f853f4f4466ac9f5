"""Housekeeping on the twin: the metadata cleanup CronJob's container (k8s/housekeeping.py, the entrypoint's
db-clean role) run for real against the twin's PostgreSQL, with its rendered environment. A finished run pushed 400
days into the past goes, with its task instances; every other run and task instance (the package's other tests
leave many) stays."""

from __future__ import annotations

import subprocess
import time

import pytest

from k8s.housekeeping import METADATA_CLEANUP
from local.chaos import run_state, trigger
from local.environment import pod_processes

pytestmark = pytest.mark.runtime
DAG = "hello_secrets"


def _count(twin, table: str, where: str = "true") -> int:
    return int(twin.postgres.query(f"select count(*) from {table} where {where}")[0][0])


def test_the_metadata_cleanup_deletes_the_history_past_its_retention_only(twin):
    # A finished run the package's other tests left (a worker pod each task costs CI's cores), else one of its own.
    finished = twin.postgres.query(f"select run_id from dag_run where dag_id = '{DAG}' and state = 'success' "
                                   "order by run_id limit 1")
    old = finished[0][0] if finished else f"housekeeping-{int(time.time())}"
    if not finished:
        trigger(twin, DAG, old)
        assert run_state(twin, DAG, old) == "success"
    # 400 days ago: past the prod stack's 90-day retention (db clean reads each table's own time column).
    for table in ("dag_run", "task_instance"):
        twin.postgres.query(f"update {table} set start_date = start_date - interval '400 days', "
                            f"end_date = end_date - interval '400 days' where dag_id = '{DAG}' and run_id = '{old}'")
    runs, instances = _count(twin, "dag_run"), _count(twin, "task_instance")
    assert _count(twin, "task_instance", f"dag_id = '{DAG}' and run_id = '{old}'") == 2

    cron = twin._pod_object("CronJob", METADATA_CLEANUP)
    job_pod = {"metadata": cron["metadata"], "spec": cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]}
    (argv, env), = pod_processes(twin.state, job_pod, twin.work / "metadata-cleanup")
    assert argv[-1] == "db-clean" and env["DB_CLEAN_RETENTION_DAYS"] == "90"
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]

    this_run = f"dag_id = '{DAG}' and run_id = '{old}'"
    assert _count(twin, "dag_run", this_run) == 0 and _count(twin, "task_instance", this_run) == 0
    assert _count(twin, "dag_run") == runs - 1 and _count(twin, "task_instance") == instances - 2
    # Deleted, not archived: no _airflow_deleted__ table keeps the rows.
    assert twin.postgres.query("select count(*) from pg_tables where tablename like '_airflow_deleted__%'") == [["0"]]
