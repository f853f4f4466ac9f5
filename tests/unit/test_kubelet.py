"""The twin's kubelet (local/kubelet.py) on small processes: restarts with back-off, probes as declared."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from local.kubelet import BACKOFF_MAX, Container, Kubelet, Probe


def _until(check, timeout: float = 15) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def _container(tmp_path: Path, code: str, **probes) -> Container:
    return Container("c", [sys.executable, "-c", code], {"PATH": "/usr/bin:/bin"}, tmp_path / "c.log", **probes)


def test_an_exited_container_is_restarted_with_a_growing_back_off(tmp_path):
    kubelet = Kubelet(tick=0.05, backoff_first=0.3)
    try:
        c = kubelet.run(_container(tmp_path, "raise SystemExit(3)"))
        assert _until(lambda: c.restarts >= 3)
        # Doubling from the first wait, as the kubelet's CrashLoopBackOff does (capped at BACKOFF_MAX).
        assert c.backoffs[:3] == [0.3, 0.6, 1.2] and all(b <= BACKOFF_MAX for b in c.backoffs)
        assert "exited with 3" in c.events[0]
    finally:
        kubelet.stop()


def test_a_failing_liveness_probe_restarts_the_container_and_startup_holds_it_back(tmp_path):
    healthy = tmp_path / "healthy"
    calls = {"liveness": 0}

    def live(_timeout: float) -> bool:
        calls["liveness"] += 1
        return healthy.exists()

    kubelet = Kubelet(tick=0.05, backoff_first=0.1)
    try:
        c = kubelet.run(_container(
            tmp_path, "import time; time.sleep(60)",
            startup=Probe(check=lambda _t: healthy.exists(), period=0.1, failure_threshold=1000),
            liveness=Probe(check=live, period=0.1, failure_threshold=2),
        ))
        time.sleep(0.5)
        assert calls["liveness"] == 0 and not c.started  # liveness waits for the startup probe
        first = c.process
        healthy.touch()
        assert _until(lambda: c.started)
        healthy.unlink()
        assert _until(lambda: c.restarts == 1 and c.process is not first)
        assert first.poll() is not None and any("liveness probe failed 2 times" in e for e in c.events)
    finally:
        kubelet.stop()


def test_readiness_follows_its_probe_and_a_removed_container_stays_stopped(tmp_path):
    ready = tmp_path / "ready"
    kubelet = Kubelet(tick=0.05)
    try:
        c = kubelet.run(_container(tmp_path, "import time; time.sleep(60)",
                                   readiness=Probe(check=lambda _t: ready.exists(), period=0.1, failure_threshold=1)))
        time.sleep(0.3)
        assert not c.ready
        ready.touch()
        assert _until(lambda: c.ready)
        ready.unlink()
        assert _until(lambda: not c.ready)
        process = c.process
        kubelet.remove("c")
        assert process.poll() is not None and "c" not in kubelet.containers
    finally:
        kubelet.stop()


def test_probes_are_read_from_the_manifest_with_kubernetes_defaults(tmp_path):
    probe = Probe.from_manifest({"exec": {"command": ["python", "-c", "pass"]}}, env={"PATH": "/usr/bin:/bin"},
                                command=lambda argv: [sys.executable if a == "python" else a for a in argv], port=int)
    assert (probe.period, probe.timeout, probe.failure_threshold, probe.initial_delay) == (10, 1, 3, 0)
    assert probe.check(5) is True
    http = Probe.from_manifest({"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5}, env={},
                               command=list, port=lambda _p: 9)
    assert http.period == 5 and http.check(1) is False  # nothing listens on port 9


def test_a_held_container_stays_down_until_released(tmp_path):
    kubelet = Kubelet(tick=0.05, backoff_first=0.1)
    try:
        c = kubelet.run(_container(tmp_path, "import time; time.sleep(60)"))
        first = c.process
        kubelet.hold("c")
        assert _until(lambda: first.poll() is not None) and not c.ready
        time.sleep(0.5)  # several back-offs' worth: no restart while its node is lost
        assert c.restarts == 0 and c.process is first
        kubelet.release("c")
        assert _until(lambda: c.restarts == 1 and c.process is not first and c.process.poll() is None)
    finally:
        kubelet.stop()
