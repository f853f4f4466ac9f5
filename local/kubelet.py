"""The part of the kubelet the twin needs: a pod's long-running containers are restarted when they exit (back-off
10 s, doubling to 5 minutes, reset after 10 minutes up), probes run as the manifest declares them (exec and httpGet,
with their period, timeout and failure threshold), a failing liveness probe restarts its container, and the startup
probe holds the liveness probe back until it has passed. Readiness is tracked for the twin to read. Worker pods
(`restartPolicy: Never`) are not here: Airflow's retries stand for them (local/twin_executor.py).

Kubernetes' rules: "Container restart policy" and "Configure Liveness, Readiness and Startup Probes"
(kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

BACKOFF_FIRST = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET_AFTER = 600.0


@dataclass
class Probe:
    check: Callable[[float], bool]  # timeout -> passed
    period: float = 10
    timeout: float = 1
    failure_threshold: int = 3
    initial_delay: float = 0

    @classmethod
    def from_manifest(cls, probe: Optional[dict], *, env: dict[str, str], command: Callable[[list[str]], list[str]],
                      port: Callable[[int], int]) -> Optional["Probe"]:
        """A container's probe as Kubernetes reads it (its defaults: period 10 s, timeout 1 s, threshold 3)."""
        if not probe:
            return None
        if "exec" in probe:
            argv = command(list(probe["exec"]["command"]))

            def check(timeout: float) -> bool:
                try:
                    return subprocess.run(argv, env=env, capture_output=True, timeout=timeout).returncode == 0
                except subprocess.TimeoutExpired:
                    return False
        elif "httpGet" in probe:
            get = probe["httpGet"]
            url = f"http://127.0.0.1:{port(int(get['port']))}{get.get('path', '/')}"

            def check(timeout: float) -> bool:
                try:
                    with urllib.request.urlopen(url, timeout=timeout) as answer:
                        return 200 <= answer.status < 400
                except Exception:  # noqa: BLE001 - any failure to answer is a failed probe
                    return False
        else:
            raise ValueError(f"the twin runs exec and httpGet probes, not {sorted(probe)}")
        return cls(
            check=check,
            period=float(probe.get("periodSeconds", 10)),
            timeout=float(probe.get("timeoutSeconds", 1)),
            failure_threshold=int(probe.get("failureThreshold", 3)),
            initial_delay=float(probe.get("initialDelaySeconds", 0)),
        )


@dataclass
class Container:
    label: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    startup: Optional[Probe] = None
    liveness: Optional[Probe] = None
    readiness: Optional[Probe] = None
    process: Optional[subprocess.Popen] = None
    restarts: int = 0  # how many times the kubelet restarted it (never reset)
    crashes: int = 0  # restarts since it last stayed up BACKOFF_RESET_AFTER: the back-off's exponent
    started_at: float = 0.0
    restart_at: Optional[float] = None
    started: bool = False  # the startup probe has passed (or there is none)
    ready: bool = False
    events: list[str] = field(default_factory=list)
    backoffs: list[float] = field(default_factory=list)  # each restart's wait, in seconds
    _failures: dict[str, int] = field(default_factory=dict)
    _due: dict[str, float] = field(default_factory=dict)
    _busy: set = field(default_factory=set)


