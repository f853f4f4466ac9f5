"""The running parts: the migration Job (migrations, then the admin user), and Deployments for the scheduler, the
webserver and the triggerer, each with the probes Airflow's chart uses, a DAG sync sidecar, and a
PodDisruptionBudget. The namespace, the webserver's Service and the NetworkPolicies have modules of their own."""

from __future__ import annotations

import hashlib
import json

from k8s import rbac
from k8s.containers import (
    CHECKOV_SKIPS,
    POD_ANNOTATIONS,
    SA_TOKEN_SKIP,
    VOLUMES,
    checkov_annotations,
    airflow_container,
    dag_sync_container,
    labels,
    pod_labels,
    pod_security_context,
    spread_over_zones_and_nodes,
    wait_for_migrations_container,
)
from k8s.environment import ADMIN_PASSWORD_KEY, SECRET, airflow_settings
from k8s.housekeeping import log_groomer_container
from k8s.sso import client_secret_env
from k8s.pod_template import config_map_name as pod_template_config_map_name, worker_pod_template
from k8s.spec import POD_TEMPLATE_DIR, WEBSERVER_PORT, AirflowSpec



def _job_check(job_type: str) -> dict:
    # `airflow jobs check` exits non-zero when this pod's job has stopped heartbeating.
    return {"exec": {"command": ["airflow", "jobs", "check", "--job-type", job_type, "--local"]}}


def _job_probes(job_type: str) -> dict:
    return {
        "startupProbe": {**_job_check(job_type), "periodSeconds": 10, "timeoutSeconds": 20, "failureThreshold": 30},
        "livenessProbe": {**_job_check(job_type), "periodSeconds": 60, "timeoutSeconds": 20, "failureThreshold": 5},
        # No readiness probe: no Service sends these pods traffic, and a container without one is ready once its
        # startup probe has passed (what a rollout waits for). The same check again every minute would start all of
        # Airflow once more (3-4 s of CPU) in every scheduler and triggerer pod.
    }


# checkov's readiness-probe check, skipped where the probe is left out on purpose (above).
NO_READINESS_SKIP = {
    "CKV_K8S_9": "no Service sends this component traffic: it is ready once its startup probe (airflow jobs check) "
    "passes, and its liveness probe restarts it when its job stops heartbeating",
}


def health_path(spec: AirflowSpec) -> str:
    """Airflow 2's webserver answers on /health, Airflow 3's api-server on /api/v2/monitor/health."""
    return "/api/v2/monitor/health" if spec.airflow3 else "/health"


def _http_probes(spec: AirflowSpec) -> dict:
    check = {"httpGet": {"path": health_path(spec), "port": WEBSERVER_PORT, "scheme": "HTTP"}}
    return {
        "startupProbe": {**check, "periodSeconds": 10, "timeoutSeconds": 20, "failureThreshold": 30},
        "livenessProbe": {**check, "periodSeconds": 10, "timeoutSeconds": 20, "failureThreshold": 5},
        "readinessProbe": {**check, "periodSeconds": 10, "timeoutSeconds": 20, "failureThreshold": 3},
    }


def config_checksum(spec: AirflowSpec) -> str:
    """Changes whenever the settings or the pod template do, so that the pods roll and read them again."""
    content = json.dumps([airflow_settings(spec), worker_pod_template(spec)], sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()


def _deployment(spec: AirflowSpec, component: str, replicas: int, main: dict, *, extra_volumes: list[dict] | None = None,
                writes_logs: bool = False) -> dict:
    """`writes_logs`: the component keeps log files of its own in AIRFLOW_HOME (the scheduler, DAG processor and
    triggerer), which a sidecar deletes after their retention."""
    service_account = f"airflow-{component}"
    selector = labels(spec, component)
    uses_api = service_account in rbac.USES_KUBERNETES_API
    skips = {**CHECKOV_SKIPS, **(SA_TOKEN_SKIP if uses_api else {}), **({} if "readinessProbe" in main else NO_READINESS_SKIP)}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"airflow-{component}",
            "namespace": spec.namespace,
            "labels": selector,
            "annotations": checkov_annotations(skips),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": pod_labels(spec, component),
                    # A new setting or secret value rolls the pods: both reach them as variables, read at start.
                    "annotations": {**POD_ANNOTATIONS, "checksum/config": config_checksum(spec),
                                    "checksum/secrets": spec.secrets_checksum},
                },
                "spec": {
                    "serviceAccountName": service_account,
                    "automountServiceAccountToken": uses_api,
                    "securityContext": pod_security_context(),
                    "terminationGracePeriodSeconds": 60,
                    # DAGs are in place and the schema is current before Airflow starts.
                    "initContainers": [
                        dag_sync_container(spec, once=True),
                        wait_for_migrations_container(spec, spec.resources[component]),
                    ],
                    "containers": [main, dag_sync_container(spec, once=False),
                                   *([log_groomer_container(spec)] if writes_logs else [])],
                    "volumes": VOLUMES + (extra_volumes or []),
                    "topologySpreadConstraints": spread_over_zones_and_nodes(selector),
                },
            },
        },
    }


