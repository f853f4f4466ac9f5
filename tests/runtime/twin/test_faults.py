"""Faults on the package's twin (the prod stack's replicas), through the functions `make chaos` runs: a scheduler
killed outright while a run waits for it comes back (the kubelet's back-off, init containers not run again) and the
run completes; a killed sidecar comes back and syncs again; a task process killed mid-task, Secrets Manager away, a
broken DAG pushed and a DAG edit, at once (they leave each other alone); one of two schedulers lost mid-run; S3 away
for 60 s; the database away for 90 s. Each run completes within its retries."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.chaos import BROKEN_MESSAGE, FAULTS, RETRIES, wait_until
from tests.runtime.twin.test_twin import _api

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


def test_faults_that_leave_each_other_alone_at_once(twin):
    names = ("worker", "secrets", "import-error", "dag-edit")
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {name: pool.submit(FAULTS[name], twin) for name in names}
    findings = {name: future.result() for name, future in futures.items()}
    print("\n".join(f.line() for f in findings.values()))  # whole, where the assertion's message is cut short
    assert [name for name, f in findings.items() if not f.survived] == []
    # The killed try failed and the retry ran: two tries, the task after it one.
    assert findings["worker"].facts["tries"] == {"work": 2, "after": 1}
    # The failed try says why: the secrets backend could not be read.
    assert findings["secrets"].facts["tries"] == {"read_greeting": 2} and findings["secrets"].facts["log_names_backend"]
    assert BROKEN_MESSAGE in findings["import-error"].facts["stack_trace"]
    assert findings["import-error"].facts["tries"] == {"work": 1, "after": 1}
    # An edit reaches the scheduler's parse within the sidecar's interval and the twin's parse interval.
    assert findings["dag-edit"].facts["seconds"] <= twin.spec.dag_sync_interval_seconds + 30


def test_one_of_two_schedulers_lost_mid_run_the_other_carries_it(twin):
    assert twin.replicas("scheduler") == 2
    finding = FAULTS["scheduler"](twin)
    assert finding.survived, finding.line()
    # The task after the long one was queued by the other scheduler while the lost one was down.
    assert finding.facts["carried_by"] and finding.facts["lost_job"] not in finding.facts["carried_by"]
    # Its running task's pod was adopted by the other scheduler, as the KubernetesExecutor adopts, not reset and rerun.
    assert finding.facts["adopted_by"] != finding.facts["lost_job"]
    assert finding.facts["tries"] == {"work": 1, "after": 1}


def test_s3_away_for_a_minute_the_folders_stay_and_a_retry_succeeds(twin):
    finding = FAULTS["s3"](twin, outage=60)
    assert finding.survived, finding.line()
    # Each sidecar tried while S3 was away (and failed), kept its folder byte for byte, then synced again.
    assert all(finding.facts["kept"].values()) and all(finding.facts["tried"].values())
    assert any("init container" in str(phase) for phase in finding.facts["pods"]), finding.facts["pods"]
    assert 2 <= finding.facts["tries"]["quick"] <= RETRIES + 2


def test_the_database_away_for_90_seconds_the_run_completes(twin):
    finding = FAULTS["database"](twin, outage=90)
    assert finding.survived, finding.line()
    assert all(n <= RETRIES + 1 for n in finding.facts["tries"].values())


def test_the_ui_service_sends_connections_to_ready_webservers_only(twin):
    assert twin.replicas("webserver") == 2
    wait_until(lambda: len(twin.ready_webservers()) == 2, 240, "both webservers were not ready")
    lost = "webserver-1-webserver"
    twin.kubelet.hold(lost)  # its pod gone: no longer ready, so no longer an endpoint
    try:
        assert twin.ready_webservers() == [twin.webserver_ports["webserver"]]
        before = twin.web_service.connections
        assert [urllib.request.urlopen(twin.health_url, timeout=10).status for _ in range(10)] == [200] * 10
        assert twin.web_service.connections - before >= 10
    finally:
        twin.kubelet.release(lost)
    # Back once its startup and readiness probes pass.
    wait_until(lambda: len(twin.ready_webservers()) == 2, 240, f"{lost} did not become ready again")
