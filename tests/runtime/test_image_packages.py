"""The image's Python layer without Docker: the version's requirements under docker/constraints/<version>.txt, installed the way
the Dockerfile installs them into a fresh Python 3.12 virtual environment (the base image's Python), and then the
image's entrypoint run on that Airflow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stackconfig.load import from_stack_file
from local.image_env import uv as _uv

pytestmark = pytest.mark.runtime

PROJECT = Path(__file__).resolve().parents[2]
DOCKER = PROJECT / "docker"


def test_the_providers_import_on_the_images_python(image_env_path):
    image_env = image_env_path
    code = (
        "import sys, airflow\n"
        "import airflow.providers.amazon.aws.secrets.secrets_manager\n"
        "import airflow.providers.amazon.aws.log.s3_task_handler\n"
        "import airflow.providers.cncf.kubernetes.executors.kubernetes_executor\n"
        "import airflow.providers.postgres.hooks.postgres\n"
        "print(sys.version_info[:2], airflow.__version__)\n"
    )
    result = subprocess.run([str(image_env / "bin" / "python"), "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"(3, 12) {from_stack_file(PROJECT, 'prod').airflow.version}"


def test_pip_finds_no_broken_requirements(image_env_path):
    image_env = image_env_path
    result = subprocess.run(
        [_uv(), "pip", "check", "--python", str(image_env / "bin" / "python")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _entrypoint(image_env: Path, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{image_env / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "DB_WAIT_SECONDS": "20",
        "MIGRATION_WAIT_SECONDS": "20",
        **extra,
    }
    return subprocess.run(["bash", str(DOCKER / "entrypoint.sh"), *args], env=env, capture_output=True, text=True, timeout=300)


def test_entrypoint_migrates_then_creates_the_admin_user_once(image_env_path, tmp_path):
    image_env = image_env_path
    migrated = _entrypoint(image_env, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    created = _entrypoint(image_env, tmp_path, "create-user", AIRFLOW_ADMIN_PASSWORD="s3cret-for-tests")
    assert created.returncode == 0, created.stderr[-3000:]
    again = _entrypoint(image_env, tmp_path, "create-user", AIRFLOW_ADMIN_PASSWORD="s3cret-for-tests")
    assert again.returncode == 0 and "exists" in again.stderr
    task = _entrypoint(image_env, tmp_path, "airflow", "users", "list", "--output", "json")
    assert task.returncode == 0 and '"username": "admin"' in task.stdout
    # The password given on stdin is the one stored (and the webserver's app builds on the image's packages).
    check = (
        "from werkzeug.security import check_password_hash\n"
        "from airflow.www.app import cached_app\n"
        "app = cached_app(testing=True)\n"
        "with app.app_context():\n"
        "    stored = app.appbuilder.sm.find_user(username='admin').password\n"
        "print(check_password_hash(stored, 's3cret-for-tests'), check_password_hash(stored, 'wrong'))\n"
    )
    login = subprocess.run(
        [str(image_env / "bin" / "python"), "-c", check], capture_output=True, text=True, timeout=300,
        env={"PATH": f"{image_env / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "AIRFLOW_HOME": str(tmp_path),
             "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db"},
    )
    assert login.stdout.strip().splitlines()[-1] == "True False", login.stderr[-3000:]


def test_entrypoint_refuses_an_admin_without_a_password_and_unknown_roles(image_env_path, tmp_path):
    image_env = image_env_path
    assert _entrypoint(image_env, tmp_path, "migrate").returncode == 0
    no_password = _entrypoint(image_env, tmp_path, "create-user")
    assert no_password.returncode == 1 and "AIRFLOW_ADMIN_PASSWORD is empty" in no_password.stderr
    unknown = _entrypoint(image_env, tmp_path, "workerz")
    assert unknown.returncode == 2 and "unknown role 'workerz'" in unknown.stderr


def test_entrypoint_gives_up_clearly_when_the_database_never_answers(image_env_path, tmp_path):
    image_env = image_env_path
    result = _entrypoint(
        image_env, tmp_path, "scheduler",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:x@127.0.0.1:9/airflow",
        DB_WAIT_SECONDS="4",
    )
    assert result.returncode == 1
    assert "did not answer within 4s" in result.stderr


def test_entrypoint_runs_a_scheduler_loop_on_the_images_packages(image_env_path, tmp_path):
    image_env = image_env_path
    assert _entrypoint(image_env, tmp_path, "migrate").returncode == 0
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "hello.py").write_text((PROJECT / "dags" / "hello_secrets.py").read_text())
    result = _entrypoint(image_env, tmp_path, "scheduler", "--num-runs", "2", AIRFLOW__CORE__DAGS_FOLDER=str(dags))
    assert result.returncode == 0, result.stderr[-3000:]
    listed = _entrypoint(image_env, tmp_path, "airflow", "dags", "list", "--output", "json", AIRFLOW__CORE__DAGS_FOLDER=str(dags))
    assert listed.returncode == 0 and '"dag_id": "hello_secrets"' in listed.stdout, listed.stdout + listed.stderr[-2000:]


def test_the_packages_come_with_their_bytecode_as_pip_installs_them_in_the_image(image_env_path):
    """The image's pods, and the twin's, set PYTHONDONTWRITEBYTECODE: a layer installed without bytecode (uv's
    default) has every process compile Airflow from source, three times the import time, which timed CI's
    webservers out. Every module of Airflow, imported or not, has its compiled file."""
    airflow = next((image_env_path / "lib").glob("python3.*/site-packages/airflow"))
    sources = list(airflow.rglob("*.py"))
    compiled = {p.name.split(".")[0] + "@" + str(p.parent.parent) for p in airflow.rglob("__pycache__/*.pyc")}
    missing = [p for p in sources if f"{p.stem}@{p.parent}" not in compiled]
    assert sources and len(missing) <= len(sources) // 100, missing[:10]
