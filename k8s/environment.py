"""Airflow's settings for every process on the cluster, workers included: a ConfigMap for what is not secret and
references to one Secret for what is. Scheduler, webserver, triggerer and worker pods all get exactly these."""

from __future__ import annotations

import hashlib
import json
from typing import Mapping

from k8s.spec import DAGS_FOLDER, PLUGINS_FOLDER, POD_TEMPLATE_FILE, TASK_LOG_PREFIX, WEBSERVER_PORT, AirflowSpec

CONFIG_MAP = "airflow-config"
SECRET = "airflow-secrets"
# Secret key -> the variable Airflow 2 reads it from.
SECRET_ENV = {
    "fernet-key": "AIRFLOW__CORE__FERNET_KEY",
    "sql-alchemy-conn": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "webserver-secret-key": "AIRFLOW__WEBSERVER__SECRET_KEY",
}
# Airflow 3: the UI's session key moved to [api]; the JWTs the api-server issues to workers (and the components
# among themselves) are signed with a secret every one of them must share.
JWT_SECRET_KEY = "jwt-secret"
ASYNC_CONNECTION_KEY = "sql-alchemy-conn-async"
SECRET_ENV_3 = {
    "fernet-key": "AIRFLOW__CORE__FERNET_KEY",
    "sql-alchemy-conn": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    # Airflow 3's async engine (asyncpg) gets its URL and arguments of its own: derived from the psycopg2 URL, it
    # would carry libpq's sslmode, which asyncpg refuses (airflow.settings _get_async_conn_uri_from_sync).
    ASYNC_CONNECTION_KEY: "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
    "webserver-secret-key": "AIRFLOW__API__SECRET_KEY",
    JWT_SECRET_KEY: "AIRFLOW__API_AUTH__JWT_SECRET",
}
ADMIN_PASSWORD_KEY = "admin-password"
# With PgBouncer (k8s/pgbouncer.py): Airflow's connection straight to the instance, for the migration Job and the
# metadata cleanup; and PgBouncer's auth file, the database user and its password in plain text, which PgBouncer
# needs to log in to a server that keeps SCRAM verifiers (RDS for PostgreSQL 14 and later; `auth_query` cannot
# read pg_authid on RDS: PgBouncer's documentation, "Authentication file format").
DIRECT_CONNECTION_KEY = "sql-alchemy-conn-direct"
PGBOUNCER_USERS_KEY = "pgbouncer-users"
# Every key a Secret may hold, for renderings with placeholders.
# With single sign-on (k8s/sso.py): the OpenID Connect client's secret, for the UI's pods.
SSO_CLIENT_SECRET_KEY = "sso-client-secret"
SECRET_KEYS = (*SECRET_ENV, JWT_SECRET_KEY, ASYNC_CONNECTION_KEY, ADMIN_PASSWORD_KEY, DIRECT_CONNECTION_KEY,
               PGBOUNCER_USERS_KEY, SSO_CLIENT_SECRET_KEY)
# The FAB provider's auth manager keeps Airflow 3's users, roles and passwords as Airflow 2 had them.
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# Where workers reach the api-server's execution API: the in-cluster Service of k8s/service.py.
EXECUTION_API_SERVICE = "airflow-execution-api"


def secret_env(spec: AirflowSpec) -> dict[str, str]:
    return SECRET_ENV_3 if spec.airflow3 else SECRET_ENV


def secret_keys(spec: AirflowSpec) -> tuple[str, ...]:
    pooled = (DIRECT_CONNECTION_KEY, PGBOUNCER_USERS_KEY) if spec.pgbouncer_replicas else ()
    sso = (SSO_CLIENT_SECRET_KEY,) if spec.sso_issuer_url else ()
    return (*secret_env(spec), ADMIN_PASSWORD_KEY, *pooled, *sso)
# The connection task logging and the secrets backend use: no keys, so boto3 takes the pod's IRSA credentials.
AWS_CONN_ID = "aws_default"


def option_env(key: str) -> str:
    """`section.option` as the variable Airflow reads: AIRFLOW__SECTION__OPTION."""
    section, option = key.split(".", 1)
    return f"AIRFLOW__{section.upper()}__{option.upper()}"


