"""A fresh copy of the image's Python layer, built once per test session and shared by the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from local import image_env
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR


@pytest.fixture(scope="session")
def image_env_bin(tmp_path_factory) -> Path:
    """The image's Python layer for the self-managed stack's Airflow version (prod's)."""
    version = from_stack_file(PROJECT_DIR, "prod").airflow.version
    try:
        return image_env.build(tmp_path_factory.mktemp("image") / "venv", version)
    except image_env.ImageEnvError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def image_env_path(image_env_bin) -> Path:
    return image_env_bin.parent


GREETING = "hello from the twin test"


@pytest.fixture(scope="session")
def twin(tmp_path_factory, image_env_bin):
    """The twin, up once for the session (about a minute): Airflow as the manifests describe it, on this machine."""
    from local.twin import Twin, free_port

    running = Twin(tmp_path_factory.mktemp("twin"), image_env_bin, web_port=free_port(), variables={"greeting": GREETING})
    try:
        yield running.start()
    finally:
        running.stop()
