"""PgBouncer between Airflow's pods and the metadata database: transaction pooling, so the instance holds a few
dozen connections however many worker pods run, and TLS to RDS verified against the RDS certificate authorities.

It runs from Airflow's own image, which carries Debian's pgbouncer package (docker/Dockerfile): no other image to
pin, and the twin runs the same program from the same package (local/twin.py). Airflow's processes reach it at the
Service `airflow-pgbouncer`; the migration Job and the metadata cleanup go straight to the instance, because
Airflow's migrations hold a session-level advisory lock (airflow.utils.db create_global_lock) that transaction
pooling would hand to whichever client came next.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from k8s.environment import PGBOUNCER_USERS_KEY as USERS_KEY
from k8s.service import cluster_service
from k8s.containers import (CHECKOV_SKIPS, DUMB_INIT, checkov_annotations, container_security_context, labels,
                            pod_security_context, resources, spread_over_zones_and_nodes)
from k8s.spec import DATABASE_NAME as DATABASE, DATABASE_USER, PGBOUNCER_PORT, RDS_CA_BUNDLE, AirflowSpec, Resources

PGBOUNCER = "airflow-pgbouncer"
PORT = PGBOUNCER_PORT
CONFIG_DIR = "/etc/pgbouncer"
CONFIG_FILE = f"{CONFIG_DIR}/pgbouncer.ini"
USERS_FILE = f"{CONFIG_DIR}/users.txt"
PROGRAM = "/usr/sbin/pgbouncer"  # Debian's package


def service_host(spec: AirflowSpec) -> str:
    return f"{PGBOUNCER}.{spec.namespace}.svc.cluster.local"


def pooled_url(spec: AirflowSpec, username: str, password: str, *, host: str | None = None, port: int = PORT,
               asynchronous: bool = False) -> str:
    """Airflow's `sql_alchemy_conn` through PgBouncer (`asynchronous`: Airflow 3's `sql_alchemy_conn_async`, asyncpg
    with SQLAlchemy's statement cache off; docker/airflow_async_connect.py turns off asyncpg's). Inside the cluster,
    to a pod only Airflow's pods may reach (k8s/network_policies.py); PgBouncer verifies RDS's certificate on the way
    out. SCRAM between the two, so the password never crosses the wire. `host`, `port`: the twin's PgBouncer."""
    driver, options = ("asyncpg", "?prepared_statement_cache_size=0") if asynchronous else ("psycopg2", "")
    return (f"postgresql+{driver}://{quote(username, safe='')}:{quote(password, safe='')}@{host or service_host(spec)}:"
            f"{port}/{DATABASE}{options}")


def users_file(username: str, password: str) -> str:
    """PgBouncer's auth_file: `"user" "password"`, a double quote doubled (PgBouncer's documentation)."""
    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    return f"{quoted(username)} {quoted(password)}\n"


def config(spec: AirflowSpec, *, database_host: str | None = None, database_port: int = 5432,
           listen_addr: str = "0.0.0.0", listen_port: int = PORT, tls: str = "verify-full", ca_file: str = RDS_CA_BUNDLE,
           users_file_path: str = USERS_FILE, user: str = DATABASE_USER) -> str:
    """pgbouncer.ini. The keyword arguments are the twin's swaps (a local server on loopback, without TLS)."""
    host = database_host or spec.database_host
    pgbouncer = {
        "listen_addr": listen_addr,
        "listen_port": str(listen_port),
        # No Unix socket: nothing in the pod uses one, and the image is read-only.
        "unix_socket_dir": "",
        "auth_type": "scram-sha-256",
        "auth_file": users_file_path,
        # A server connection per transaction, not per client: what makes a few dozen serve hundreds of pods.
        "pool_mode": "transaction",
        "default_pool_size": str(spec.pgbouncer_pool_size),
        "max_db_connections": str(spec.pgbouncer_pool_size),
        "max_client_conn": str(spec.pgbouncer_max_client_connections),
        # Airflow's user may read PgBouncer's SHOW commands (pools, clients, totals) on its `pgbouncer` database,
        # and change nothing: how to see the pool's load (docs/operations.md).
        "stats_users": user,
        # Sent by some drivers at connect; PgBouncer would refuse the client without this.
        "ignore_startup_parameters": "extra_float_digits",
        # verify-full: TLS, the certificate chains to the RDS authorities and names the host (PgBouncer's
        # documentation, server_tls_sslmode). RDS's endpoint is a DNS name; PgBouncer looks it up again after
        # dns_max_ttl (15 s), so a Multi-AZ failover's new address is found.
        "server_tls_sslmode": tls,
        **({"server_tls_ca_file": ca_file} if tls in ("verify-ca", "verify-full") else {}),
        # A worker pod per task: a connection and disconnection line for each would drown the log.
        "log_connections": "0",
        "log_disconnections": "0",
    }
    lines = ["[databases]",
             f"{DATABASE} = host={host} port={database_port} dbname={DATABASE}",
             "", "[pgbouncer]", *(f"{key} = {value}" for key, value in pgbouncer.items())]
    return "\n".join(lines) + "\n"


