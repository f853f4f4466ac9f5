"""Do the stack's Python requirements resolve together with its Airflow version, under the constraints Airflow
installs with? Resolved by uv for the platform the packages are installed on, without installing anything."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from stackconfig.project_files import IMAGE_PYTHON, constraint_target, header_value, mwaa_python

# MWAA and the self-managed image run on x86_64 Linux with glibc >= 2.28.
PLATFORM = "x86_64-manylinux_2_28"


@dataclass(frozen=True)
class Resolution:
    what: str  # a sentence naming the files and versions, for the report
    ok: bool
    detail: str  # uv's explanation when the resolution failed


def managed_input(requirements: str, airflow_version: str, constraints_file: Optional[Path]) -> tuple[str, str]:
    """MWAA installs requirements.txt next to apache-airflow==<version>. Returns the resolver input and the Python
    MWAA runs that version on (the config model holds the constraints URL's Python to it). `constraints_file` stands
    in for the URL where raw.githubusercontent.com cannot be reached (this project's own tests)."""
    python = mwaa_python(airflow_version)
    lines = [f"apache-airflow=={airflow_version}"]
    for line in requirements.splitlines():
        target = constraint_target(line)
        if target is not None:
            if constraints_file is not None:
                line = f"--constraint {constraints_file}"
        lines.append(line)
    return "\n".join(lines) + "\n", python


def image_input(requirements: str, airflow_version: str, constraints: Path) -> tuple[str, str]:
    """The self-managed image installs apache-airflow and its requirements file under the version's pins
    (docker/constraints/<version>.txt), whose header names the image's Python (`# python-version: 3.12`)."""
    python = header_value(constraints, "python-version") or IMAGE_PYTHON
    body = "\n".join([f"apache-airflow=={airflow_version}", f"--constraint {constraints}", requirements])
    return body + "\n", python


def resolve(what: str, body: str, python: str, *, uv: str, workdir: Path) -> Resolution:
    source = workdir / "gate-requirements.in"
    source.write_text(body)
    result = subprocess.run(
        [uv, "pip", "compile", "--quiet", "--no-header", "--python-version", python, "--python-platform", PLATFORM, str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    detail = "" if result.returncode == 0 else (result.stderr.strip() or result.stdout.strip())
    return Resolution(f"{what} (Python {python})", result.returncode == 0, detail)
