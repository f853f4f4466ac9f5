"""k8s/pgbouncer.py: PgBouncer between Airflow's pods and RDS, as the stack's settings give it; the migrations and
the metadata cleanup past it, straight to the instance."""

from __future__ import annotations

import configparser
from dataclasses import replace

from k8s import environment, pgbouncer
from k8s.housekeeping import METADATA_CLEANUP
from k8s.manifests import airflow_objects
from k8s.pod_template import worker_pod_template
from tests.unit.test_k8s_objects import SPEC

POOLED = replace(SPEC, database_host="airflow-prod-metadata.abc.eu-west-1.rds.amazonaws.com", pgbouncer_replicas=3,
                 pgbouncer_pool_size=25, pgbouncer_max_client_connections=800)


def _objects(spec=POOLED):
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in airflow_objects(spec)}


def _ini(spec=POOLED) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read_string(_objects(spec)[f"ConfigMap/{pgbouncer.PGBOUNCER}"]["data"]["pgbouncer.ini"])
    return parser


def test_pgbouncer_pools_transactions_to_the_instance_over_verified_tls():
    ini = _ini()
    assert ini["databases"]["airflow"] == f"host={POOLED.database_host} port=5432 dbname=airflow"
    settings = ini["pgbouncer"]
    assert settings["pool_mode"] == "transaction" and settings["listen_port"] == str(pgbouncer.PORT)
    assert (settings["default_pool_size"], settings["max_db_connections"], settings["max_client_conn"]) == ("25", "25", "800")
    assert settings["server_tls_sslmode"] == "verify-full"
    assert settings["server_tls_ca_file"] == "/opt/image/rds-global-bundle.pem"
    assert settings["auth_type"] == "scram-sha-256" and settings["auth_file"] == pgbouncer.USERS_FILE


def test_pgbouncer_runs_from_the_image_with_probes_a_budget_and_its_files():
    objects = _objects()
    deployment = objects[f"Deployment/{pgbouncer.PGBOUNCER}"]["spec"]
    assert deployment["replicas"] == 3
    pod = deployment["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == POOLED.image
    # Kubernetes' SIGTERM becomes PgBouncer's safe shutdown.
    assert container["command"] == [pgbouncer.DUMB_INIT, "--rewrite", "15:2", "--", pgbouncer.PROGRAM, pgbouncer.CONFIG_FILE]
    assert container["readinessProbe"]["tcpSocket"] == {"port": pgbouncer.PORT} and "livenessProbe" in container
    (volume,) = pod["volumes"]
    secret = next(s["secret"] for s in volume["projected"]["sources"] if "secret" in s)
    assert secret["items"] == [{"key": environment.PGBOUNCER_USERS_KEY, "path": "users.txt", "mode": 0o440}]
    assert pod["securityContext"]["runAsGroup"] == 0  # the group that may read it
    assert objects[f"PodDisruptionBudget/{pgbouncer.PGBOUNCER}"]["spec"]["maxUnavailable"] == 1
    (rule,) = objects["NetworkPolicy/airflow-pgbouncer-ingress"]["spec"]["ingress"]
    assert rule["ports"] == [{"port": pgbouncer.PORT, "protocol": "TCP"}]


def _connection_key(container: dict) -> str:
    ref = next(e for e in container["env"] if e["name"] == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    return ref["valueFrom"]["secretKeyRef"]["key"]


def test_the_migrations_and_the_cleanup_go_straight_to_the_instance_everything_else_through_pgbouncer():
    objects = _objects()
    job = next(o for k, o in objects.items() if k.startswith("Job/"))["spec"]["template"]["spec"]
    for container in job["initContainers"] + job["containers"]:
        if container["name"] in ("migrate", "create-admin-user"):
            assert _connection_key(container) == environment.DIRECT_CONNECTION_KEY, container["name"]
    cleanup = objects[f"CronJob/{METADATA_CLEANUP}"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert _connection_key(cleanup) == environment.DIRECT_CONNECTION_KEY
    for name in ("airflow-scheduler", "airflow-webserver", "airflow-triggerer"):
        main = objects[f"Deployment/{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert _connection_key(main) == "sql-alchemy-conn", name
    assert _connection_key(worker_pod_template(POOLED)["spec"]["containers"][0]) == "sql-alchemy-conn"
    secret = objects[f"Secret/{environment.SECRET}"]["stringData"]
    assert {environment.DIRECT_CONNECTION_KEY, environment.PGBOUNCER_USERS_KEY} <= set(secret)


def test_without_pgbouncer_every_pod_connects_to_the_instance_itself():
    spec = replace(POOLED, pgbouncer_replicas=0)
    objects = _objects(spec)
    assert not any(pgbouncer.PGBOUNCER in key for key in objects)
    job = next(o for k, o in objects.items() if k.startswith("Job/"))["spec"]["template"]["spec"]
    assert _connection_key(job["initContainers"][-1]) == "sql-alchemy-conn"
    assert set(objects[f"Secret/{environment.SECRET}"]["stringData"]) == set(environment.secret_keys(spec))
    assert environment.DIRECT_CONNECTION_KEY not in environment.secret_keys(spec)


def test_on_airflow_3_the_async_engine_gets_its_own_url_and_arguments():
    from k8s.environment import ASYNC_CONNECTION_KEY

    spec = replace(POOLED, airflow_version="3.3.2")
    objects = _objects(spec)
    settings = objects["ConfigMap/airflow-config-3-3-2"]["data"]
    assert settings["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"] == "airflow_async_connect.PGBOUNCER"
    main = objects["Deployment/airflow-scheduler"]["spec"]["template"]["spec"]["containers"][0]
    ref = next(e for e in main["env"] if e["name"] == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC")
    assert ref["valueFrom"]["secretKeyRef"]["key"] == ASYNC_CONNECTION_KEY
    assert pgbouncer.pooled_url(spec, "airflow", "p", asynchronous=True) == (
        "postgresql+asyncpg://airflow:p@airflow-pgbouncer.airflow.svc.cluster.local:6543/airflow"
        "?prepared_statement_cache_size=0")
    direct = _objects(replace(spec, pgbouncer_replicas=0))["ConfigMap/airflow-config-3-3-2"]["data"]
    assert direct["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"] == "airflow_async_connect.RDS_TLS"


def test_the_auth_file_and_the_url_quote_what_they_carry():
    assert pgbouncer.users_file("airflow", 'pa"ss') == '"airflow" "pa""ss"\n'
    url = pgbouncer.pooled_url(POOLED, "airflow", "p@ss/word")
    assert url == "postgresql+psycopg2://airflow:p%40ss%2Fword@airflow-pgbouncer.airflow.svc.cluster.local:6543/airflow"
