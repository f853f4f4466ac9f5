"""Running the real Airflow (its own virtual environment) with the settings the program gives MWAA."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def airflow_python() -> Path:
    path = Path(os.environ.get("AIRFLOW_PYTHON", PROJECT / ".venv-airflow" / "bin" / "python"))
    if not path.exists():
        pytest.skip(f"no Airflow virtual environment at {path}: `make test` creates it")
    return path


def options_as_env(options: Mapping[str, str]) -> dict[str, str]:
    """MWAA's `section.option` map as the AIRFLOW__SECTION__OPTION variables Airflow reads."""
    env = {}
    for key, value in options.items():
        section, option = key.split(".", 1)
        env[f"AIRFLOW__{section.upper()}__{option.upper().replace('.', '__')}"] = value
    return env


def base_env(home: Path, dags: Path, plugins: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def run_airflow(python: Path, args: list[str], env: Mapping[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "airflow", *args], env=dict(env), capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server(python: Path) -> Iterator[str]:
    """moto's AWS emulation on a loopback port, stopped when done."""
    port = free_port()
    process = subprocess.Popen(
        [str(python), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("moto server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
