"""A container's environment as Kubernetes would give it (ConfigMap `envFrom`, Secret `secretKeyRef`, literal
values), then the twin's swaps: what points at the cluster or AWS points at this machine instead."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from k8s.spec import DAGS_FOLDER, PLUGINS_FOLDER, POD_TEMPLATE_FILE
from k8s.sso import WEBSERVER_CONFIG


def container_env(container: Mapping, config_maps: Mapping[str, Mapping[str, str]], secrets: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef") or source.get("config_map_ref")
        env.update(config_maps[ref["name"]])
    for item in container.get("env") or []:
        if item.get("value") is not None:
            env[item["name"]] = item["value"]
            continue
        source = item.get("valueFrom") or item.get("value_from") or {}
        ref = source.get("secretKeyRef") or source.get("secret_key_ref")
        env[item["name"]] = secrets[ref["name"]][ref["key"]]
    return env


EXECUTION_API_URL = "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"
PLUGINS_SETTING = "AIRFLOW__CORE__PLUGINS_FOLDER"
STATSD_HOST, STATSD_PORT = "AIRFLOW__METRICS__STATSD_HOST", "AIRFLOW__METRICS__STATSD_PORT"
# The file under <work>/pods where the twin's executor lists the worker pods' process ids.
WORKER_PIDS = "worker-pids"


def swapped(env: Mapping[str, str], *, home: Path, dags: Path, pod_template: Path, aws_endpoint: str, executor: str,
            execution_api: str | None = None, service_endpoints: Mapping[str, str] | None = None,
            plugins: Path | None = None, statsd: str | None = None, image_dir: Path | None = None) -> dict[str, str]:
    """What differs on this machine: paths, the AWS endpoint (moto for S3 and Secrets Manager; dummy keys stand in
    for IRSA; `service_endpoints`, botocore's AWS_ENDPOINT_URL_<SERVICE> variables, put one service behind a Service
    of the twin's that a fault can take away), the executor (worker pods become local processes run from the same pod spec) and, on Airflow 3, the
    execution API's in-cluster Service (the api-server on localhost); `plugins`: the project's plugins folder, which the
    image carries at PLUGINS_FOLDER; `statsd`: host:port of the twin's StatsD sink, in the metrics agent's place."""
    out = {key: value.replace(DAGS_FOLDER, str(dags)).replace(POD_TEMPLATE_FILE, str(pod_template)) for key, value in env.items()}
    if plugins is not None and out.get(PLUGINS_SETTING) == PLUGINS_FOLDER:
        out[PLUGINS_SETTING] = str(plugins)
    if execution_api and EXECUTION_API_URL in out:
        out[EXECUTION_API_URL] = execution_api
    if image_dir is not None:  # the files the image carries at /opt/image/, from the project's docker/
        for key, value in out.items():
            if value == WEBSERVER_CONFIG:
                out[key] = str(image_dir / Path(WEBSERVER_CONFIG).name)
    if statsd and STATSD_HOST in out:
        out[STATSD_HOST], out[STATSD_PORT] = statsd.rsplit(":", 1)
    out.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "twin",
            "AWS_SECRET_ACCESS_KEY": "twin",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "10",
            # A dead scheduler's task instances are adopted or reset within seconds, not Airflow's 5 minutes, so the
            # fault suite sees the adoption (local/twin_executor.py) within a run.
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
            # A task whose heartbeat stopped (its pod gone, or the database away under it) is retried after a minute,
            # not Airflow's 5 (Airflow 2's name, then Airflow 3's).
            "AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD": "60",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
            "NO_PROXY": "127.0.0.1,localhost",
            # The twin's OpenID Connect provider answers on http://127.0.0.1 (authlib wants https elsewhere).
            "AUTHLIB_INSECURE_TRANSPORT": "1",
            **(service_endpoints or {}),
        }
    )
    return out


def pod_processes(state: dict, pod: dict, home: Path, *, containers: str = "first") -> list[tuple[list[str], dict[str, str]]]:
    """(argv, env) for the pod's init containers and then its containers (the first only, or all), as the kubelet
    would run them; the pod's writable volumes (AIRFLOW_HOME, the DAG folder) live under `home`."""
    runs = []
    dags = home / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    chosen = pod["spec"]["containers"][:1] if containers == "first" else pod["spec"]["containers"]
    for container in (pod["spec"].get("initContainers") or []) + chosen:
        env = swapped(
            container_env(container, state["config_maps"], state["secrets"]),
            home=home, dags=dags, pod_template=Path(state["pod_template"]),
            aws_endpoint=state["aws_endpoint"], executor=state["executor"], execution_api=state.get("execution_api"),
            service_endpoints=state.get("service_endpoints"), plugins=Path(state["plugins"]) if state.get("plugins") else None,
            statsd=state.get("statsd"), image_dir=Path(state["image_dir"]) if state.get("image_dir") else None,
        )
        # The project (the twin's own modules) and the image's modules installed beside Airflow (docker/*.py).
        env.update({"PATH": f"{state['bin']}:/usr/bin:/bin", "HOME": str(home),
                    "PYTHONPATH": f"{state['project']}:{state['image_dir']}",
                    # As the image (docker/Dockerfile): no bytecode, here none written into the project's docker/.
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "TWIN_STATE": state["state_file"],
                    # The pod's own hostname (local/hostname.py, importable through PYTHONPATH): a replica's probe
                    # sees its own job, not another's.
                    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "local.hostname.pod_hostname", "HOSTNAME": home.name})
        args = [a.replace(DAGS_FOLDER, str(dags)) for a in container.get("args") or []]
        if container.get("command"):
            command = [f"{state['bin']}/python" if c == "python" else c.replace("/opt/image/", state["image_dir"] + "/")
                       for c in container["command"]]
        else:
            command = ["bash", state["entrypoint"]]
        runs.append((command + args, env))
    return runs
