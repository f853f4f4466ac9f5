"""Guard: no resource carries more tags than AWS lets its type have, counting the provider's default tags, which
the AWS provider adds to every taggable resource (DAG objects included). Mocks and moto accept any number."""

from __future__ import annotations

import json

import pytest

from offline import run_stack
from stackconfig import limits, settings as model

pytestmark = pytest.mark.contract


def tag_counts(plan) -> dict[str, tuple[int, int]]:
    """Each taggable resource's name -> (tags it would carry, tags AWS allows its type)."""
    defaults = {}
    for provider in plan.of_type("pulumi:providers:aws"):
        raw = provider.raw_inputs.get("defaultTags")
        tags = (json.loads(raw) if isinstance(raw, str) else raw or {}).get("tags", {})
        defaults[f"{provider.urn}::{provider.id}"] = tags
    counts = {}
    for resource in plan.created:
        if not resource.type.startswith("aws:") or not resource.custom:
            continue
        taggable = "tags" in resource.raw_inputs or resource.type in limits.TAGS_MAX_BY_TYPE
        if not taggable:
            continue
        tags = {**defaults.get(resource.provider or "", {}), **(resource.raw_inputs.get("tags") or {})}
        counts[resource.name] = (len(tags), limits.tags_max(resource.type))
    return counts


def over(plan) -> dict[str, tuple[int, int]]:
    return {name: (n, most) for name, (n, most) in tag_counts(plan).items() if n > most}


def test_no_resource_carries_more_tags_than_its_type_allows(every_plan):
    assert {name: over(plan) for name, plan in every_plan.items() if over(plan)} == {}


def test_every_stack_counts_its_dag_objects(stack_plans):
    """The guard sees the DAG objects (the tightest type) with the provider's default tags on them."""
    for name, plan in stack_plans.items():
        objects = {n: c for n, c in tag_counts(plan).items() if c[1] == 10}
        assert objects and all(n >= len(limits.PROJECT_TAG_KEYS) for n, _ in objects.values()), name


def test_the_most_tags_the_config_allows_still_fit_every_object():
    tags = {f"team{i}": "x" for i in range(limits.USER_TAGS_MAX)}
    plan = run_stack("dev", config={"tags": tags})
    assert plan.error is None, plan.error
    assert not over(plan)


def test_the_guard_catches_eight_user_tags(monkeypatch):
    """Without the config rule, eight tags of the user's would make every DAG upload fail with InvalidTag."""
    monkeypatch.setattr(model.Settings, "_check_tags", lambda self: [])
    plan = run_stack("dev", config={"tags": {f"team{i}": "x" for i in range(8)}})
    assert plan.error is None, plan.error
    found = over(plan)
    assert found and all(most == 10 for _, most in found.values())
