"""The worker pod template the KubernetesExecutor starts every task from. Airflow merges its own container into the
FIRST container by position, so that container is `base`; the DAG sync runs as an init container, never first."""

from __future__ import annotations

import yaml

from k8s import identities
from k8s.containers import (
    CHECKOV_SKIPS,
    POD_ANNOTATIONS,
    checkov_annotations,
    VOLUMES,
    airflow_container,
    dag_sync_container,
    labels,
    pod_security_context,
)
from k8s.spec import POD_TEMPLATE_FILE, AirflowSpec

CONFIG_MAP = "airflow-pod-template"
_RUNS_TO_COMPLETION = (
    "a task pod runs once to completion: a probe would kill long tasks, and Airflow's own heartbeat finds a stuck one"
)
WORKER_CHECKOV_SKIPS = {**CHECKOV_SKIPS, "CKV_K8S_8": _RUNS_TO_COMPLETION, "CKV_K8S_9": _RUNS_TO_COMPLETION}
KEY = POD_TEMPLATE_FILE.rsplit("/", 1)[1]


def config_map_name(spec: AirflowSpec) -> str:
    """Named for the Airflow version, as the settings are (k8s/spec.py version_suffix)."""
    return f"{CONFIG_MAP}-{spec.version_suffix}"


def worker_pod_template(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "airflow-worker",
            "namespace": spec.namespace,
            "labels": labels(spec, "worker"),
            "annotations": {**POD_ANNOTATIONS, **checkov_annotations(WORKER_CHECKOV_SKIPS)},
        },
        "spec": {
            "serviceAccountName": identities.WORKER,
            "automountServiceAccountToken": False,
            "restartPolicy": "Never",
            "securityContext": pod_security_context(),
            "initContainers": [dag_sync_container(spec, once=True, archive=True)],
            # The executor supplies args (`airflow tasks run ...`); the image's entrypoint runs them.
            "containers": [airflow_container(spec, "base", [], spec.resources["worker"])],
            "volumes": VOLUMES,
        },
    }


def pod_template_config_map(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": config_map_name(spec), "namespace": spec.namespace, "labels": labels(spec, "worker")},
        "data": {KEY: yaml.safe_dump(worker_pod_template(spec), sort_keys=False)},
    }
