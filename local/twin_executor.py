"""The twin's executor: each task becomes the worker pod the KubernetesExecutor would create (Airflow's own
PodGenerator, from the rendered pod template), and that pod's init container and `base` container run as local
processes with the pod's command and environment. Loaded by the twin's scheduler as
`local.twin_executor.TwinPodExecutor`; its settings come from the file named by TWIN_STATE.

Airflow 2 hands the executor a command (`airflow tasks run ...`, execute_async); Airflow 3 hands it workloads
(_process_workloads), which the KubernetesExecutor turns into the worker's `python -m
airflow.sdk.execution_time.execute_workload --json-string ...`: the provider's own function does the same here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

from airflow.executors.base_executor import BaseExecutor
from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator
from kubernetes.client import ApiClient

from local.environment import WORKER_PIDS, pod_processes


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


class TwinPodExecutor(BaseExecutor):
    def start(self) -> None:
        self.state = json.loads(Path(os.environ["TWIN_STATE"]).read_text())
        self.launched: dict = {}
        self.pods: dict = {}

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
        pod = worker_pod(self.state, key, command)
        self.pods[key] = pod
        log_dir = Path(self.state["work"]) / "pods"
        log_dir.mkdir(parents=True, exist_ok=True)
        # Kept for inspection: what the cluster would have been asked to run.
        # One pod (and emptyDir home) per task try of each run, as the cluster would have.
        pod_key = f"{pod['metadata']['name']}-{re.sub(r'[^A-Za-z0-9]+', '-', key.run_id)}-{key.try_number}"
        (log_dir / f"{pod_key}.json").write_text(json.dumps(pod, indent=1))
        home = log_dir / pod_key
        steps = pod_processes(self.state, pod, home)
        self.launched[key] = (steps, None, 0)
        self._advance(key)

    def _advance(self, key) -> None:
        steps, process, index = self.launched[key]
        if process is not None:
            code = process.poll()
            if code is None:
                return
            if code != 0:
                del self.launched[key]
                self.fail(key)
                return
            index += 1
        if index >= len(steps):
            del self.launched[key]
            self.success(key)
            return
        argv, env = steps[index]
        log = open(Path(self.state["work"]) / "pods" / f"{key.dag_id}.{key.task_id}.{key.try_number}.log", "ab")
        # A pod of its own: it outlives the scheduler that created it, as on the cluster.
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(Path(self.state["work"]) / "pods" / WORKER_PIDS, "a") as pids:
            pids.write(f"{process.pid}\n")  # for the twin to stop them with everything else
        self.launched[key] = (steps, process, index)

    def sync(self) -> None:
        for key in list(self.launched):
            self._advance(key)

    def end(self) -> None:
        while self.launched:
            self.sync()
            time.sleep(0.5)

    def terminate(self) -> None:
        for _, process, _ in self.launched.values():
            if process is not None:
                process.terminate()