def config_map(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": PGBOUNCER, "namespace": spec.namespace, "labels": labels(spec, "pgbouncer")},
        "data": {"pgbouncer.ini": config(spec)},
    }


def service(spec: AirflowSpec) -> dict:
    return cluster_service(spec, PGBOUNCER, "pgbouncer", "postgres", PORT, "TCP")


def _probe(period: int, failures: int) -> dict:
    # The image has no psql; a listening port is what the chart's probes check too.
    return {"tcpSocket": {"port": PORT}, "periodSeconds": period, "timeoutSeconds": 5, "failureThreshold": failures}


def deployment(spec: AirflowSpec, secret_name: str) -> dict:
    selector = labels(spec, "pgbouncer")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": PGBOUNCER, "namespace": spec.namespace, "labels": selector,
                     "annotations": checkov_annotations({"CKV_K8S_11": CHECKOV_SKIPS["CKV_K8S_11"]})},
        "spec": {
            "replicas": spec.pgbouncer_replicas,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": selector,
                    # It reads its files once, at start: a new configuration or password rolls it.
                    "annotations": {"checksum/config": hashlib.sha256(config(spec).encode()).hexdigest(),
                                    "checksum/secrets": spec.secrets_checksum},
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(),
                    # Clients finish their transactions before it exits (below), within this.
                    "terminationGracePeriodSeconds": 60,
                    "containers": [{
                        "name": "pgbouncer",
                        "image": spec.image,
                        "imagePullPolicy": "IfNotPresent",
                        # dumb-init turns Kubernetes' SIGTERM into SIGINT, PgBouncer's safe shutdown (it waits for
                        # the running transactions; SIGTERM would cut them in PgBouncer 1.18, Debian's).
                        "command": [DUMB_INIT, "--rewrite", "15:2", "--", PROGRAM, CONFIG_FILE],
                        "ports": [{"name": "postgres", "containerPort": PORT, "protocol": "TCP"}],
                        "resources": resources(Resources("100m", "128Mi")),
                        "securityContext": container_security_context(),
                        "readinessProbe": _probe(10, 3),
                        "livenessProbe": _probe(20, 6),
                        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
                    }],
                    "volumes": [{"name": "config", "projected": {"sources": [
                        {"configMap": {"name": PGBOUNCER, "items": [{"key": "pgbouncer.ini", "path": "pgbouncer.ini"}]}},
                        # Readable by the pod's group (0) only, which PgBouncer's user runs in.
                        {"secret": {"name": secret_name, "items": [{"key": USERS_KEY, "path": "users.txt", "mode": 0o440}]}},
                    ]}}],
                    "topologySpreadConstraints": spread_over_zones_and_nodes(selector),
                },
            },
        },
    }


def disruption_budget(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": PGBOUNCER, "namespace": spec.namespace, "labels": labels(spec, "pgbouncer")},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(spec, "pgbouncer")}},
    }
