"""The twin run end to end: PostgreSQL, moto's S3 and Secrets Manager, the migration Job, then scheduler,
webserver and triggerer processes with exactly their rendered environments; the sample DAG runs, each task as the
worker pod Airflow's PodGenerator builds; logs land in the log bucket where the webserver reads them."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import kubernetes_validate
import pytest

from k8s import environment
from local.environment import container_env, swapped
from local.twin import wait_until

pytestmark = pytest.mark.runtime
from tests.runtime.conftest import GREETING


def _api(twin, method, path, body=None, accept="application/json") -> str:
    user, password = twin.admin
    request = urllib.request.Request(
        f"http://127.0.0.1:{twin.web_port}/api/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
                 "Content-Type": "application/json", "Accept": accept},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def dag_run(twin) -> str:
    deadline = time.time() + 120
    while True:  # the scheduler's DAG processor serialises the synced DAG first
        try:
            _api(twin, "GET", "/dags/hello_secrets")
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(2)
    _api(twin, "PATCH", "/dags/hello_secrets", {"is_paused": False})
    _api(twin, "POST", "/dags/hello_secrets/dagRuns", {"dag_run_id": "twin-test"})
    deadline = time.time() + 240
    state = "queued"
    while time.time() < deadline and state not in ("success", "failed"):
        time.sleep(2)
        state = json.loads(_api(twin, "GET", "/dags/hello_secrets/dagRuns/twin-test"))["state"]
    return state


def test_health_reports_the_metadatabase_and_scheduler_healthy(twin):
    health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{twin.web_port}/health").read())
    assert health["metadatabase"]["status"] == "healthy"
    assert health["scheduler"]["status"] == "healthy" and health["triggerer"]["status"] == "healthy"


def test_components_run_with_exactly_their_rendered_environment(twin):
    config_maps = twin.state["config_maps"]
    for component in ("scheduler", "webserver", "triggerer"):
        deployment = next(o for o in twin.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == f"airflow-{component}")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        expected = swapped(
            container_env(container, config_maps, twin.state["secrets"]),
            home=twin.work / component, dags=twin.work / component / "dags",
            pod_template=Path(twin.state["pod_template"]), aws_endpoint=twin.aws_endpoint, executor=twin.state["executor"],
            service_endpoints=twin.state["service_endpoints"], plugins=Path(twin.state["plugins"]),
            statsd=twin.state["statsd"], image_dir=Path(twin.state["image_dir"]),
        )
        # Running: a container the kubelet is restarting (its liveness probe failed on a busy machine, and the
        # kubelet stops it with SIGTERM, as Kubernetes does) is back after its back-off.
        try:
            wait_until(lambda: twin.processes[f"{component}-{component}"].poll() is None, 240, f"{component} back")
        except TimeoutError:
            pass
        assert twin.processes[f"{component}-{component}"].poll() is None, f"{component} stopped"
        argv, actual = twin.launched[f"{component}-{component}"]
        assert argv[-1] == component and argv[-2].endswith("docker/entrypoint.sh")
        added = set(actual) - set(expected)
        # The twin's own: paths, its state, the replica's port, and the pod's hostname (local/hostname.py); and the
        # image's ENV that the twin repeats (docker/Dockerfile).
        assert added <= {"PATH", "HOME", "PYTHONPATH", "TWIN_STATE", "AIRFLOW__WEBSERVER__WEB_SERVER_PORT",
                         "HOSTNAME", "AIRFLOW__CORE__HOSTNAME_CALLABLE", "PYTHONDONTWRITEBYTECODE"}
        assert actual["HOSTNAME"] == component  # the first replica's pod name
        assert {k: actual[k] for k in expected} == expected
        assert actual["AIRFLOW__CORE__FERNET_KEY"] == twin.secret_values["fernet-key"]


def test_the_sample_dag_succeeds_with_each_task_run_as_its_worker_pod(twin, dag_run):
    assert dag_run == "success"
    every_pod = [json.loads(p.read_text()) for p in sorted((twin.work / "pods").glob("*.json"))]
    # This run's pods (the package's twin also ran the fault and load DAGs).
    pods = [p for p in every_pod if p["metadata"]["annotations"]["dag_id"] == "hello_secrets"
            and p["metadata"]["annotations"]["run_id"] == "twin-test"]
    assert {p["metadata"]["annotations"]["task_id"] for p in pods} == {"read_greeting", "announce"}
    scheduler_secret_env = [e for e in environment.airflow_secret_env(twin.spec)]
    for pod in pods:
        kubernetes_validate.validate(pod, "1.35.0", strict=True)
        base = pod["spec"]["containers"][0]
        assert base["name"] == "base" and base["args"][:3] == ["airflow", "tasks", "run"]
        assert [e for e in base["env"] if "valueFrom" in e] == scheduler_secret_env


def test_task_logs_are_in_the_log_bucket_and_the_webserver_serves_them(twin, dag_run):
    s3 = boto3.client("s3", endpoint_url=twin.aws_endpoint, region_name=twin.spec.region,
                      aws_access_key_id="twin", aws_secret_access_key="twin")
    # A task's log is uploaded as its process ends, which can be after the run is marked done: wait for it.
    wanted = {f"task-logs/dag_id=hello_secrets/run_id=twin-test/task_id={t}/attempt=1.log" for t in ("read_greeting", "announce")}
    deadline = time.time() + 60
    while True:
        keys = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=twin.spec.log_bucket)
                for o in page.get("Contents", [])}
        if wanted <= keys or time.time() > deadline:
            break
        time.sleep(2)
    for task in ("read_greeting", "announce"):
        assert f"task-logs/dag_id=hello_secrets/run_id=twin-test/task_id={task}/attempt=1.log" in keys
    served = _api(twin, "GET", "/dags/hello_secrets/dagRuns/twin-test/taskInstances/read_greeting/logs/1", accept="text/plain")
    # The Variable came from Secrets Manager, and the log from S3 (the worker "pod" is gone).
    assert f"greeting: {GREETING}" in served
    assert "s3://" in served or "Found logs in s3" in served or "task-logs/" in served
    announced = _api(twin, "GET", "/dags/hello_secrets/dagRuns/twin-test/taskInstances/announce/logs/1", accept="text/plain")
    assert f"announced: {GREETING.upper()}" in announced


def test_the_projects_plugins_load_in_the_scheduler_and_a_worker_pod(twin, dag_run):
    """The image carries plugins/ as Airflow's plugins folder (docker/Dockerfile, AIRFLOW__CORE__PLUGINS_FOLDER): every
    component and worker pod sees the same plugins; here each one's own environment lists them."""
    from local.pod_runner import STEPS

    pod = next(p for p in sorted((twin.work / "pods").glob(f"*{STEPS}")) if p.name.startswith("hello-secrets-read-greeting"))
    worker_env = json.loads(pod.read_text())[-1][1]  # the base container's (argv, env)
    # The webserver's settings are the scheduler's (one ConfigMap); a worker pod's come through the pod template.
    for label, env in (("scheduler-scheduler", twin.launched["scheduler-scheduler"][1]), ("worker pod", worker_env)):
        listed = subprocess.run([str(twin.bin / "airflow"), "plugins", "--output", "json"], env=env,
                                capture_output=True, text=True, timeout=300)
        assert listed.returncode == 0, (label, listed.stderr[-2000:])
        names = {plugin["name"] for plugin in json.loads(listed.stdout[listed.stdout.index("["):])}
        assert "platform_macros" in names, (label, names)
