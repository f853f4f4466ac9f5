"""The offline plans of the shipped stacks as a policy pack sees them: each resource's inputs (wire names,
unknowns as the engine's sentinel), its `protect` option and its property dependencies."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any, Callable

from offline.engine import Plan
from offline.golden import VARIANTS
from offline.policy import policy_resources
from policy import rules

SHIPPED = ("dev", "prod", "dev+self-managed", "prod+managed")  # the four stack/flavour combinations


@lru_cache(maxsize=None)
def plan(name: str) -> Plan:
    ran = VARIANTS[name].run()
    assert ran.error is None, ran.error
    return ran


def resources(name: str) -> list[rules.Resource]:
    return policy_resources(plan(name))


def edited(name: str, typ: str, change: Callable[[rules.Resource], rules.Resource | None], *,
           which: Callable[[rules.Resource], bool] = lambda r: True) -> tuple[list[rules.Resource], str]:
    """The shipped plan `name` with the first resource of `typ` (that `which` picks) changed, or removed when
    `change` returns None; and the URN at fault: the resource's, or the bucket's for a bucket's companion."""
    out, urn = [], None
    for resource in resources(name):
        if urn is None and resource.type == typ and which(resource):
            urn = (resource.property_dependencies.get("bucket") or (resource.urn,))[0]
            resource = change(resource)
            if resource is None:
                continue
        out.append(resource)
    assert urn is not None, f"no {typ} in {name}"
    return out, urn


def with_props(resource: rules.Resource, **props: Any) -> rules.Resource:
    return replace(resource, props={**resource.props, **props})
