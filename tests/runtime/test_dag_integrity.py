"""Every file in dags/ imports on Airflow 2.9.2 without errors, and no DAG has a cycle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.runtime.airflow_env import PROJECT, airflow_python, base_env

pytestmark = pytest.mark.runtime
CHECK = PROJECT / "gate" / "dag_check.py"


def check(folder: Path, home: Path) -> dict:
    python = airflow_python()
    env = base_env(home, folder, PROJECT / "plugins")
    result = subprocess.run([str(python), str(CHECK), str(folder)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_shipped_dags_load_without_errors_or_cycles(tmp_path):
    report = check(PROJECT / "dags", tmp_path)
    python_files = sorted(p for p in (PROJECT / "dags").rglob("*.py"))
    assert report["import_errors"] == {}
    assert report["cycles"] == {}
    assert "hello_secrets" in report["dags"]
    assert len(report["dags"]) >= len(python_files)


def test_the_check_catches_broken_dags(tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "broken.py").write_text("from airflow import DAG\nimport module_that_does_not_exist\n")
    (folder / "cycle.py").write_text(
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.operators.empty import EmptyOperator\n"
        "with DAG('cyclic', start_date=datetime(2024, 1, 1), schedule=None) as dag:\n"
        "    a = EmptyOperator(task_id='a'); b = EmptyOperator(task_id='b')\n"
        "    a >> b\n"
        "    b >> a\n"
    )
    report = check(folder, tmp_path / "home")
    assert any("broken.py" in path for path in report["import_errors"])
    assert "cyclic" in report["cycles"] or any("cycle" in str(e).lower() for e in report["import_errors"].values())
