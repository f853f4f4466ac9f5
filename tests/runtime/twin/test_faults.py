"""Faults the twin's kubelet survives, on the session's twin: a scheduler killed outright while a run waits for it
comes back (the kubelet's back-off, init containers not run again) and the run completes; a killed sidecar comes
back and syncs again."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.runtime.test_twin import _api

pytestmark = pytest.mark.runtime


def _wait_parsed(twin, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            _api(twin, "GET", "/dags/hello_secrets")
            return
        except Exception:
            assert time.time() < deadline, "hello_secrets was never parsed"
            time.sleep(2)


def test_a_scheduler_killed_outright_is_restarted_and_the_run_under_way_completes(twin):
    from local.kubelet import BACKOFF_FIRST

    _wait_parsed(twin)
    scheduler = twin.kubelet.containers["scheduler-scheduler"]
    killed, restarts = scheduler.process, scheduler.restarts
    inits = sorted(label for label in twin.processes if label.startswith("scheduler-init-"))
    run_id = "killed-scheduler"
    _api(twin, "PATCH", "/dags/hello_secrets", {"is_paused": False})
    _api(twin, "POST", "/dags/hello_secrets/dagRuns", {"dag_run_id": run_id})
    os.killpg(killed.pid, signal.SIGKILL)  # the run is queued: only a scheduler can carry it on
    deadline = time.time() + 60
    while time.time() < deadline and scheduler.restarts == restarts:
        time.sleep(0.5)
    assert scheduler.restarts == restarts + 1 and scheduler.process is not killed
    # The kubelet's back-off for this crash, and a container restart only: its pod's init containers do not run again.
    assert scheduler.backoffs[-1] == BACKOFF_FIRST * 2 ** (scheduler.crashes - 1)
    assert sorted(label for label in twin.processes if label.startswith("scheduler-init-")) == inits
    assert _finished(twin, run_id) == "success"


def _finished(twin, run_id: str, timeout: float = 240) -> str:
    import json

    deadline, state = time.time() + timeout, "queued"
    while time.time() < deadline and state not in ("success", "failed"):
        time.sleep(2)
        state = json.loads(_api(twin, "GET", f"/dags/hello_secrets/dagRuns/{run_id}"))["state"]
    return state


def test_a_dag_sync_sidecar_killed_comes_back_and_syncs_again(twin):
    sidecar = twin.kubelet.containers["scheduler-dag-sync"]
    state = twin.work / "scheduler" / "dags" / ".dag-sync-state.json"
    restarts = sidecar.restarts
    os.killpg(sidecar.process.pid, signal.SIGKILL)
    killed_at = time.time()
    deadline = time.time() + 60
    while time.time() < deadline and sidecar.restarts == restarts:
        time.sleep(0.5)
    assert sidecar.restarts == restarts + 1
    # The restarted sidecar's first pass rewrites its state file (the liveness probe watches its age).
    deadline = time.time() + 30
    while time.time() < deadline and state.stat().st_mtime < killed_at:
        time.sleep(0.5)
    assert state.stat().st_mtime >= killed_at
    assert (twin.work / "scheduler" / "dags" / "hello_secrets.py").exists()
