"""`make plan`: the text and JSON forms, and a config error's exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def plan(*args: str, project: Path = PROJECT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "offline", *args, "--project", str(project)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_json_plan_has_the_documented_shape(stack):
    result = plan("--stack", stack, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"project", "stack", "resources", "outputs"}
    assert document["stack"] == stack
    for resource in document["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "inputs", "protect", "retainOnDelete", "dependencies"}
    urns = {r["urn"] for r in document["resources"]}
    assert all(r["parent"] is None or r["parent"] in urns for r in document["resources"])
    runtime = {"dev": "aws:mwaa/environment:Environment", "prod": "eks:index:Cluster"}[stack]
    assert any(r["type"] == runtime for r in document["resources"])
    assert document["outputs"]["secretsBackend"]["secrets.backend"].endswith("SecretsManagerBackend")


def test_text_plan_shows_the_tree_and_outputs():
    result = plan("--stack", "prod")
    assert result.returncode == 0, result.stderr
    for component in ("KubernetesCluster", "MetadataDatabase", "ImageRegistry", "AirflowIdentities", "TaskLogBucket"):
        assert f"+ airflowaws:index:{component}  airflow-prod" in result.stdout
    assert "[protected, retained on destroy]" in result.stdout
    assert "kubeconfig: [secret]" in result.stdout
    result = plan("--stack", "dev")
    assert "+ airflowaws:index:ManagedAirflow  airflow-dev" in result.stdout
    assert "webserverUrl: https://" in result.stdout


def test_a_bad_stack_file_exits_non_zero_with_the_errors_and_no_plan(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py", "airflow-requirements.txt"):
        (tmp_path / name).write_text((PROJECT / name).read_text())
    (tmp_path / "dags").mkdir()
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  airflow-on-aws:mwaa:\n    environmentClass: mw1.tiny\n    logRetentionDays: 11\n"
    )
    result = plan("--stack", "broken", "--format", "json", project=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "mwaa.environmentClass = 'mw1.tiny'" in result.stderr and "mwaa.logRetentionDays = 11" in result.stderr


def test_an_unknown_stack_lists_the_stacks():
    result = plan("--stack", "staging")
    assert result.returncode == 2 and "dev, prod" in result.stderr


def test_the_bootstrap_project_plans_in_the_same_json_form():
    result = plan("--stack", "admin", "--format", "json", project=PROJECT / "bootstrap")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"project", "stack", "resources", "outputs"}
    assert (document["project"], document["stack"]) == ("airflow-on-aws-bootstrap", "admin")
    types = {r["type"] for r in document["resources"]}
    assert {"pulumiservice:index:DeploymentSettings", "aws:iam/role:Role", "aws:iam/openIdConnectProvider:OpenIdConnectProvider"} <= types
    assert set(document["outputs"]) == {"oidcProviderArn", "deployRoles", "finishByHand"}
