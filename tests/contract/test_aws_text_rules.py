"""Guard: the free text the program sends AWS (descriptions) obeys the service's own character and length rules,
in every stack/flavour plan and the bootstrap's. Mocks and moto accept any text; EC2 and IAM do not."""

from __future__ import annotations

import copy
from typing import Any, Iterator

import botocore.session
import pytest
import regex

from stackconfig import limits

pytestmark = pytest.mark.contract

IAM = botocore.session.get_session().get_service_model("iam")
# IAM's own rules for role and policy descriptions, from botocore's model (CreateRole/CreatePolicy.Description).
IAM_DESCRIPTIONS = {
    "aws:iam/role:Role": IAM.operation_model("CreateRole").input_shape.members["Description"],
    "aws:iam/policy:Policy": IAM.operation_model("CreatePolicy").input_shape.members["Description"],
}


def descriptions(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every `description` in a resource's inputs, nested rules (ingress[0].description) included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else key
            if key == "description" and isinstance(inner, str):
                yield where, inner
            else:
                yield from descriptions(inner, where)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from descriptions(inner, f"{path}[{i}]")


def violations(plan) -> list[str]:
    found = []
    for resource in plan.created:
        if resource.type.startswith(("aws:ec2/", "aws:vpc/")):
            for where, text in descriptions(resource.raw_inputs):
                if not limits.EC2_DESCRIPTION.match(text):
                    found.append(f"{resource.name} {where}: {text!r} (EC2 allows {limits.EC2_DESCRIPTION.pattern})")
        if resource.type in IAM_DESCRIPTIONS and "description" in resource.raw_inputs:
            text, meta = resource.raw_inputs["description"], IAM_DESCRIPTIONS[resource.type].metadata
            if not regex.fullmatch(meta.get("pattern", ".*"), text, regex.DOTALL) or len(text) > meta["max"]:
                found.append(f"{resource.name} description: {text!r} (IAM allows {meta.get('pattern', 'any text')}, {meta['max']} at most)")
    return found


def test_every_description_is_one_aws_accepts(every_plan):
    problems = {name: violations(plan) for name, plan in every_plan.items()}
    assert not {name: p for name, p in problems.items() if p}


def test_the_guard_catches_an_apostrophe_and_an_overlong_description():
    from offline import run_stack

    plan = run_stack("prod")
    rule = plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    rule.raw_inputs["description"] = "PostgreSQL from the EKS cluster's nodes"
    group = plan.of_type("aws:ec2/securityGroup:SecurityGroup")[0]
    group.raw_inputs["description"] = "x" * 256
    assert len(violations(plan)) == 2


def test_the_guard_reads_the_bootstraps_policy_descriptions(bootstrap_admin_plan):
    plan = copy.deepcopy(bootstrap_admin_plan)
    policies = plan.of_type("aws:iam/policy:Policy")
    assert policies and not violations(plan)
    policies[0].raw_inputs["description"] = "x" * 1001
    assert len(violations(plan)) == 1, violations(plan)
