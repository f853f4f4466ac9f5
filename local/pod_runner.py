"""A worker pod on this machine: its init containers, then its container, one after the other, as the kubelet runs
a pod with `restartPolicy: Never`; the pod's phase (Pending, Running, Succeeded, Failed) is written beside it, where
the twin's executor reads it as the KubernetesExecutor watches pods through the API server. The pod runs in a
session of its own, so it outlives the scheduler that created it (and a scheduler that takes over can adopt it).

    python -m local.pod_runner <work>/pods/<pod>      # reads <pod>.steps, writes <pod>.phase
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional

PHASE = ".phase"
STEPS = ".steps"
# Each container's process group, for a fault to kill the task's container alone (the pod then fails, as on a node).
CONTAINER_PID = ".container-pid"
# A deleted pod's containers get SIGTERM, then SIGKILL after the grace period (terminationGracePeriodSeconds, 30 s
# unless the pod says otherwise); its phase is Failed only once they have exited.
GRACE_SECONDS = 30
DELETED = "the pod was deleted (SIGTERM)"


def write_phase(pod: Path, phase: str, **detail) -> None:
    partial = pod.with_name(pod.name + PHASE + ".partial")
    partial.write_text(json.dumps({"phase": phase, **detail}))
    os.replace(partial, pod.with_name(pod.name + PHASE))


def read_phase(pod: Path) -> dict:
    try:
        return json.loads(pod.with_name(pod.name + PHASE).read_text())
    except (FileNotFoundError, ValueError):
        return {"phase": "Pending"}


def process_start(pid: int) -> Optional[str]:
    """When a process started (/proc's start time, in clock ticks since boot), to tell it from a later process that
    got the same pid; None where there is no /proc (macOS), no such process, or only its zombie (dead, not reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if len(fields) < 20 or fields[0] == "Z" else fields[19]


_current: list[subprocess.Popen] = []  # the container running now
_deleted = threading.Event()
_terminated: set[int] = set()


def _terminate(process: subprocess.Popen) -> None:
    """SIGTERM to the container, then SIGKILL after the grace period (once per container)."""
    if process.pid in _terminated:
        return
    _terminated.add(process.pid)
    _signal_group(process.pid, signal.SIGTERM)
    killer = threading.Timer(GRACE_SECONDS, _signal_group, args=(process.pid, signal.SIGKILL))
    killer.daemon = True
    killer.start()


def _on_sigterm(_signum, _frame) -> None:
    """The pod deleted: the running container is terminated; run() writes the phase once it has exited."""
    _deleted.set()
    for process in list(_current):
        _terminate(process)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def run(pod: Path, log: Path) -> int:
    steps = json.loads(pod.with_name(pod.name + STEPS).read_text())
    write_phase(pod, "Running")
    with open(log, "ab") as out:
        for index, (argv, env) in enumerate(steps):
            if _deleted.is_set():
                break
            # A process group per container: killing the task's container leaves this runner to report it.
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0)
            _current[:] = [process]
            if _deleted.is_set():  # a SIGTERM while it started, before the handler could see it
                _terminate(process)
            pod.with_name(pod.name + CONTAINER_PID).write_text(str(process.pid))
            code = process.wait()
            _current.clear()
            if _deleted.is_set():
                write_phase(pod, "Failed", exit_code=code, reason=DELETED)
                return 128 + signal.SIGTERM
            if code != 0:
                kind = "init container" if index < len(steps) - 1 else "container"
                write_phase(pod, "Failed", exit_code=code, reason=f"{kind} {index} exited with {code}")
                return code
    if _deleted.is_set():
        write_phase(pod, "Failed", reason=DELETED)
        return 128 + signal.SIGTERM
    write_phase(pod, "Succeeded", exit_code=0)
    return 0


def main(argv: list[str]) -> int:
    pod, log = Path(argv[0]), Path(argv[1])
    signal.signal(signal.SIGTERM, _on_sigterm)
    return run(pod, log)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
