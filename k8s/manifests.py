"""Every Kubernetes object of the Airflow deployment, in the order they must exist, and as YAML."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import yaml

from k8s import (
    environment,
    housekeeping,
    metrics,
    namespace,
    network_policies,
    node_readiness,
    pgbouncer,
    pod_template,
    rbac,
    service,
    workloads,
)
from k8s.containers import labels
from k8s.spec import AirflowSpec

# What a rendering shows instead of secret values.
PLACEHOLDER_SECRETS = {key: f"<{key}>" for key in environment.SECRET_KEYS}


def airflow_objects(spec: AirflowSpec, secret_values: Mapping[str, str] = PLACEHOLDER_SECRETS) -> list[dict]:
    """Namespace first, then identities, settings and secrets, then the migration Job, then what runs Airflow."""
    return [
        namespace.namespace(spec),
        *rbac.service_accounts(spec),
        *rbac.roles(spec),
        # Before the settings: without a configured host name, Airflow's base URL is the load balancer's DNS name.
        service.webserver_service(spec),
        # Before any Airflow pod: Airflow's StatsD client resolves the agent's name once, when a process starts.
        metrics.statsd_service(spec),
        environment.config_map(spec, labels(spec, "config")),
        pod_template.pod_template_config_map(spec),
        environment.secret(spec, labels(spec, "config"), dict(secret_values)),
        # Before any Airflow pod, whose metadata connection goes through it; the migration Job does not (it waits
        # for the objects before it: PgBouncer comes up meanwhile).
        *(pgbouncer_objects(spec) if spec.pgbouncer_replicas else []),
        workloads.migration_job(spec),
        workloads.scheduler(spec),
        workloads.webserver(spec),
        workloads.triggerer(spec),
        *([workloads.dag_processor(spec)] if spec.airflow3 else []),
        *([housekeeping.metadata_cleanup(spec)] if spec.metadata_retention_days else []),
        metrics.agent_config_map(spec),
        metrics.agent_deployment(spec),
        node_readiness.deployment(spec),
        *([service.execution_api_service(spec)] if spec.airflow3 else []),
        *workloads.disruption_budgets(spec),
        *network_policies.network_policies(spec),
    ]


def pgbouncer_objects(spec: AirflowSpec) -> list[dict]:
    return [pgbouncer.config_map(spec), pgbouncer.service(spec), pgbouncer.deployment(spec, environment.SECRET),
            pgbouncer.disruption_budget(spec)]


# The spec's fields that exist only once AWS resources do (the wiring gives them as Pulumi Outputs): the image, the
# two buckets, one role ARN per service account ("role_arns:<account>"), the UI's URL (the load balancer's name
# unless a host name is configured), the digest of the secret values and the database's host name.
def late_fields(spec: AirflowSpec) -> list[str]:
    return ["image", "dag_bucket", "log_bucket", *(f"role_arns:{account}" for account in sorted(spec.role_arns)),
            "webserver_url", "secrets_checksum", "database_host"]


def with_values(spec: AirflowSpec, values: Mapping[str, str]) -> AirflowSpec:
    """The spec with some late fields filled in (names as `late_fields` gives them)."""
    plain = {k: v for k, v in values.items() if not k.startswith("role_arns:")}
    roles = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("role_arns:")}
    return replace(spec, **plain, role_arns={**spec.role_arns, **roles})


def late_fields_used(spec: AirflowSpec, secret_values: Mapping[str, str] = PLACEHOLDER_SECRETS) -> list[dict[str, list[str]]]:
    """For each object of `airflow_objects`, and each of its top-level fields (metadata, spec, data, ...), the late
    fields that part depends on: found by rendering the objects again with each late field given another value. A
    part that uses none can be applied from plain values, so a new image (unknown in a preview) shows only where it
    is carried, and an object's name stays known unless the name itself carries it (the migration Job's)."""
    base = airflow_objects(spec, secret_values)
    used: list[dict[str, list[str]]] = [{key: [] for key in obj} for obj in base]
    for field in late_fields(spec):
        other = {"image": "registry.invalid/other:tag@sha256:" + "1" * 64, "webserver_url": "http://other.invalid"}.get(
            field, "other-value")
        for index, obj in enumerate(airflow_objects(with_values(spec, {field: other}), secret_values)):
            for key, value in obj.items():
                if value != base[index][key]:
                    used[index][key].append(field)
    return used


def to_yaml(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)
