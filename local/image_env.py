"""The image's Python layer as a local virtual environment: Python 3.12 with apache-airflow and its requirements
file under docker/constraints/<version>.txt, exactly as the Dockerfile installs them; and the helpers the gate uses
for MWAA's Airflow of a version (local_python, build_from)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from stackconfig.project_files import IMAGE_DIR, IMAGE_PYTHON, PROJECT_DIR as PROJECT, constraints_file, image_requirements_for

DOCKER = PROJECT / IMAGE_DIR


class ImageEnvError(RuntimeError):
    pass


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(PROJECT / ".tools" / "bin" / "uv")
    if not (Path(found).exists() or shutil.which(found)):
        raise ImageEnvError("uv is needed to build the image's environment: `make test` or `make local` installs it")
    return found


def image_python() -> str:
    """A local Python 3.12: IMAGE_PYTHON, pyenv's, or python3.12 on PATH (uv must not try to download one)."""
    return local_python(IMAGE_PYTHON, os.environ.get("IMAGE_PYTHON", ""))


def local_python(version: str, preferred: str = "") -> str:
    """A local Python `version` (3.x): `preferred`, pyenv's, or python3.x on PATH."""
    candidates = [preferred]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    candidates.append(shutil.which(f"python{version}") or "")
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == f"(3, {version.split('.')[1]})":
            return candidate
    raise ImageEnvError(f"no Python {version} found (set IMAGE_PYTHON to one for 3.12): Airflow runs on Python {version} here")


def build_from(venv: Path, python: str, requirements: str, timeout: float = 900) -> Path:
    """A virtual environment at `venv` on `python` with `requirements` (a requirements file's text) installed."""
    tool = uv()
    created = subprocess.run(
        [tool, "venv", "--quiet", "--allow-existing", "--python", python, str(venv)],
        capture_output=True, text=True, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    if created.returncode != 0:
        raise ImageEnvError(f"could not create {venv}: {created.stderr}")
    venv.mkdir(parents=True, exist_ok=True)
    (venv / "requirements.in").write_text(requirements)
    # Bytecode compiled at install, as pip does in the image (docker/Dockerfile): its pods, and the twin's, set
    # PYTHONDONTWRITEBYTECODE, so without it every process would compile Airflow from source (about 3x the import time).
    install = subprocess.run(
        [tool, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(venv / "bin" / "python"), "-r", str(venv / "requirements.in")],
        capture_output=True, text=True, timeout=timeout,
    )
    if install.returncode != 0:
        raise ImageEnvError(install.stderr[-3000:])
    return venv / "bin"


def build(venv: Path, airflow_version: str) -> Path:
    """Create (or refresh) the environment at `venv` for one offered Airflow version; returns its bin folder."""
    requirements = "\n".join([
        f"apache-airflow=={airflow_version}",
        f"-r {PROJECT / image_requirements_for(airflow_version)}",
        f"-c {PROJECT / constraints_file(airflow_version)}",
    ])
    return build_from(venv, image_python(), requirements + "\n")


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1]), sys.argv[2]))
