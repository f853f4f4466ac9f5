"""A twin worker pod (local/pod_runner.py): init containers then the container, one after the other; the phase the
executor reads says which failed, and a pod that succeeded says so."""

from __future__ import annotations

import json
import sys

from local.pod_runner import CONTAINER_PID, STEPS, read_phase, run


def _pod(tmp_path, *codes: int):
    pod = tmp_path / "pod"
    steps = [[[sys.executable, "-c", f"import sys; print('step {i}'); sys.exit({code})"], {}] for i, code in enumerate(codes)]
    pod.with_name(pod.name + STEPS).write_text(json.dumps(steps))
    return pod


def test_every_step_runs_in_order_and_the_pod_succeeds(tmp_path):
    pod = _pod(tmp_path, 0, 0, 0)
    assert read_phase(pod) == {"phase": "Pending"}
    assert run(pod, tmp_path / "log") == 0
    assert read_phase(pod)["phase"] == "Succeeded"
    assert (tmp_path / "log").read_text().split() == ["step", "0", "step", "1", "step", "2"]
    assert int(pod.with_name(pod.name + CONTAINER_PID).read_text()) > 0


def test_a_failed_init_container_fails_the_pod_and_the_container_never_runs(tmp_path):
    pod = _pod(tmp_path, 0, 3, 0)
    assert run(pod, tmp_path / "log") == 3
    phase = read_phase(pod)
    assert phase["phase"] == "Failed" and phase["reason"] == "init container 1 exited with 3"
    assert "step 2" not in (tmp_path / "log").read_text()


def test_a_failed_container_is_named_as_the_container(tmp_path):
    pod = _pod(tmp_path, 0, 1)
    run(pod, tmp_path / "log")
    assert read_phase(pod)["reason"] == "container 1 exited with 1"


def test_a_deleted_pod_passes_sigterm_to_its_container_and_ends_failed(tmp_path):
    import os
    import signal
    import subprocess
    import time
    from pathlib import Path

    pod = tmp_path / "pod"
    steps = [[[sys.executable, "-c", "import time; time.sleep(60)"], {}]]
    pod.with_name(pod.name + STEPS).write_text(json.dumps(steps))
    project = str(Path(__file__).resolve().parents[2])
    runner = subprocess.Popen([sys.executable, "-m", "local.pod_runner", str(pod), str(tmp_path / "log")],
                              env={**os.environ, "PYTHONPATH": project}, start_new_session=True)
    deadline = time.time() + 30
    while not pod.with_name(pod.name + CONTAINER_PID).exists() and time.time() < deadline:
        time.sleep(0.1)
    container = int(pod.with_name(pod.name + CONTAINER_PID).read_text())
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=30) == 143
    phase = read_phase(pod)
    assert phase["phase"] == "Failed" and phase["reason"] == "the pod was deleted (SIGTERM)", phase
    assert phase["exit_code"] == -signal.SIGTERM  # the container had the SIGTERM and had exited when the phase was written
    try:
        os.kill(container, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the container outlived its pod")
