"""Shared fixtures: the real stack files run under the mock engine, once per session, each with both flavours.

`dev` and `prod` are the files as they are (dev: managed, prod: self-managed); `dev+self-managed` and
`prod+managed` are the same files after `pulumi config set flavour ...`, which the files are written to allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import Plan
from offline.golden import VARIANTS

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")
FILE_FLAVOURS = {"dev": "managed", "prod": "self-managed"}
OTHER = {"managed": "self-managed", "self-managed": "managed"}
MANAGED = ("dev", "prod+managed")
SELF_MANAGED = ("prod", "dev+self-managed")


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, Plan]:
    plans = {name: variant.run() for name, variant in VARIANTS.items() if name != "bootstrap"}
    assert set(plans) == {*STACKS, *(f"{s}+{OTHER[FILE_FLAVOURS[s]]}" for s in STACKS)}
    for key, plan in plans.items():
        assert plan.error is None, f"Pulumi.{key}.yaml does not run: {plan.error}"
    return plans


@pytest.fixture(scope="session")
def bootstrap_admin_plan() -> Plan:
    """The bootstrap project's shipped stack file (bootstrap/Pulumi.admin.yaml)."""
    plan = VARIANTS["bootstrap"].run()
    assert plan.error is None, plan.error
    return plan


@pytest.fixture(scope="session")
def every_plan(stack_plans, bootstrap_admin_plan) -> dict[str, Plan]:
    """The four stack/flavour plans and the bootstrap's: what the guards over AWS's rules run on."""
    return {**stack_plans, "bootstrap": bootstrap_admin_plan}


@pytest.fixture(scope="session")
def dev(stack_plans) -> Plan:
    return stack_plans["dev"]


@pytest.fixture(scope="session")
def prod(stack_plans) -> Plan:
    return stack_plans["prod"]


@pytest.fixture(scope="session")
def prod_managed(stack_plans) -> Plan:
    return stack_plans["prod+managed"]


@pytest.fixture(scope="session")
def dev_self_managed(stack_plans) -> Plan:
    return stack_plans["dev+self-managed"]


@pytest.fixture(params=MANAGED + SELF_MANAGED)
def plan(request, stack_plans) -> Plan:
    return stack_plans[request.param]


@pytest.fixture(params=MANAGED)
def managed_plan(request, stack_plans) -> Plan:
    return stack_plans[request.param]


@pytest.fixture(params=SELF_MANAGED)
def self_managed_plan(request, stack_plans) -> Plan:
    return stack_plans[request.param]


# `make test` runs two pytest workers (pytest-xdist, --dist loadgroup): each group below runs whole on one worker, so
# a twin or a module's Airflow is started once; the package twin's tests are one group, the other runtime modules one
# each, and the rest one more.
FIRST_GROUPS = ("runtime-twin", "fast")
# Modules that share the session's image environments of every offered version (tests/runtime/conftest.py
# image_envs): on one worker, they are built once.
SHARED_GROUPS = {"test_upgrade": "runtime-images", "test_airflow_options": "runtime-images"}


def _group(item) -> str:
    parts = Path(str(item.fspath)).resolve().relative_to(PROJECT_DIR / "tests").parts
    if parts[0] != "runtime":
        return "fast"
    if parts[1] == "twin":
        return "runtime-twin"
    stem = Path(parts[-1]).stem
    return SHARED_GROUPS.get(stem, f"runtime-{stem}")


# First: xdist's own hook turns the xdist_group marks into groups, and without tryfirst it runs before these are
# added (each test was its own unit, and the package twin started on both workers).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    items.sort(key=lambda item: FIRST_GROUPS.index(_group(item)) if _group(item) in FIRST_GROUPS else len(FIRST_GROUPS))
