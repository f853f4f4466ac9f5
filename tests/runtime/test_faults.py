"""Faults the twin's kubelet survives, on the session's twin: a component killed outright comes back (restart with
back-off, init containers not run again), and DAG runs complete after it."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.runtime.test_twin import _api

pytestmark = pytest.mark.runtime


def _run(twin, run_id: str, timeout: float = 240) -> str:
    _api(twin, "PATCH", "/dags/hello_secrets", {"is_paused": False})
    _api(twin, "POST", "/dags/hello_secrets/dagRuns", {"dag_run_id": run_id})
    deadline, state = time.time() + timeout, "queued"
    import json

    while time.time() < deadline and state not in ("success", "failed"):
        time.sleep(2)
        state = json.loads(_api(twin, "GET", f"/dags/hello_secrets/dagRuns/{run_id}"))["state"]
    return state


def _wait_parsed(twin, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            _api(twin, "GET", "/dags/hello_secrets")
            return
        except Exception:
            assert time.time() < deadline, "hello_secrets was never parsed"
            time.sleep(2)


def test_a_scheduler_killed_outright_is_restarted_and_runs_complete(twin):
    _wait_parsed(twin)
    scheduler = twin.kubelet.containers["scheduler-scheduler"]
    killed, restarts = scheduler.process, scheduler.restarts
    os.killpg(killed.pid, signal.SIGKILL)
    deadline = time.time() + 60
    while time.time() < deadline and scheduler.restarts == restarts:
        time.sleep(0.5)
    assert scheduler.restarts == restarts + 1 and scheduler.process is not killed
    assert scheduler.backoffs[-1] >= 10  # the kubelet's first back-off
    assert _run(twin, "after-scheduler-kill") == "success"


def test_a_dag_sync_sidecar_killed_comes_back_and_keeps_the_folder(twin):
    sidecar = twin.kubelet.containers["scheduler-dag-sync"]
    restarts = sidecar.restarts
    os.killpg(sidecar.process.pid, signal.SIGKILL)
    deadline = time.time() + 60
    while time.time() < deadline and sidecar.restarts == restarts:
        time.sleep(0.5)
    assert sidecar.restarts == restarts + 1
    assert (twin.work / "scheduler" / "dags" / "hello_secrets.py").exists()
