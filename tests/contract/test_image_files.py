"""The image's files: hadolint on the Dockerfile, shellcheck on the entrypoint, and the conventions the
Kubernetes side relies on (uid 50000 with gid 0, AIRFLOW_HOME, the entrypoint as ENTRYPOINT)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.contract

DOCKER = Path(__file__).resolve().parents[2] / "docker"
BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, timeout=60)


def test_dockerfile_passes_hadolint():
    result = _run("hadolint", "--no-color", str(DOCKER / "Dockerfile"))
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_catches_a_careless_dockerfile(tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nRUN pip install apache-airflow\n")
    result = _run("hadolint", "--no-color", str(careless))
    assert result.returncode != 0
    assert {"DL3007", "DL3008", "DL3013"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_entrypoint_passes_shellcheck():
    result = _run("shellcheck", "--severity=style", str(DOCKER / "entrypoint.sh"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_carries_the_rds_certificate_authorities_where_the_database_url_looks():
    from components.self_managed.database_parameters import RDS_CA_BUNDLE, RDS_CA_BUNDLE_URL

    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert f"urlretrieve('{RDS_CA_BUNDLE_URL}', '{RDS_CA_BUNDLE}')" in dockerfile
    assert RDS_CA_BUNDLE.startswith("/opt/image/")  # root-owned, readable by the airflow user


def test_the_images_python_is_one_fact():
    """stackconfig.project_files.IMAGE_PYTHON, the Dockerfile's base image, the Makefile and the constraints' header
    name the same Python: the image, the twin and the gate run one."""
    from stackconfig.project_files import IMAGE_PYTHON, header_value

    assert re.search(rf"^FROM python:{re.escape(IMAGE_PYTHON)}-slim", (DOCKER / "Dockerfile").read_text(), re.MULTILINE)
    makefile = (DOCKER.parent / "Makefile").read_text()
    assert re.search(rf"^IMAGE_PYTHON_VERSION := {re.escape(IMAGE_PYTHON)}$", makefile, re.MULTILINE)
    assert header_value(DOCKER / "constraints.txt", "python-version") == IMAGE_PYTHON


def test_dockerfile_follows_the_official_image_conventions():
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim-bookworm$", text, re.MULTILINE)
    assert "ARG AIRFLOW_UID=50000" in text and "--gid 0" in text
    assert re.search(r"^USER \$\{AIRFLOW_UID\}:0$", text, re.MULTILINE)
    assert "AIRFLOW_HOME=/opt/airflow" in text
    assert re.search(r'^ENTRYPOINT \[.*"/entrypoint\.sh"\]$', text, re.MULTILINE)
    assert "-c /opt/image/constraints.txt" in text


def test_constraints_pin_the_providers_requirements_names():
    pins = dict(
        line.split("==", 1) for line in (DOCKER / "constraints.txt").read_text().splitlines() if "==" in line and not line.startswith("#")
    )
    required = [
        line.split("==")[0] for line in (DOCKER / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    for name in required + ["apache-airflow"]:
        assert name in pins, f"{name} is not pinned in docker/constraints.txt; run make image-constraints"
    for line in (DOCKER / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            assert pins[name] == version, f"{name}: requirements say {version}, constraints {pins[name]}"
