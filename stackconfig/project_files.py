"""The project's own files that settings, the gate and the twin read: where the project is, the image's folder
and Python, the constraints file's header, and a requirements file's `--constraint` line. One place for each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

PROJECT_DIR = Path(__file__).resolve().parent.parent
IMAGE_DIR = "docker"
# One file of pins per Airflow version the self-managed image is offered for: docker/constraints/<version>.txt.
CONSTRAINTS_DIR = f"{IMAGE_DIR}/constraints"
# The self-managed image's Python: docker/Dockerfile's base image and the Makefile's IMAGE_PYTHON_VERSION say the
# same (a test ties them); the image's constraints are resolved for it.
IMAGE_PYTHON = "3.12"
# MWAA's Python per Airflow version: 2.7.2-2.10.3 run 3.11, 2.11.0 and every 3.x run 3.12 (MWAA user guide,
# "Apache Airflow versions on Amazon MWAA"; ../shared/reference/mwaa.md). The constraints URL names it too.
MWAA_PYTHON_FROM = ((2, 11), "3.12")
MWAA_PYTHON_BEFORE = "3.11"


def mwaa_python(airflow_version: str) -> str:
    """The Python MWAA runs an Airflow version on."""
    since, python = MWAA_PYTHON_FROM
    return python if _version_key(airflow_version)[:2] >= since else MWAA_PYTHON_BEFORE

_CONSTRAINT_LINE = re.compile(r"^\s*(?:-c|--constraint)(?:\s+|=)[\"']?(?P<target>[^\"'\s]+)[\"']?\s*$")
_AIRFLOW_IN_URL = re.compile(r"constraints-(?P<airflow>\d+\.\d+\.\d+)/")
_PYTHON_IN_URL = re.compile(r"constraints-(?P<python>3\.\d+)\.txt")


def constraint_target(line: str) -> Optional[str]:
    """The file or URL of a `--constraint`/`-c` line of a requirements file, or None for any other line."""
    match = _CONSTRAINT_LINE.match(line)
    return match["target"] if match else None


def constraints_airflow_version(target: str) -> Optional[str]:
    """The Airflow version of Airflow's constraints URL (`.../constraints-2.9.2/constraints-3.11.txt`)."""
    match = _AIRFLOW_IN_URL.search(target)
    return match["airflow"] if match else None


def constraints_python(target: str) -> Optional[str]:
    match = _PYTHON_IN_URL.search(target)
    return match["python"] if match else None


def requirements_constraint(requirements: str) -> Optional[str]:
    """The target of a requirements file's first `--constraint` line."""
    for line in requirements.splitlines():
        target = constraint_target(line)
        if target is not None:
            return target
    return None


def requirements_airflow_version(requirements: str) -> Optional[str]:
    """The Airflow version a requirements file's first `--constraint` line is for."""
    target = requirements_constraint(requirements)
    return constraints_airflow_version(target) if target else None


def header_value(path: Path, name: str) -> Optional[str]:
    """A `# <name>: <value>` line at the top of a generated constraints file."""
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if line.startswith(f"# {name}:"):
            return line.split(":", 1)[1].strip()
    return None


def constraints_file(version: str) -> str:
    """The image's pins for one Airflow version, relative to the project."""
    return f"{CONSTRAINTS_DIR}/{version}.txt"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def offered_image_versions(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The Airflow versions the image has pins for, oldest first (each file's `# airflow-version:` line)."""
    found = [header_value(path, "airflow-version") for path in (project_dir / CONSTRAINTS_DIR).glob("*.txt")]
    return sorted((v for v in found if v), key=_version_key)


def image_requirements_for(version: str, project_dir: Path = PROJECT_DIR) -> str:
    """The requirements file the image installs with this version (its pins' `# requirements:` line), relative to
    the project; Airflow 3 needs other providers than Airflow 2."""
    named = header_value(project_dir / constraints_file(version), "requirements")
    default = "requirements-3.txt" if version.startswith("3.") else "requirements.txt"
    return f"{IMAGE_DIR}/{named or default}"
