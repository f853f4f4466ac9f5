"""DAG integrity and plugin import, checked by the real Airflow (its own virtual environment)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

CHECK = Path(__file__).with_name("dag_check.py")


@dataclass
class DagReport:
    dags: list[str]
    plugins: list[str]
    problems: list[str] = field(default_factory=list)  # one line each: where, and what went wrong


def airflow_version(python: Path) -> str:
    result = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('apache-airflow'))"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return result.stdout.strip()


def check_dags(python: Path, dags: Path, plugins: Optional[Path], home: Path) -> DagReport:
    """Loads `dags` as a scheduler's DagBag would, after the plugins; an Airflow home of its own keeps it apart from
    any local setup."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins or home / "no-plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    result = subprocess.run([str(python), str(CHECK), str(dags)], env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return DagReport([], [], [f"Airflow could not load the DAG folder: {_last_line(result.stderr)}"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    problems = [f"{_relative(path, dags)}: {_last_line(error)}" for path, error in sorted(report["import_errors"].items())]
    problems += [f"DAG {dag_id}: {error}" for dag_id, error in sorted(report["cycles"].items())]
    problems += [
        f"plugin {_relative(path, plugins)}: {_last_line(error)}" for path, error in sorted(report["plugin_import_errors"].items())
    ]
    return DagReport(report["dags"], report["plugins"], problems)


def _relative(path: str, folder: Optional[Path]) -> str:
    if folder is not None and path.startswith(str(folder)):
        return f"{folder.name}/{Path(path).relative_to(folder)}"
    return path


def _last_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
