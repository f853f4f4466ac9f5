"""The image's Python layer as a local virtual environment: Python 3.12 with apache-airflow and
docker/requirements.txt under docker/constraints.txt, exactly as the Dockerfile installs them."""

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
    candidates = [os.environ.get("IMAGE_PYTHON", "")]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{IMAGE_PYTHON}.*/bin/python{IMAGE_PYTHON}"))
    candidates.append(shutil.which(f"python{IMAGE_PYTHON}") or "")
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == f"(3, {IMAGE_PYTHON.split('.')[1]})":
            return candidate
    raise ImageEnvError(f"no Python {IMAGE_PYTHON} found (set IMAGE_PYTHON to one): the image runs Python {IMAGE_PYTHON}")


def build(venv: Path, airflow_version: str) -> Path:
    """Create (or refresh) the environment at `venv` for one offered Airflow version; returns its bin folder."""
    tool = uv()
    created = subprocess.run(
        [tool, "venv", "--quiet", "--allow-existing", "--python", image_python(), str(venv)],
        capture_output=True, text=True, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    if created.returncode != 0:
        raise ImageEnvError(f"could not create {venv}: {created.stderr}")
    install = subprocess.run(
        [tool, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         f"apache-airflow=={airflow_version}",
         "-r", str(PROJECT / image_requirements_for(airflow_version)), "-c", str(PROJECT / constraints_file(airflow_version))],
        capture_output=True, text=True, timeout=900,
    )
    if install.returncode != 0:
        raise ImageEnvError(install.stderr[-3000:])
    return venv / "bin"


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1]), sys.argv[2]))
