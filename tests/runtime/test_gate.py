"""The deployment gate (`python -m gate`, run by `make gate`): it passes on the shipped project and fails, naming the
problem, on a DAG that does not import, a cycle, a plugin that does not import, a requirement that conflicts with
Airflow's constraints, a stack file with a bad value, and an Airflow that is not the stack's.

Airflow's constraints URL (raw.githubusercontent.com) cannot be reached here: the MWAA requirements are resolved
under tests/runtime/airflow-requirements.lock instead, a resolved Airflow 2.9.2 with the providers MWAA ships.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.airflow_env import PROJECT, airflow_python

pytestmark = pytest.mark.runtime
CONSTRAINTS = PROJECT / "tests" / "runtime" / "airflow-requirements.lock"
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "airflow-requirements.txt")
CYCLE = """\
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG("round_and_round", start_date=datetime(2024, 1, 1), schedule=None):
    first = EmptyOperator(task_id="first")
    second = EmptyOperator(task_id="second")
    first >> second >> first
"""


def gate(stack: str, project: Path = PROJECT, python: Path | None = None) -> subprocess.CompletedProcess:
    """`python`: the stack's Airflow (MWAA's for dev; the image's, for prod's version, for prod)."""
    return subprocess.run(
        [sys.executable, "-m", "gate", "--stack", stack, "--project", str(project),
         "--airflow-python", str(python or airflow_python()), "--constraints-file", str(CONSTRAINTS)],
        cwd=PROJECT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "UV": os.environ.get("UV", "uv")},
    )


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the files the gate reads, to break one at a time."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in PROJECT_FILES:
        shutil.copy(PROJECT / name, copy / name)
    for folder in ("dags", "plugins", "docker"):
        shutil.copytree(PROJECT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def failures(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gate: failed: nothing was deployed" in result.stdout
    return result.stdout


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_project_passes(stack, image_env_bin):
    """prod runs self-managed: the gate checks its DAGs on the image's own Airflow."""
    result = gate(stack, python=image_env_bin / "python" if stack == "prod" else None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout and result.stdout.strip().endswith("gate: passed")
    requirements = {"dev": "airflow-requirements.txt resolves", "prod": "docker/requirements.txt resolves"}[stack]
    if stack == "prod":
        assert "gate: ok    the gate's Airflow is 2.9.3; the stack runs 2.9.3" in result.stdout
    assert f"gate: ok    {requirements}" in result.stdout
    assert "gate: ok    dags/: 1 DAG(s) load without errors or cycles; plugins/: 1 plugin(s) import" in result.stdout


def test_a_dag_that_does_not_import_fails_the_gate(project):
    (project / "dags" / "broken.py").write_text("from airflow import DAG\nimport warehouse_client_we_never_installed\n")
    out = failures(gate("dev", project))
    assert "FAIL  dags/" in out
    assert "dags/broken.py: ModuleNotFoundError: No module named 'warehouse_client_we_never_installed'" in out


def test_a_dag_with_a_cycle_fails_the_gate(project, image_env_bin):
    (project / "dags" / "cycle.py").write_text(CYCLE)
    out = failures(gate("prod", project, python=image_env_bin / "python"))
    assert "dags/cycle.py" in out and "round_and_round" in out and "ycle" in out


def test_a_plugin_that_does_not_import_fails_the_gate(project):
    (project / "plugins" / "broken_plugin.py").write_text("import plugin_dependency_we_never_installed\n")
    out = failures(gate("dev", project))
    assert "plugin plugins/broken_plugin.py: No module named 'plugin_dependency_we_never_installed'" in out


def test_an_mwaa_requirement_that_conflicts_with_the_constraints_fails_the_gate(project):
    requirements = project / "airflow-requirements.txt"
    # Airflow 2.9.2's constraints pin the Amazon provider at 8.x.
    requirements.write_text(requirements.read_text() + "apache-airflow-providers-amazon==7.4.1\n")
    out = failures(gate("dev", project))
    assert "FAIL  airflow-requirements.txt resolves with apache-airflow==2.9.2" in out
    assert "apache-airflow-providers-amazon" in out


def test_an_image_requirement_that_conflicts_with_airflow_fails_the_gate(project, image_env_bin):
    requirements = project / "docker" / "requirements.txt"
    # Airflow 2.9 needs SQLAlchemy 1.4.
    requirements.write_text(requirements.read_text() + "sqlalchemy>=2.0\n")
    out = failures(gate("prod", project, python=image_env_bin / "python"))
    assert "FAIL  docker/requirements.txt resolves with apache-airflow==2.9.3 under docker/constraints/2.9.3.txt" in out
    assert "sqlalchemy" in out.lower()


def test_a_bad_stack_file_fails_the_gate_with_the_key(project):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("environmentClass: mw1.micro", "environmentClass: mw1.tiny"))
    out = failures(gate("dev", project))
    assert "mwaa.environmentClass = 'mw1.tiny'" in out


def test_a_stack_on_another_airflow_than_the_gates_fails(project):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("  airflow-on-aws:airflow:\n", "  airflow-on-aws:airflow:\n    version: 2.10.3\n"))
    requirements = project / "airflow-requirements.txt"
    requirements.write_text(requirements.read_text().replace("constraints-2.9.2", "constraints-2.10.3"))
    out = failures(gate("dev", project))
    assert "FAIL  the gate's Airflow is 2.9.2; the stack runs 2.10.3" in out


REMOVED_IN_AIRFLOW_3 = """\
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.dates import days_ago
with DAG("still_on_airflow_2", start_date=days_ago(1), schedule_interval="@daily"):
    EmptyOperator(task_id="only")
"""


def _on_airflow(project: Path, version: str) -> None:
    stack_file = project / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text().replace("  airflow-on-aws:airflow:\n", f"  airflow-on-aws:airflow:\n    version: {version}\n", 1))


def test_on_airflow_3_the_gate_lists_deprecations_and_passes_the_shipped_dags(project, image_envs):
    version = max(image_envs, key=lambda v: tuple(int(p) for p in v.split(".")))
    _on_airflow(project, version)
    result = gate("prod", project, python=image_envs[version] / "python")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"gate: ok    dags/ uses nothing Airflow {version} removed (ruff AIR301, AIR302)" in result.stdout
    assert "AIR311 `airflow.decorators.dag`" in result.stdout  # listed, not failed: it still works on 3.x


def test_on_airflow_3_a_dag_using_what_airflow_3_removed_fails_the_gate(project, image_envs):
    version = max(image_envs, key=lambda v: tuple(int(p) for p in v.split(".")))
    _on_airflow(project, version)
    (project / "dags" / "old_style.py").write_text(REMOVED_IN_AIRFLOW_3)
    out = failures(gate("prod", project, python=image_envs[version] / "python"))
    assert f"FAIL  dags/ uses nothing Airflow {version} removed" in out
    assert "dags/old_style.py:5: AIR301 `schedule_interval` is removed in Airflow 3.0" in out
