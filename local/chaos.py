"""`make chaos`: faults on the twin, and what Airflow did about them. Prints what it did and what it saw; exits 1
when a run did not complete or a task ran more often than its retries allow.

1. The metadata database goes away for --outage seconds (90 by default; an RDS Multi-AZ failover takes 60-120 s)
   while a DAG run is under way: components that exit are restarted by the twin's kubelet with its back-off.
2. The scheduler is killed outright (SIGKILL) while a DAG run is under way.

    make chaos [OUTAGE=90]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from local.twin import Twin, free_port
from stackcli.kubernetes import KubernetesTarget
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR as PROJECT

DAG = "chaos_long_task"
# A task that is still running when the fault hits (the sample DAG's tasks take seconds), with retries of its own.
LONG_TASK_DAG = """
from datetime import datetime, timedelta
import time
from airflow import DAG
from airflow.operators.python import PythonOperator

with DAG("chaos_long_task", start_date=datetime(2024, 1, 1), schedule=None, catchup=False,
         default_args={"retries": 2, "retry_delay": timedelta(seconds=10)}):
    PythonOperator(task_id="sleep_a_while", python_callable=lambda: time.sleep(45))
"""
RETRIES = 2


def _target(twin: Twin) -> KubernetesTarget:
    user, password = twin.admin
    return KubernetesTarget(lambda argv: ("", "", 1), webserver_url=f"http://127.0.0.1:{twin.web_port}", username=user,
                            password=password, airflow_version=twin.version, timeout=10)


def _rest(target: KubernetesTarget, method: str, path: str, body=None):
    """The REST API's answer, or None while it cannot answer (its database is away)."""
    try:
        status, answer = target.rest(method, path, body=body)
    except Exception:  # noqa: BLE001 - unreachable counts as no answer
        return None
    return answer if status < 400 else None


def _trigger(twin: Twin, run_id: str) -> None:
    target = _target(twin)
    deadline = time.time() + 180
    while _rest(target, "GET", f"/dags/{DAG}") is None:
        if time.time() > deadline:
            raise TimeoutError(f"{DAG} was not parsed")
        time.sleep(2)
    _rest(target, "PATCH", f"/dags/{DAG}", {"is_paused": False})
    body = {"dag_run_id": run_id, **({"logical_date": None} if target.airflow3 else {})}
    if _rest(target, "POST", f"/dags/{DAG}/dagRuns", body) is None:
        raise RuntimeError(f"could not trigger {run_id}")


def _wait_for_running_task(twin: Twin, run_id: str, timeout: float = 180) -> None:
    """Until the run's task is running: the fault must hit a task under way, not a finished run."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        answer = _rest(_target(twin), "GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances") or {"task_instances": []}
        if any(t["state"] == "running" for t in answer["task_instances"]):
            return
        time.sleep(0.5)
    raise TimeoutError(f"no task of {run_id} was running within {timeout:.0f} s")


def _wait_for(twin: Twin, run_id: str, states: set[str], timeout: float) -> str:
    target, deadline, state = _target(twin), time.time() + timeout, "?"
    while time.time() < deadline:
        answer = _rest(target, "GET", f"/dags/{DAG}/dagRuns/{run_id}")
        if answer is not None:
            state = answer["state"]
            if state in states:
                return state
        time.sleep(1)
    return state


def _tries(twin: Twin, run_id: str) -> dict[str, int]:
    answer = _rest(_target(twin), "GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances") or {"task_instances": []}
    return {t["task_id"]: t["try_number"] for t in answer["task_instances"]}


def _restarts(twin: Twin) -> dict[str, int]:
    return {label: c.restarts for label, c in twin.kubelet.containers.items() if c.restarts}


def database_outage(twin: Twin, outage: float, retries: int) -> bool:
    run_id = f"chaos-database-{int(time.time())}"
    _trigger(twin, run_id)
    _wait_for_running_task(twin, run_id)
    print(f"database: a task of {run_id} is running; stopping PostgreSQL for {outage:.0f} s")
    before = _restarts(twin)
    twin.postgres.pause()
    time.sleep(outage)
    twin.postgres.resume()
    back = time.monotonic()
    state = _wait_for(twin, run_id, {"success", "failed"}, 600)
    recovered = time.monotonic() - back
    tries = _tries(twin, run_id)
    restarted = {k: v - before.get(k, 0) for k, v in _restarts(twin).items() if v - before.get(k, 0)}
    print(f"database: back after {outage:.0f} s; run {state} {recovered:.0f} s later; tries per task {tries}; "
          f"containers restarted by the kubelet {restarted or 'none'}")
    return state == "success" and bool(tries) and all(t <= retries + 1 for t in tries.values())


def scheduler_killed(twin: Twin, retries: int) -> bool:
    run_id = f"chaos-scheduler-{int(time.time())}"
    _trigger(twin, run_id)
    _wait_for_running_task(twin, run_id)
    scheduler = twin.kubelet.containers["scheduler-scheduler"]
    restarts = scheduler.restarts
    print(f"scheduler: a task of {run_id} is running; SIGKILL to the scheduler (pid {scheduler.process.pid}); the "
          "task's pod runs on, as on the cluster")
    killed = time.monotonic()
    os.killpg(scheduler.process.pid, signal.SIGKILL)
    state = _wait_for(twin, run_id, {"success", "failed"}, 600)
    tries = _tries(twin, run_id)
    print(f"scheduler: restarted {scheduler.restarts - restarts} time(s) (back-off {scheduler.backoffs[-1]:.0f} s); "
          f"run {state} {time.monotonic() - killed:.0f} s after the kill; tries per task {tries}")
    return state == "success" and bool(tries) and all(t <= retries + 1 for t in tries.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=90, help="seconds the database is away (default 90)")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--work", type=Path, default=PROJECT / ".build" / "chaos")
    args = parser.parse_args(argv)
    from local import image_env

    settings = from_stack_file(PROJECT, args.stack, {"flavour": "self-managed"})
    version = settings.airflow.version
    retries = RETRIES
    bin_dir = image_env.build(PROJECT / ".venv-image" / version, version)
    shutil.rmtree(args.work, ignore_errors=True)
    twin = Twin(args.work, bin_dir, web_port=free_port(), stack=args.stack, extra_dags={"chaos_long_task.py": LONG_TASK_DAG})
    results = {}
    def stop_on(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop_on)
    try:
        began = time.monotonic()
        twin.start()
        print(f"the twin is up (Airflow {version}, {time.monotonic() - began:.0f} s); task retries: {retries}")
        results["database down"] = database_outage(twin, args.outage, retries)
        results["scheduler killed"] = scheduler_killed(twin, retries)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        twin.stop()
    for fault, ok in results.items():
        print(f"{fault}: {'survived' if ok else 'NOT survived'}")
    return 0 if results and all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
