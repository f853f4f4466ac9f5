"""Airflow 3's async engine (asyncpg) behind PgBouncer's transaction pooling, as the stack renders it: its URL and
connect arguments (docker/airflow_async_connect.py) through Debian's PgBouncer with the stack's pgbouncer.ini, many
statements on several engines at once, none failing. asyncpg's own defaults (a cache of named prepared statements)
fail here: a statement runs on another server connection, under another client's name."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace

import pytest

from k8s.environment import airflow_settings
from k8s.spec import AirflowSpec
from stackconfig.project_files import PROJECT_DIR, offered_image_versions

pytestmark = pytest.mark.runtime

CONCURRENT = """
import asyncio, json
from airflow.configuration import conf
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

url = conf.get("database", "sql_alchemy_conn_async")
args = conf.getimport("database", "sql_alchemy_connect_args_async")
engines = [create_async_engine(url, connect_args=args, pool_size=2) for _ in range(4)]
failures = []

async def work(engine, n):
    for i in range(30):
        try:
            async with engine.connect() as connection:
                value = (await connection.execute(text("select cast(:x as integer) + :y"), {"x": i, "y": n})).scalar()
                assert value == i + n, value
        except Exception as err:  # noqa: BLE001 - counted
            failures.append(type(err).__name__ + ": " + str(err)[:160])

async def main():
    await asyncio.gather(*(work(engine, n) for n, engine in enumerate(engines)))
    for engine in engines:
        await engine.dispose()

asyncio.run(main())
print(json.dumps({"statements": 120, "failures": failures}))
"""


def test_airflow_3s_async_engine_runs_through_pgbouncers_transaction_pooling(tmp_path, image_envs):
    from local.pgbouncer import LocalPgBouncer
    from local.twin import LocalPostgres, free_port

    version = next(v for v in offered_image_versions() if not v.startswith("2."))
    spec = AirflowSpec(environment="async", namespace="airflow", image="i", region="eu-west-1", dag_bucket="d",
                       log_bucket="l", role_arns={}, secrets_backend={}, airflow_version=version)
    server = LocalPostgres(tmp_path)
    server.start()
    pooler = LocalPgBouncer(replace(spec, pgbouncer_pool_size=3), server_port=server.port, port=free_port(),
                            username="postgres", password="a-password")
    try:
        pooler.start(tmp_path / "pgbouncer.log")
        settings = airflow_settings(spec)
        env = {"PATH": f"{image_envs[version]}:/usr/bin:/bin", "HOME": str(tmp_path), "AIRFLOW_HOME": str(tmp_path),
               "PYTHONPATH": str(PROJECT_DIR / "docker"),
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": pooler.url,
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": pooler.async_url,
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": settings["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"]}
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"] == "airflow_async_connect.PGBOUNCER"
        done = subprocess.run([str(image_envs[version] / "python"), "-c", CONCURRENT], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["failures"] == [], result["failures"][:5]
    finally:
        pooler.stop()
        server.stop()
