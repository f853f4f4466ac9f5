"""Every Kubernetes object of the Airflow deployment, in the order they must exist, and as YAML."""

from __future__ import annotations

from typing import Mapping

import yaml

from k8s import environment, pod_template, rbac, workloads
from k8s.containers import labels
from k8s.spec import AirflowSpec

# What a rendering shows instead of secret values.
PLACEHOLDER_SECRETS = {key: f"<{key}>" for key in environment.SECRET_KEYS}


def airflow_objects(spec: AirflowSpec, secret_values: Mapping[str, str] = PLACEHOLDER_SECRETS) -> list[dict]:
    """Namespace first, then identities, settings and secrets, then the migration Job, then what runs Airflow."""
    return [
        workloads.namespace(spec),
        *rbac.service_accounts(spec),
        *rbac.roles(spec),
        environment.config_map(spec, labels(spec, "config")),
        pod_template.pod_template_config_map(spec),
        environment.secret(spec, labels(spec, "config"), dict(secret_values)),
        workloads.migration_job(spec),
        workloads.scheduler(spec),
        workloads.webserver(spec),
        workloads.triggerer(spec),
        workloads.webserver_service(spec),
        *workloads.disruption_budgets(spec),
        *workloads.network_policies(spec),
    ]


def to_yaml(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)