def scheduler(spec: AirflowSpec) -> dict:
    main = airflow_container(
        spec,
        "scheduler",
        ["scheduler"],
        spec.resources["scheduler"],
        extra_mounts=[{"name": "pod-template", "mountPath": POD_TEMPLATE_DIR, "readOnly": True}],
        **_job_probes("SchedulerJob"),
    )
    volumes = [{"name": "pod-template", "configMap": {"name": pod_template_config_map_name(spec)}}]
    return _deployment(spec, "scheduler", spec.scheduler_replicas, main, extra_volumes=volumes, writes_logs=True)


def webserver(spec: AirflowSpec) -> dict:
    """The UI: `airflow webserver` on Airflow 2, `airflow api-server` (the UI, REST API v2 and the workers'
    execution API) on Airflow 3, under the one name, so that an upgrade rolls the same Deployment."""
    main = airflow_container(
        spec,
        "webserver",
        ["api-server" if spec.airflow3 else "webserver"],
        spec.resources["webserver"],
        ports=[{"name": "http", "containerPort": WEBSERVER_PORT, "protocol": "TCP"}],
        extra_env=client_secret_env(spec),
        **_http_probes(spec),
    )
    return _deployment(spec, "webserver", spec.webserver_replicas, main)


def dag_processor(spec: AirflowSpec) -> dict:
    """Airflow 3 parses DAGs in a process of its own, which the scheduler ran inside itself on Airflow 2."""
    main = airflow_container(
        spec, "dag-processor", ["dag-processor"], spec.resources["dag-processor"], **_job_probes("DagProcessorJob")
    )
    # One: several DAG processors over one DAG folder race on the same rows (apache/airflow#66788); a lost node's
    # processor is rescheduled, and the scheduler keeps running what is already parsed meanwhile.
    return _deployment(spec, "dag-processor", 1, main, writes_logs=True)


def triggerer(spec: AirflowSpec) -> dict:
    main = airflow_container(spec, "triggerer", ["triggerer"], spec.resources["triggerer"], **_job_probes("TriggererJob"))
    return _deployment(spec, "triggerer", spec.triggerer_replicas, main, writes_logs=True)


def migration_job(spec: AirflowSpec) -> dict:
    """`airflow db migrate` (idempotent), then the admin user if it does not exist. Named after the image, so a new
    image migrates once before the Deployments roll."""
    create_user = airflow_container(
        spec,
        "create-admin-user",
        ["create-user"],
        spec.resources["webserver"],  # it builds the webserver's app to store the user
        extra_env=[
            {"name": "AIRFLOW_ADMIN_USERNAME", "value": spec.admin_username},
            {"name": "AIRFLOW_ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {"name": SECRET, "key": ADMIN_PASSWORD_KEY}}},
        ],
        direct_database=True,
    )
    # Straight to the instance: the migrations hold a session-level lock, which PgBouncer's transaction pooling
    # would leave on a server connection another client gets next (k8s/pgbouncer.py).
    migrate = airflow_container(spec, "migrate", ["migrate"], spec.resources["scheduler"], direct_database=True)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"airflow-migrate-{spec.migration_id}",
            "namespace": spec.namespace,
            "labels": labels(spec, "migrate"),
            # A Job that failed is replaced by the next `pulumi up` instead of blocking it.
            "annotations": {**checkov_annotations(CHECKOV_SKIPS), "pulumi.com/replaceUnready": "true"},
        },
        "spec": {
            "backoffLimit": 3,
            "activeDeadlineSeconds": 1800,
            "template": {
                "metadata": {"labels": labels(spec, "migrate"), "annotations": POD_ANNOTATIONS},
                "spec": {
                    "serviceAccountName": rbac.MIGRATE,
                    "automountServiceAccountToken": False,
                    "restartPolicy": "OnFailure",
                    "securityContext": pod_security_context(),
                    "initContainers": [migrate],
                    "containers": [create_user],
                    "volumes": VOLUMES,
                },
            },
        },
    }


def disruption_budgets(spec: AirflowSpec) -> list[dict]:
    return [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": f"airflow-{component}", "namespace": spec.namespace, "labels": labels(spec, component)},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(spec, component)}},
        }
        for component in long_running_components(spec)
    ]


def long_running_components(spec: AirflowSpec) -> tuple[str, ...]:
    return ("scheduler", "webserver", "triggerer", *(("dag-processor",) if spec.airflow3 else ()))
