"""The bootstrap project's own stack file, run under the mock engine: as shipped, and with ESC credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import Plan, run_stack

PROJECT_DIR = Path(__file__).resolve().parents[2]
BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"


def run_bootstrap(**config) -> Plan:
    return run_stack("admin", project_dir=BOOTSTRAP_DIR, config=config)


@pytest.fixture(scope="session")
def bootstrap_plan(bootstrap_admin_plan) -> Plan:
    """The shipped stack file's plan (tests/conftest.py runs it once for every suite)."""
    return bootstrap_admin_plan


@pytest.fixture(scope="session")
def esc_plan() -> Plan:
    plan = run_bootstrap(credentials="esc")
    assert plan.error is None, plan.error
    return plan


def of_stack(plan: Plan, typ: str, stack: str):
    return next(r for r in plan.of_type(typ) if r.name.startswith(f"{stack}-"))
