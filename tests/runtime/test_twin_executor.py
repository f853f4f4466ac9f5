"""The twin's executor (local/twin_executor.py) in the image's own Airflow, without a scheduler: what it reports for
pods whose runner is gone (Failed, its container killed so a retry cannot run beside it), for an adopted pod whose
runner's pid now belongs to another process, and for one whose runner lives (still watched); and pod names that
stay apart for long task ids of one run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.runtime
PROJECT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, os, subprocess, sys
from pathlib import Path

from airflow.models.taskinstancekey import TaskInstanceKey

from local.pod_runner import CONTAINER_PID, process_start, write_phase
from local.twin_executor import RECORD, TwinPodExecutor, pod_name

pods = Path(sys.argv[1])
executor = TwinPodExecutor()
executor.pod_dir, executor.watched, executor.runners = pods, {}, {}


def key(task_id):
    return TaskInstanceKey("d", task_id, "manual__2024-01-01", 1, -1)


def pod(name, runner=None):
    path = pods / name
    write_phase(path, "Running")
    if runner is not None:  # an adopted pod's record names its runner
        path.with_name(name + RECORD).write_text(json.dumps({"runner": runner}))
    executor.watched[key(name)] = path
    executor.running.add(key(name))
    return path


# This scheduler's own runner, gone without a last phase; its container still sleeping in its own process group.
container = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], process_group=0)
pod("own").with_name("own" + CONTAINER_PID).write_text(str(container.pid))
runner = subprocess.Popen([sys.executable, "-c", "pass"])
runner.wait()
executor.runners[key("own")] = runner
# Adopted: the runner's pid is this process now, which started later than the runner did.
pod("reused", {"pid": os.getpid(), "start": "1"})
# Adopted: the runner lives (this process, as it started).
pod("live", {"pid": os.getpid(), "start": process_start(os.getpid())})

executor.sync()
long = "t" * 70
print(json.dumps({
    "events": {k.task_id: str(getattr(state, "value", state)) for k, (state, _) in executor.event_buffer.items()},
    "watched": sorted(k.task_id for k in executor.watched),
    "container": container.wait(timeout=10),
    "names": [pod_name("d-" + long, key(long + suffix)) for suffix in ("a", "b")],
}))
'''


def test_pods_whose_runner_is_gone_fail_and_a_live_runners_pod_is_still_watched(tmp_path, image_env_bin):
    env = {"PATH": f"{image_env_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "AIRFLOW_HOME": str(tmp_path),
           "PYTHONPATH": str(PROJECT), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    done = subprocess.run([str(image_env_bin / "python"), "-c", SCRIPT, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["events"] == {"own": "failed", "reused": "failed"}
    assert seen["watched"] == ["live"]
    assert seen["container"] == -9  # killed with its pod, not left to run beside the retry
    first, second = seen["names"]
    assert first != second and len(first) < 160
