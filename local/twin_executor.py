"""The twin's executor: each task becomes the worker pod the KubernetesExecutor would create (Airflow's own
PodGenerator, from the rendered pod template), and that pod's init container and `base` container run as local
processes with the pod's command and environment. Loaded by the twin's scheduler as
`local.twin_executor.TwinPodExecutor`; its settings come from the file named by TWIN_STATE.

Airflow 2 hands the executor a command (`airflow tasks run ...`, execute_async); Airflow 3 hands it workloads
(_process_workloads), which the KubernetesExecutor turns into the worker's `python -m
airflow.sdk.execution_time.execute_workload --json-string ...`: the provider's own function does the same here."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from airflow.executors.base_executor import BaseExecutor
from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator
from kubernetes.client import ApiClient

from local.environment import WORKER_PIDS, pod_processes
from local.pod_runner import CONTAINER_PID, STEPS, process_start, read_phase

RECORD = ".record"


def worker_pod(state: dict, key, command: list[str]) -> dict:
    """The pod the KubernetesExecutor would send to the cluster for this task, as a manifest."""
    template = PodGenerator.deserialize_model_file(state["pod_template"])
    pod = PodGenerator.construct_pod(
        dag_id=key.dag_id,
        task_id=key.task_id,
        pod_id=f"{key.dag_id}-{key.task_id}".replace("_", "-").lower()[:60],
        try_number=key.try_number,
        kube_image=state["image"],
        date=None,
        args=list(command),
        pod_override_object=None,
        base_worker_pod=template,
        namespace=state["namespace"],
        scheduler_job_id="twin",
        run_id=key.run_id,
        map_index=key.map_index,
    )
    return ApiClient().sanitize_for_serialization(pod)


def pod_name(manifest_name: str, key) -> str:
    """One pod (and emptyDir home) per task try of each run, as the cluster would have. The manifest's name is cut to
    60 characters and the run id's part here too (a file name has 255 bytes at most), so a digest of the whole key
    keeps two tasks from sharing a pod."""
    digest = hashlib.sha256(json.dumps(_key_record(key), sort_keys=True).encode()).hexdigest()[:8]
    run = re.sub(r"[^A-Za-z0-9]+", "-", key.run_id)[:60]
    return f"{manifest_name[:60]}-{run}-{key.try_number}-{digest}"


def _key_record(key) -> dict:
    return {"dag_id": key.dag_id, "task_id": key.task_id, "run_id": key.run_id, "try_number": key.try_number,
            "map_index": key.map_index}


class TwinPodExecutor(BaseExecutor):
    """Worker pods as local processes (local/pod_runner.py). Each pod is labelled with the scheduler job that created
    it (`<pod>.record`, the KubernetesExecutor's `airflow-worker` label); a scheduler that takes over a dead one's
    task instances adopts their pods by relabelling them (try_adopt_task_instances), as the KubernetesExecutor does,
    so a task under way is neither lost nor run twice."""

    def start(self) -> None:
        self.state = json.loads(Path(os.environ["TWIN_STATE"]).read_text())
        self.pod_dir = Path(self.state["work"]) / "pods"
        self.pod_dir.mkdir(parents=True, exist_ok=True)
        self.watched: dict = {}  # task instance key -> its pod's path (no extension)
        self.runners: dict = {}  # task instance key -> the runner this scheduler started (adopted pods have none)

    def _process_workloads(self, workloads) -> None:  # Airflow 3
        from airflow.providers.cncf.kubernetes.pod_generator import workload_to_command_args

        for workload in workloads:
            key = workload.ti.key
            self.queued_tasks.pop(key, None)
            self.running.add(key)
            self._launch(key, workload_to_command_args(workload))

    def execute_async(self, key, command, queue=None, executor_config=None) -> None:  # Airflow 2
        self._launch(key, command)

    def _launch(self, key, command) -> None:
        manifest = worker_pod(self.state, key, command)
        name = pod_name(manifest["metadata"]["name"], key)
        pod = self.pod_dir / name
        # Kept for inspection: what the cluster would have been asked to run.
        (self.pod_dir / f"{name}.json").write_text(json.dumps(manifest, indent=1))
        steps = pod_processes(self.state, manifest, pod)
        pod.with_name(name + STEPS).write_text(json.dumps(steps))
        self._label(pod, key)  # labelled before it runs, as a pod is created with its labels
        runner = subprocess.Popen([sys.executable, "-m", "local.pod_runner", str(pod), str(pod.with_name(name + ".log"))],
                                  env=steps[-1][1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        started = process_start(runner.pid)
        self._label(pod, key, runner={"pid": runner.pid, "start": started})
        with open(self.pod_dir / WORKER_PIDS, "a") as pids:
            pids.write(f"{runner.pid} {started or '-'}\n")  # for the twin to stop them with everything else
        self.watched[key] = pod
        self.runners[key] = runner

    def _label(self, pod: Path, key, runner: dict | None = None) -> None:
        record = pod.with_name(pod.name + RECORD)
        if runner is None:  # relabelled (adopted): the pod's runner stays as it was
            try:
                runner = json.loads(record.read_text()).get("runner")
            except (FileNotFoundError, ValueError):
                runner = None
        partial = record.with_name(record.name + ".partial")
        partial.write_text(json.dumps({"key": _key_record(key), "scheduler_job_id": self.job_id,
                                       # the scheduler container's process group: which replica's pod this is
                                       "scheduler_pgid": os.getpgid(0), "runner": runner}))
        os.replace(partial, record)

    def _runner_gone(self, key, pod: Path) -> bool:
        runner = self.runners.get(key)
        if runner is not None:
            return runner.poll() is not None
        try:  # an adopted pod: its runner is another scheduler's child
            found = json.loads(pod.with_name(pod.name + RECORD).read_text()).get("runner")
        except (FileNotFoundError, ValueError):
            return False
        if not found:
            return False  # not started yet when its scheduler was lost: its phase will tell
        return process_start(found["pid"]) != found["start"] if found["start"] else not _alive(found["pid"])

    def sync(self) -> None:
        for key, pod in list(self.watched.items()):
            phase = read_phase(pod)
            if phase["phase"] in ("Pending", "Running") and self._runner_gone(key, pod):
                # Gone without a last phase (killed outright): Failed, as the KubernetesExecutor fails the task of a
                # pod deleted before it completed; its container goes with it, so the retry cannot run beside it.
                # Read again first: it may have written one as it exited.
                phase = read_phase(pod)
                if phase["phase"] in ("Pending", "Running"):
                    _kill_container(pod)
                    phase = {"phase": "Failed"}
            if phase["phase"] in ("Succeeded", "Failed"):
                del self.watched[key]
                self.runners.pop(key, None)
                if phase["phase"] == "Succeeded":
                    self.success(key)
                else:
                    self.fail(key)

    def try_adopt_task_instances(self, tis):
        """The pods of a dead scheduler's task instances become this one's; the task instances with no pod are
        returned, for the scheduler to reset (Airflow's rule, as the KubernetesExecutor's)."""
        by_key = {}
        for record in self.pod_dir.glob(f"*{RECORD}"):
            try:
                found = json.loads(record.read_text())
            except (FileNotFoundError, ValueError):
                continue
            by_key[tuple(sorted(found["key"].items()))] = (record, found)
        not_adopted = []
        for ti in tis:
            match = by_key.get(tuple(sorted(_key_record(ti.key).items())))
            if match is None or str(match[1]["scheduler_job_id"]) != str(ti.queued_by_job_id):
                not_adopted.append(ti)
                continue
            pod = match[0].with_name(match[0].name[: -len(RECORD)])
            self._label(pod, ti.key)
            self.running.add(ti.key)
            self.watched[ti.key] = pod
        return not_adopted

    def end(self) -> None:
        """A scheduler stopping reports what has finished and leaves the pods running (the KubernetesExecutor's end()
        does not wait for them): the next scheduler adopts them."""
        self.sync()

    def terminate(self) -> None:
        pass  # the pods outlive the scheduler, as on the cluster


def _alive(pid: int) -> bool:
    """Where there is no /proc (macOS): the signal test, which a reused pid or a zombie passes."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_container(pod: Path) -> None:
    try:
        os.killpg(int(pod.with_name(pod.name + CONTAINER_PID).read_text()), signal.SIGKILL)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pass