class Kubelet:
    """Runs containers with restartPolicy Always; `tick` seconds between looks."""

    def __init__(self, tick: float = 0.5, backoff_first: float = BACKOFF_FIRST):
        self.containers: dict[str, Container] = {}
        self.tick = tick
        self.backoff_first = backoff_first
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="twin-kubelet", daemon=True)
        self._thread.start()

    def run(self, container: Container) -> Container:
        with self._lock:
            self.containers[container.label] = container
            self._launch(container)
        return container

    def _launch(self, c: Container) -> None:
        log = open(c.log, "ab")
        c.process = subprocess.Popen(c.argv, env=c.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        now = time.monotonic()
        # Without a readiness probe a container is ready once started (Kubernetes' default: Success).
        c.started_at, c.restart_at, c.started = now, None, c.startup is None
        c.ready = c.started and c.readiness is None
        c._failures.clear()
        c._due = {kind: now + probe.initial_delay for kind, probe in self._probes(c).items()}

    @staticmethod
    def _probes(c: Container) -> dict[str, Probe]:
        return {k: p for k, p in (("startup", c.startup), ("liveness", c.liveness), ("readiness", c.readiness)) if p}

    def _loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                for c in list(self.containers.values()):
                    self._look_at(c)
            self._stopping.wait(self.tick)

    def _look_at(self, c: Container) -> None:
        now = time.monotonic()
        if c.process is not None and c.process.poll() is not None and c.restart_at is None:
            # Exited: what it started goes with it (a container's processes end together), then a restart after the
            # back-off, which grows with each crash of a container that did not stay up.
            _signal_group(c.process, signal.SIGKILL)
            if now - c.started_at >= BACKOFF_RESET_AFTER:
                c.crashes = 0
            delay = min(self.backoff_first * (2 ** c.crashes), BACKOFF_MAX)
            c.crashes += 1
            c.restart_at = now + delay
            c.backoffs.append(delay)
            c.ready = False
            c.events.append(f"exited with {c.process.returncode}; restarting in {delay:.0f} s")
        if c.restart_at is not None:
            if now >= c.restart_at:
                c.restarts += 1
                self._launch(c)
                c.events.append(f"restarted (restart {c.restarts})")
            return
        for kind, probe in self._probes(c).items():
            # Liveness and readiness wait for the startup probe to pass; the startup probe then stops.
            if kind in ("liveness", "readiness") and not c.started or kind == "startup" and c.started:
                continue
            if kind in c._busy or now < c._due.get(kind, now):
                continue
            c._due[kind] = now + probe.period
            c._busy.add(kind)
            threading.Thread(target=self._probe, args=(c, kind, probe, c.process), daemon=True).start()

    def _probe(self, c: Container, kind: str, probe: Probe, process: subprocess.Popen) -> None:
        try:
            passed = probe.check(probe.timeout)
        except Exception:  # noqa: BLE001 - a probe that cannot run (fork failed, no such file) has failed
            passed = False
        kill = False
        with self._lock:
            c._busy.discard(kind)
            if c.process is not process or c.restart_at is not None:
                return  # the container has moved on
            if passed:
                c._failures[kind] = 0
                if kind == "startup":
                    c.started = True
                    c.ready = c.readiness is None
                if kind == "readiness":
                    c.ready = True
                return
            c._failures[kind] = c._failures.get(kind, 0) + 1
            if kind == "readiness":
                c.ready = c.ready and c._failures[kind] < probe.failure_threshold
            elif c._failures[kind] >= probe.failure_threshold:
                c.events.append(f"{kind} probe failed {c._failures[kind]} times: killing")
                kill = True
        if kill:  # outside the lock: the grace period must not stop the kubelet looking at the others
            self._kill(process)

    @staticmethod
    def _kill(process: subprocess.Popen, grace: float = 30) -> None:
        """SIGTERM, then SIGKILL after the grace period, to the process group (as the kubelet stops a container)."""
        if process.poll() is not None:
            _signal_group(process, signal.SIGKILL)
            return
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(process, signal.SIGKILL)

    def hold(self, label: str) -> None:
        """The container is killed and not restarted until `release`: its pod lost with its node, for a fault."""
        with self._lock:
            c = self.containers[label]
            c.restart_at = float("inf")
            process = c.process
            c.started = c.ready = False  # gone: started again only once its restart's startup probe passes
            c.events.append("held down (its node lost)")
        if process is not None:
            _signal_group(process, signal.SIGKILL)

    def release(self, label: str) -> None:
        with self._lock:
            c = self.containers[label]
            c.restart_at = time.monotonic()
            c.events.append("released")

    def remove(self, label: str) -> None:
        """Stop a container for good (a pod deleted, as a rollout does)."""
        with self._lock:
            c = self.containers.pop(label, None)
        if c is not None and c.process is not None:
            self._kill(c.process)

    def stop(self) -> None:
        """Every container at once, each with its grace period, as a node drains."""
        self._stopping.set()
        self._thread.join(timeout=5)
        stoppers = [threading.Thread(target=self.remove, args=(label,)) for label in list(self.containers)]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # already gone
