"""Which Airflow the gate loads a managed stack's DAGs on: MWAA's of the stack's own version."""

from __future__ import annotations

from pathlib import Path

from gate.__main__ import mwaa_airflow_python
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR


def _python_reporting(tmp_path: Path, version: str) -> Path:
    fake = tmp_path / f"python-{version}"
    fake.write_text(f"#!/bin/sh\necho {version}\n")
    fake.chmod(0o755)
    return fake


def _settings(version: str):
    return from_stack_file(PROJECT_DIR, "dev", {"airflow": {"version": version, "requirementsFile": ""}})


def test_the_given_airflow_serves_when_it_is_the_stacks_version(tmp_path, monkeypatch):
    given = _python_reporting(tmp_path, "2.9.2")
    monkeypatch.setenv("AIRFLOW_PYTHON", str(given))
    assert mwaa_airflow_python(PROJECT_DIR, _settings("2.9.2"), None, build=lambda *a: 1 / 0) == given


def test_another_version_gets_its_own_environment_on_mwaas_python(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_PYTHON", str(_python_reporting(tmp_path, "2.9.2")))
    calls = []

    def build(venv: Path, python: str, body: str) -> Path:
        calls.append((venv, python, body))
        return tmp_path / "bin"

    found = mwaa_airflow_python(tmp_path, _settings("2.11.0"), None, build=build)
    assert found == tmp_path / "bin" / "python"
    [(venv, python, body)] = calls
    assert venv == tmp_path / ".venv-mwaa" / "2.11.0"
    assert body.splitlines()[0] == "apache-airflow==2.11.0"
    # MWAA runs 2.11.0 on Python 3.12.
    assert python.endswith("3.12") or "3.12" in Path(python).name
