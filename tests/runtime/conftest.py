"""A fresh copy of the image's Python layer, built once per test session and shared by the runtime tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from local import image_env
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR, offered_image_versions


@pytest.fixture(scope="session")
def image_env_bin(tmp_path_factory) -> Path:
    """The image's Python layer for the self-managed stack's Airflow version (prod's)."""
    version = from_stack_file(PROJECT_DIR, "prod").airflow.version
    try:
        return image_env.build(tmp_path_factory.mktemp("image") / "venv", version)
    except image_env.ImageEnvError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def image_envs(tmp_path_factory, image_env_bin) -> dict[str, Path]:
    """The image's Python layer (bin folder) of every offered Airflow version, two built side by side."""
    built = {from_stack_file(PROJECT_DIR, "prod").airflow.version: image_env_bin}
    root = tmp_path_factory.mktemp("images")
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = {v: pool.submit(image_env.build, root / v, v) for v in offered_image_versions() if v not in built}
        try:
            built.update({v: future.result() for v, future in pending.items()})
        except image_env.ImageEnvError as err:
            pytest.fail(str(err))
    return built


@pytest.fixture(scope="session")
def oidc_provider_bin(tmp_path_factory) -> Path:
    """oidc-provider-mock's environment (Python 3.12, as the image's), from its lock file."""
    lock = PROJECT_DIR / "tests" / "runtime" / "oidc-mock-requirements.lock"
    try:
        return image_env.build_from(tmp_path_factory.mktemp("oidc") / "venv", image_env.image_python(), lock.read_text())
    except image_env.ImageEnvError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def image_env_path(image_env_bin) -> Path:
    return image_env_bin.parent


GREETING = "hello from the twin test"
