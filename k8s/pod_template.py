"""The worker pod template the KubernetesExecutor starts every task from. Airflow merges its own container into the
FIRST container by position, so that container is `base`; the DAG sync runs as an init container, never first."""

from __future__ import annotations

import yaml

from k8s import identities
from k8s.containers import (
    VOLUMES,
    airflow_container,
    dag_sync_container,
    labels,
    pod_security_context,
)
from k8s.spec import POD_TEMPLATE_FILE, AirflowSpec

CONFIG_MAP = "airflow-pod-template"
KEY = POD_TEMPLATE_FILE.rsplit("/", 1)[1]


def worker_pod_template(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "airflow-worker", "namespace": spec.namespace, "labels": labels(spec, "worker")},
        "spec": {
            "serviceAccountName": identities.WORKER,
            "automountServiceAccountToken": False,
            "restartPolicy": "Never",
            "securityContext": pod_security_context(),
            "initContainers": [dag_sync_container(spec, once=True)],
            # The executor supplies args (`airflow tasks run ...`); the image's entrypoint runs them.
            "containers": [airflow_container(spec, "base", [], spec.resources["worker"])],
            "volumes": VOLUMES,
        },
    }


def pod_template_config_map(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG_MAP, "namespace": spec.namespace, "labels": labels(spec, "worker")},
        "data": {KEY: yaml.safe_dump(worker_pod_template(spec), sort_keys=False)},
    }
