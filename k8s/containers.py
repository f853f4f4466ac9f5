"""The parts every Airflow pod shares: the non-root security context, the writable scratch volumes on a read-only
image, the DAG sync from S3, and an Airflow container with the common settings."""

from __future__ import annotations

from typing import Optional

from k8s.environment import airflow_env_from, airflow_secret_env
from k8s.spec import AIRFLOW_HOME, DAG_ARCHIVE_KEY, DAG_PREFIX, DAG_SYNC_SCRIPT, DAGS_FOLDER, AirflowSpec, Resources

AIRFLOW_UID = 50000
# The image's init (docker/Dockerfile's ENTRYPOINT): a program run without the entrypoint gets its signals through it,
# as a Python or C program that is PID 1 ignores a SIGTERM it has no handler for.
DUMB_INIT = "/opt/venv/bin/dumb-init"
# A pod on a node that stops answering leaves after 30 s instead of the default 300 s (the DefaultTolerationSeconds
# admission plugin's): the monitoring pods (the node watcher, the metrics agent it reports through) come back on
# another node while the failed one is still there to be reported.
LEAVE_A_FAILED_NODE_SOON = [
    {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}
    for taint in ("not-ready", "unreachable")
]

# AIRFLOW_HOME (airflow.cfg, webserver_config.py, local logs), the DAG folder and /tmp are the only writable places.
# Size limits keep local scheduler and DAG-processor logs from filling the node's disk (the pod is evicted and
# restarted instead); task logs go to S3 and are deleted locally.
VOLUMES = [
    {"name": "airflow-home", "emptyDir": {"sizeLimit": "4Gi"}},
    {"name": "dags", "emptyDir": {"sizeLimit": "1Gi"}},
    {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
]
# The Cluster Autoscaler may drain a node although Airflow's pods use emptyDir volumes (scratch only).
POD_ANNOTATIONS = {"cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": ",".join(v["name"] for v in VOLUMES)}
MOUNTS = [
    {"name": "airflow-home", "mountPath": AIRFLOW_HOME},
    {"name": "dags", "mountPath": DAGS_FOLDER},
    {"name": "tmp", "mountPath": "/tmp"},
]
DAG_SYNC_RESOURCES = Resources("50m", "256Mi")
DAG_SYNC_STATE = ".dag-sync-state.json"  # written by docker/dag_sync.py after each pass


# Checks this deployment fails on purpose (checkov reads these annotations), each with its reason.
CHECKOV_SKIPS = {
    "CKV_K8S_11": "no CPU limits on purpose: throttled schedulers miss heartbeats; CPU is requested, memory is limited",
    "CKV_K8S_35": "Airflow reads its fernet key, database URL and secret key from AIRFLOW__* variables (as the "
    "official chart does); they come from one Secret via secretKeyRef, never as literal values",
}
SA_TOKEN_SKIP = {
    "CKV_K8S_38": "this component talks to the Kubernetes API (the scheduler launches worker pods, the webserver "
    "reads their logs); the others mount no token",
}


def checkov_annotations(skips: dict[str, str]) -> dict[str, str]:
    return {f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in enumerate(sorted(skips.items()), 1)}


def deployment_labels(spec: AirflowSpec) -> dict[str, str]:
    """What every pod of this Airflow deployment carries, whatever its component (worker pods too)."""
    return {"app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": spec.environment}


def labels(spec: AirflowSpec, component: str) -> dict[str, str]:
    return {**deployment_labels(spec), "app.kubernetes.io/component": component}


VERSION_LABEL = "app.kubernetes.io/version"


def pod_labels(spec: AirflowSpec, component: str) -> dict[str, str]:
    """A pod's labels: its Deployment's selector (which never changes) and the Airflow version it runs, so that a
    Service can pick one version's pods while an upgrade rolls."""
    return {**labels(spec, component), VERSION_LABEL: spec.airflow_version}


def pod_security_context(uid: int = AIRFLOW_UID, gid: int = 0) -> dict:
    """Airflow's image's user and group by default; another image's (the metrics agent's) passes its own."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context(uid: int = AIRFLOW_UID) -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": uid,
        "capabilities": {"drop": ["ALL"]},
    }


def spread_over_zones_and_nodes(selector: dict[str, str]) -> list[dict]:
    """Replicas on different zones and nodes where they can be, so that one lost node never takes them all."""
    return [
        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": selector}}
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def resources(quota: Resources) -> dict:
    # Memory limit = request: an Airflow process over its request is killed, not the node's neighbours.
    return {"requests": {"cpu": quota.cpu, "memory": quota.memory}, "limits": {"memory": quota.memory}}


def airflow_container(
    spec: AirflowSpec,
    name: str,
    args: list[str],
    quota: Resources,
    *,
    extra_mounts: Optional[list[dict]] = None,
    extra_env: Optional[list[dict]] = None,
    direct_database: bool = False,
    **fields,
) -> dict:
    """A container of the Airflow image: the entrypoint runs `args`, with every Airflow setting and secret;
    `direct_database`: its metadata connection past PgBouncer, straight to the instance."""
    return {
        "name": name,
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        # No args in the worker template: the executor supplies them.
        **({"args": args} if args else {}),
        "envFrom": airflow_env_from(spec),
        "env": airflow_secret_env(spec, direct_database=direct_database) + (extra_env or []),
        "resources": resources(quota),
        "securityContext": container_security_context(),
        "volumeMounts": MOUNTS + (extra_mounts or []),
        **fields,
    }


def file_is_fresh(path: str, max_age_seconds: int) -> list[str]:
    """An exec probe's command (the image's Python; no shell): it fails when `path`, which a loop rewrites after
    every pass, is missing or older than `max_age_seconds`."""
    code = (f"import os,sys,time;p='{path}';"
            f"sys.exit(0 if os.path.exists(p) and time.time()-os.path.getmtime(p)<{max_age_seconds} else 1)")
    return ["python", "-c", code]


def _sync_is_fresh(interval: int) -> dict:
    # The sidecar rewrites its state file after every pass; a state older than ten passes means it is stuck.
    return {"exec": {"command": file_is_fresh(f"{DAGS_FOLDER}/{DAG_SYNC_STATE}", 10 * interval)},
            "periodSeconds": max(interval, 10), "timeoutSeconds": 10}


def dag_sync_container(spec: AirflowSpec, *, once: bool, archive: bool = False) -> dict:
    """Mirrors s3://<dag bucket>/dags/ into the DAG folder: once (before Airflow starts) or continuously. `archive`
    (a worker pod's empty folder): from the folder's one archive, so a task's start does not grow with the folder."""
    interval = 0 if once else spec.dag_sync_interval_seconds
    # Stale DAGs restart the sidecar; they never take the pod out of service (the UI keeps serving).
    probes = {} if once else {
        "livenessProbe": {**_sync_is_fresh(interval), "failureThreshold": 3},
        "readinessProbe": {
            "exec": {"command": ["python", "-c", f"import os,sys;sys.exit(0 if os.path.isdir('{DAGS_FOLDER}') else 1)"]},
            "periodSeconds": 30,
            "timeoutSeconds": 10,
        },
    }
    return {
        "name": "dag-sync-init" if once else "dag-sync",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        # Not through the entrypoint: syncing needs S3, not the metadata database.
        "command": ["python", DAG_SYNC_SCRIPT],
        "args": ["--bucket", spec.dag_bucket, "--prefix", DAG_PREFIX, "--dest", DAGS_FOLDER, "--interval", str(interval),
                 *(["--archive", DAG_ARCHIVE_KEY] if archive else [])],
        "envFrom": airflow_env_from(spec),
        "resources": resources(DAG_SYNC_RESOURCES),
        "securityContext": container_security_context(),
        "volumeMounts": MOUNTS,
        **probes,
    }


def wait_for_migrations_container(spec: AirflowSpec, quota: Resources) -> dict:
    # It loads all of Airflow (remote logging, the secrets backend): it gets its component's memory.
    return airflow_container(
        spec,
        "wait-for-migrations",
        ["airflow", "db", "check-migrations", "--migration-wait-timeout=600"],
        quota,
    )
