"""The image's files: hadolint on the Dockerfile, shellcheck on the entrypoint, and the conventions the
Kubernetes side relies on (uid 50000 with gid 0, AIRFLOW_HOME, the entrypoint as ENTRYPOINT)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stackconfig.project_files import offered_image_versions

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
    from stackconfig.project_files import IMAGE_PYTHON, constraints_file, header_value, offered_image_versions

    assert re.search(rf"^FROM python:{re.escape(IMAGE_PYTHON)}-slim", (DOCKER / "Dockerfile").read_text(), re.MULTILINE)
    makefile = (DOCKER.parent / "Makefile").read_text()
    assert re.search(rf"^IMAGE_PYTHON_VERSION := {re.escape(IMAGE_PYTHON)}$", makefile, re.MULTILINE)
    for version in offered_image_versions():
        assert header_value(DOCKER.parent / constraints_file(version), "python-version") == IMAGE_PYTHON, version


def test_dockerfile_follows_the_official_image_conventions():
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim-bookworm$", text, re.MULTILINE)
    assert "ARG AIRFLOW_UID=50000" in text and "--gid 0" in text
    assert re.search(r"^USER \$\{AIRFLOW_UID\}:0$", text, re.MULTILINE)
    assert "AIRFLOW_HOME=/opt/airflow" in text
    assert re.search(r'^ENTRYPOINT \[.*"/entrypoint\.sh"\]$', text, re.MULTILINE)
    # The version's pins name its requirements file: Airflow 2 and 3 install different providers.
    assert 'pins="/opt/image/constraints/${AIRFLOW_VERSION}.txt"' in text and '-c "${pins}"' in text


@pytest.mark.parametrize("version", offered_image_versions())
def test_each_versions_pins_hold_its_requirements(version):
    from stackconfig.project_files import constraints_file, header_value, image_requirements_for

    pins_path = DOCKER.parent / constraints_file(version)
    pins = dict(line.split("==", 1) for line in pins_path.read_text().splitlines() if "==" in line and not line.startswith("#"))
    requirements = (DOCKER.parent / image_requirements_for(version)).read_text().splitlines()
    required = [line.split("==")[0] for line in requirements if line and not line.startswith("#")]
    assert pins["apache-airflow"] == version == header_value(pins_path, "airflow-version")
    for name in required:
        assert name in pins, f"{name} is not pinned in {pins_path.name}; run make image-constraints"
    for line in requirements:
        if "==" in line and not line.startswith("#"):
            name, pinned = line.split("==")
            assert pins[name] == pinned, f"{name}: requirements say {pinned}, {pins_path.name} {pins[name]}"
    # Airflow 3 runs with the standard provider (the core operators) and the FAB auth manager.
    if version.startswith("3."):
        assert {"apache-airflow-providers-standard", "apache-airflow-providers-fab"} <= set(required)
