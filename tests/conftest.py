"""Shared fixtures: the real stack files run under the mock engine, once per session per stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline import Plan, run_stack

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def stack_plans() -> dict[str, Plan]:
    plans = {stack: run_stack(stack) for stack in STACKS}
    for stack, plan in plans.items():
        assert plan.error is None, f"Pulumi.{stack}.yaml does not run: {plan.error}"
    return plans


@pytest.fixture(scope="session")
def dev(stack_plans) -> Plan:
    return stack_plans["dev"]


@pytest.fixture(scope="session")
def prod(stack_plans) -> Plan:
    return stack_plans["prod"]


@pytest.fixture(params=STACKS)
def plan(request, stack_plans) -> Plan:
    return stack_plans[request.param]
