"""The README's architecture diagram names every component the program registers, in both flavours: a new
component without its box fails here."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]


def _diagram() -> str:
    readme = (PROJECT / "README.md").read_text()
    section = readme[readme.index("## Architecture") :]
    return section[section.index("```") + 3 : section.index("```", section.index("```") + 3)]


def test_every_component_type_of_the_plans_is_in_the_diagram(stack_plans):
    diagram = _diagram()
    types = {r.type.rsplit(":", 1)[1] for plan in stack_plans.values() for r in plan.resources if r.type.startswith("airflowaws:")}
    assert types and sorted(t for t in types if t not in diagram) == []


def test_the_diagram_names_no_component_that_does_not_exist(stack_plans):
    import re

    types = {r.type.rsplit(":", 1)[1] for plan in stack_plans.values() for r in plan.resources if r.type.startswith("airflowaws:")}
    boxes = set(re.findall(r"\b([A-Z][a-z]+(?:[A-Z][a-z]+)+)\b", _diagram()))
    assert boxes - types - {"NetworkPolicies"} == set()  # Kubernetes objects named in prose
