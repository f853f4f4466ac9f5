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
from pathlib import Path

PHASE = ".phase"
STEPS = ".steps"
# Each container's process group, for a fault to kill the task's container alone (the pod then fails, as on a node).
CONTAINER_PID = ".container-pid"


def write_phase(pod: Path, phase: str, **detail) -> None:
    partial = pod.with_name(pod.name + PHASE + ".partial")
    partial.write_text(json.dumps({"phase": phase, **detail}))
    os.replace(partial, pod.with_name(pod.name + PHASE))


def read_phase(pod: Path) -> dict:
    try:
        return json.loads(pod.with_name(pod.name + PHASE).read_text())
    except (FileNotFoundError, ValueError):
        return {"phase": "Pending"}


def run(pod: Path, log: Path) -> int:
    steps = json.loads(pod.with_name(pod.name + STEPS).read_text())
    # The runner's pid: a pod whose runner is gone without a last phase is Failed (the executor's rule, as for a pod
    # deleted with its node).
    write_phase(pod, "Running", runner_pid=os.getpid())
    with open(log, "ab") as out:
        for index, (argv, env) in enumerate(steps):
            # A process group per container: killing the task's container leaves this runner to report it.
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0)
            pod.with_name(pod.name + CONTAINER_PID).write_text(str(process.pid))
            _current[:] = [process]
            code = process.wait()
            if code != 0:
                kind = "init container" if index < len(steps) - 1 else "container"
                write_phase(pod, "Failed", exit_code=code, reason=f"{kind} {index} exited with {code}")
                return code
    write_phase(pod, "Succeeded", exit_code=0)
    return 0


_current: list[subprocess.Popen] = []  # the container running now


def _terminated(pod: Path):
    """SIGTERM (a pod deleted): the container gets it first, as the kubelet sends it, and the pod ends Failed."""
    def handler(signum, _frame):
        for process in _current:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        write_phase(pod, "Failed", exit_code=128 + signum, reason="the pod was deleted (SIGTERM)")
        sys.exit(128 + signum)
    return handler


def main(argv: list[str]) -> int:
    pod, log = Path(argv[0]), Path(argv[1])
    signal.signal(signal.SIGTERM, _terminated(pod))
    return run(pod, log)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
