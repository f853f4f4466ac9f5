"""The twin's Airflow reaches its database through PgBouncer, as the pods do on the cluster (k8s/pgbouncer.py): a
task's worker pod gets PgBouncer's address, and PgBouncer counts the transactions it carried, while PostgreSQL
sees no more server connections from it than its pool holds."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from k8s import environment
from local.chaos import run_state, trigger

pytestmark = pytest.mark.runtime
DAG = "hello_secrets"

SHOW = """
import json, sys, psycopg2
connection = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), dbname="pgbouncer", user=sys.argv[2], password=sys.argv[3])
connection.autocommit = True  # PgBouncer's console takes simple queries, no transactions
cursor = connection.cursor()
out = {}
for what in ("STATS", "POOLS"):
    cursor.execute(f"SHOW {what}")
    names = [c[0] for c in cursor.description]
    out[what] = [dict(zip(names, row)) for row in cursor.fetchall()]
print(json.dumps(out, default=str))
"""


def _show(twin) -> dict:
    pooler = twin.pgbouncer
    done = subprocess.run([str(twin.bin / "python"), "-c", SHOW, str(pooler.port), pooler.username, pooler.password],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _transactions(twin) -> int:
    return sum(int(row["total_xact_count"]) for row in _show(twin)["STATS"] if row["database"] == "airflow")


def test_tasks_reach_the_database_through_pgbouncer_in_transaction_pooling(twin):
    assert twin.pgbouncer is not None, "the stack's PgBouncer is on: the twin runs it"
    before = _transactions(twin)
    run_id = f"pgbouncer-{int(time.time())}"
    trigger(twin, DAG, run_id)
    assert run_state(twin, DAG, run_id) == "success"
    assert _transactions(twin) > before
    # The run's worker pods were given PgBouncer's address, not the server's (each pod's processes as it ran them).
    steps = [json.loads(p.read_text()) for p in (twin.work / "pods").glob(f"*{run_id}*.steps")]
    assert steps
    for pod in steps:
        _argv, env = pod[-1]
        assert f"@127.0.0.1:{twin.pgbouncer.port}/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    pools = {row["database"]: row for row in _show(twin)["POOLS"]}
    assert pools["airflow"]["pool_mode"] == "transaction"
    # The server's connections from PgBouncer stay within its pool (one replica here, however many clients).
    servers = int(twin.postgres.query(
        "select count(*) from pg_stat_activity where backend_type = 'client backend' and datname = 'airflow'")[0][0])
    assert servers <= twin.spec.pgbouncer_pool_size + 12, servers  # + the direct ones: this query, a cleanup


def test_the_migrations_go_straight_to_the_server(twin):
    job = twin._pod("Job", "airflow-migrate")["spec"]
    migrate = next(c for c in job["initContainers"] if c["name"] == "migrate")
    ref = next(e for e in migrate["env"] if e["name"] == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    assert ref["valueFrom"]["secretKeyRef"]["key"] == environment.DIRECT_CONNECTION_KEY
    assert twin.secret_values[environment.DIRECT_CONNECTION_KEY] == twin.database_url
    assert f":{twin.pgbouncer.port}/" in twin.secret_values["sql-alchemy-conn"]