def airflow_settings(spec: AirflowSpec) -> dict[str, str]:
    """The ConfigMap's data. The user's configuration options come first; the ones this project relies on win."""
    settings = {option_env(k): str(v) for k, v in sorted(spec.configuration_options.items())}
    settings.update({option_env(k): v for k, v in spec.secrets_backend.items()})
    settings.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "KubernetesExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": DAGS_FOLDER,
            "AIRFLOW__CORE__PLUGINS_FOLDER": PLUGINS_FOLDER,
            "AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE": spec.namespace,
            "AIRFLOW__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE": POD_TEMPLATE_FILE,
            "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY": spec.image_repository,
            "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG": spec.image_tag,
            "AIRFLOW__KUBERNETES_EXECUTOR__IN_CLUSTER": "True",
            "AIRFLOW__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS": "True",
            # Failed pods go too (nothing else would clean them up); their task logs are in S3.
            "AIRFLOW__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS_ON_FAILURE": "True",
            "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE": str(spec.worker_pods_creation_batch_size),
            "AIRFLOW__KUBERNETES_EXECUTOR__TASK_PUBLISH_MAX_RETRIES": "3",
            # Worker pods are deleted after their task: their logs live in the task-log bucket.
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{spec.log_bucket}/{TASK_LOG_PREFIX}",
            "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": AWS_CONN_ID,
            "AIRFLOW__LOGGING__DELETE_LOCAL_LOGS": "True",
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {"region_name": spec.region}}),
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_REGION": spec.region,
            "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            "PYTHONUNBUFFERED": "1",
        }
    )
    settings.update(_airflow3_settings(spec) if spec.airflow3 else _airflow2_settings(spec))
    from k8s.metrics import statsd_settings  # here: k8s.metrics builds on k8s.containers, which builds on this module
    from k8s.sso import sso_settings

    settings.update(statsd_settings(spec))
    settings.update(sso_settings(spec))
    return settings


def _airflow2_settings(spec: AirflowSpec) -> dict[str, str]:
    return {
        # The links in alert e-mails and the UI's redirects; left unset, they point at localhost:8080.
        "AIRFLOW__WEBSERVER__BASE_URL": spec.webserver_url,
        "AIRFLOW__WEBSERVER__EXPOSE_CONFIG": "False",
        "AIRFLOW__API__AUTH_BACKENDS": (
            "airflow.providers.fab.auth_manager.api.auth.backend.session,"
            "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth"
        ),
    }


def _airflow3_settings(spec: AirflowSpec) -> dict[str, str]:
    """Airflow 3: [webserver] options moved to [api]; the auth manager is chosen; workers call the execution API."""
    return {
        # [webserver] base_url's new place (Airflow 3.0's config moves); its path would become the UI's root path.
        # Airflow 3's FAB login redirects to it, so it is set only where users reach the UI by that name: with
        # workloads.webserverHostname, or an internet-facing load balancer. An internal one's name answers inside
        # the VPC only, and `kubectl port-forward` from a laptop would be sent there to log in.
        **({"AIRFLOW__API__BASE_URL": spec.webserver_url} if spec.base_url_reached_by_users else {}),
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": execution_api_url(spec),
        # docker/airflow_async_connect.py: no statement cache behind PgBouncer; RDS's certificate verified without.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC":
            f"airflow_async_connect.{'PGBOUNCER' if spec.pgbouncer_replicas else 'RDS_TLS'}",
    }


def execution_api_url(spec: AirflowSpec) -> str:
    return f"http://{EXECUTION_API_SERVICE}.{spec.namespace}.svc.cluster.local:{WEBSERVER_PORT}/execution/"


def config_map_name(spec: AirflowSpec) -> str:
    return f"{CONFIG_MAP}-{spec.version_suffix}"


def airflow_env_from(spec: AirflowSpec) -> list[dict]:
    return [{"configMapRef": {"name": config_map_name(spec)}}]


def airflow_secret_env(spec: AirflowSpec, *, direct_database: bool = False) -> list[dict]:
    """`direct_database`: the metadata connection straight to the instance, past PgBouncer (migrations)."""
    def key_of(key: str) -> str:
        return DIRECT_CONNECTION_KEY if direct_database and spec.pgbouncer_replicas and key == "sql-alchemy-conn" else key

    return [
        {"name": env, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": key_of(key)}}}
        for key, env in secret_env(spec).items()
    ]


def config_map(spec: AirflowSpec, labels: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": config_map_name(spec), "namespace": spec.namespace, "labels": labels},
        "data": airflow_settings(spec),
    }


def secrets_checksum(values: Mapping[str, str]) -> str:
    """A digest of the Secret's values. The values are generated (32-byte keys, 24-64 character passwords) or carry
    one (the database URL), so the digest gives nothing away and may be shown in plain text on the Deployments."""
    return hashlib.sha256(json.dumps(dict(values), sort_keys=True).encode()).hexdigest()


def secret(spec: AirflowSpec, labels: dict[str, str], values: dict[str, str]) -> dict:
    """The Secret with the fernet key, webserver secret key, metadata connection and admin password. The values are
    whatever the caller passes: Pulumi secrets in the program, placeholders when rendering."""
    missing = set(secret_keys(spec)) - set(values)
    if missing:
        raise ValueError(f"secret values missing: {sorted(missing)}")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": SECRET, "namespace": spec.namespace, "labels": labels},
        "stringData": {key: values[key] for key in secret_keys(spec)},
    }
