"""The sample DAG on real Airflow (MWAA's 2.9.2), reading its Variable through the secrets backend exactly as the
program configures MWAA, from Secrets Manager (moto) seeded exactly as the program seeds it."""

from __future__ import annotations

import json

import boto3
import pytest

from offline import run_stack
from tests.runtime.airflow_env import PROJECT, airflow_python, base_env, moto_server, options_as_env, run_airflow

pytestmark = pytest.mark.runtime

GREETING = "hello from Secrets Manager, seeded by Pulumi"


@pytest.fixture(scope="module")
def deployed():
    """What the program would give AWS for a dev stack with a seeded Variable and Connection."""
    plan = run_stack(
        "dev",
        secret_config={
            "airflow": {
                "variables": {"greeting": GREETING},
                "connections": {"warehouse": "postgres://etl:s3cret@warehouse.internal:5432/analytics"},
            }
        },
    )
    assert plan.error is None
    names = {s.urn: s.raw_inputs["name"] for s in plan.of_type("aws:secretsmanager/secret:Secret")}
    seeds = {}
    for version in plan.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        secret_urn = next(urn for urn in version.dependencies if urn in names)
        seeds[names[secret_urn]] = version.raw_inputs["secretString"]
    options = plan.one("aws:mwaa/environment:Environment").raw_inputs["airflowConfigurationOptions"]
    return seeds, options


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, deployed):
    seeds, options = deployed
    python = airflow_python()
    home = tmp_path_factory.mktemp("airflow-home")
    with moto_server(python) as endpoint:
        client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="eu-west-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        for name, value in seeds.items():
            client.create_secret(Name=name, SecretString=value)
        # The backend's options are the program's, unchanged; only the AWS endpoint points at moto.
        env = {**base_env(home, PROJECT / "dags", PROJECT / "plugins"), **options_as_env(options), "AWS_ENDPOINT_URL": endpoint}
        migrated = run_airflow(python, ["db", "migrate"], env)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        yield python, env


def test_program_seeds_the_secrets_the_backend_reads(deployed):
    seeds, options = deployed
    kwargs = json.loads(options["secrets.backend_kwargs"])
    assert f"{kwargs['variables_prefix']}/greeting" in seeds
    assert f"{kwargs['connections_prefix']}/warehouse" in seeds


def test_sample_dag_reads_the_variable_from_secrets_manager(airflow):
    python, env = airflow
    result = run_airflow(python, ["dags", "test", "hello_secrets", "2024-01-01"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert f"greeting: {GREETING}" in output
    assert f"announced: {GREETING.upper()}" in output


def test_connections_resolve_through_the_backend(airflow):
    python, env = airflow
    result = run_airflow(python, ["connections", "get", "warehouse", "-o", "json"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    connection = json.loads(result.stdout)[0]
    assert (connection["conn_type"], connection["host"], connection["schema"]) == ("postgres", "warehouse.internal", "analytics")


def test_without_the_seed_the_dag_fails_loudly(tmp_path):
    """The backend really is consulted: an unseeded Secrets Manager makes the task fail, not pass with a default."""
    python = airflow_python()
    plan = run_stack("dev")
    options = plan.one("aws:mwaa/environment:Environment").raw_inputs["airflowConfigurationOptions"]
    with moto_server(python) as endpoint:
        env = {**base_env(tmp_path, PROJECT / "dags", PROJECT / "plugins"), **options_as_env(options), "AWS_ENDPOINT_URL": endpoint}
        env["AIRFLOW__CORE__DEFAULT_TASK_RETRIES"] = "0"  # dev retries after 5 minutes; the failure is what we want
        assert run_airflow(python, ["db", "migrate"], env).returncode == 0
        result = run_airflow(python, ["dags", "test", "hello_secrets", "2024-01-01"], env)
    output = result.stdout + result.stderr
    assert "Variable 'greeting' not found" in output
    assert f"greeting: {GREETING}" not in output
