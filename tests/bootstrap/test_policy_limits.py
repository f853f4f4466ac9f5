"""Guard: every IAM policy the program and the bootstrap write fits IAM's size quotas, for the longest names the
config allows. IAM's quotas (IAM user guide, "IAM and AWS STS quotas"; white space not counted): a role's inline
policies 10,240 characters in all, a managed policy 6,144, a trust policy 2,048 (the default), 10 managed policies
attached to a role (the default). Mocks and moto enforce none of them; a first `pulumi up` would."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict

import pytest
import yaml

from bootstrap.deploy_policy import MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARS, deploy_policies, deploy_policy, policy_size
from bootstrap.trust_policy import deployments_subject, esc_subject, trust_policy
from components.naming import partition
from offline import run_stack
from stackconfig.load import PROJECT_DIR
from tests.bootstrap.test_deploy_policy import FLAVOUR_OF, scope_of

INLINE_MAX, TRUST_MAX = 10240, 2048
LONGEST_NAME = "a" + "-b" * 15 + "c"  # 32 characters, the most environmentName allows
# The longest Region names: ARNs are longest in the GovCloud partition and in ap-southeast-*.
REGIONS = ("ap-southeast-1", "us-gov-west-1")
LONGEST_ORG = "o" * 40  # the most a Pulumi organization name may have (bootstrap/settings.py)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("key", sorted(FLAVOUR_OF))
def test_deploy_policies_fit_managed_policies_for_the_longest_names(key, region):
    scope = dataclasses.replace(scope_of(key), name=LONGEST_NAME, region=region, partition=partition(region))
    documents = deploy_policies(scope)
    assert all(policy_size(d) <= MANAGED_POLICY_MAX_CHARS for d in documents)
    assert len(documents) <= MANAGED_POLICIES_PER_ROLE
    assert [s for d in documents for s in d["Statement"]] == deploy_policy(scope)["Statement"]


def test_the_self_managed_grants_would_not_fit_one_role_inline():
    """Why the grants are managed policies: as an inline policy they pass IAM's 10,240 for long names."""
    scope = dataclasses.replace(scope_of("prod"), name=LONGEST_NAME, region="us-gov-west-1", partition="aws-us-gov")
    assert policy_size(deploy_policy(scope)) > INLINE_MAX


@pytest.mark.parametrize("credentials", ["oidc", "esc"])
def test_deploy_role_trust_fits_for_the_longest_names(credentials):
    provider = "arn:aws-us-gov:iam::123456789012:oidc-provider/api.pulumi.com/oidc"
    stack = "s" * 100
    subject = (
        deployments_subject(LONGEST_ORG, "airflow-on-aws", stack)
        if credentials == "oidc"
        else esc_subject(LONGEST_ORG, "e" * 100, f"airflow-on-aws-{stack}")
    )
    assert policy_size(trust_policy(provider, LONGEST_ORG, subject)) <= TRUST_MAX


def _longest_plan(key: str, region: str):
    stack, _, switched = key.partition("+")
    values = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    network = dict(values.get("airflow-on-aws:network") or {})
    if "availabilityZones" in network:
        network["availabilityZones"] = [f"{region}{z}" for z in "abc"[: len(network["availabilityZones"])]]
    config = {"environmentName": LONGEST_NAME, "aws:region": region, "network": network}
    if switched:
        config["flavour"] = switched
    if values.get("airflow-on-aws:mwaa", {}).get("kmsKey", "").startswith("arn:"):
        config["mwaa"] = {**values["airflow-on-aws:mwaa"], "kmsKey": "create"}
    plan = run_stack(stack, config=config)
    assert plan.error is None, plan.error
    return plan


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("key", sorted(FLAVOUR_OF))
def test_every_role_the_program_creates_fits_iams_quotas(key, region):
    plan = _longest_plan(key, region)
    inline = defaultdict(int)
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        inline[policy.raw_inputs["role"]] += policy_size(json.loads(policy.raw_inputs["policy"]))
    assert inline and max(inline.values()) <= INLINE_MAX, dict(inline)
    roles = plan.of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        assert policy_size(json.loads(role.raw_inputs["assumeRolePolicy"])) <= TRUST_MAX, role.name
    attached = defaultdict(int)
    for attachment in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        attached[attachment.raw_inputs["role"]] += 1
    assert max(attached.values(), default=0) <= MANAGED_POLICIES_PER_ROLE
    for policy in plan.of_type("aws:iam/policy:Policy"):
        assert policy_size(json.loads(policy.raw_inputs["policy"])) <= MANAGED_POLICY_MAX_CHARS, policy.name


def test_policy_size_does_not_count_white_space():
    document = {"Version": "2012-10-17", "Statement": []}
    assert policy_size(document) == len('{"Version":"2012-10-17","Statement":[]}')


def test_a_policy_keeps_its_name_and_description_when_the_number_of_parts_changes(monkeypatch):
    """A policy's name and description force its replacement, and IAM refuses a second policy of the same name while
    the first exists: a stack whose grants grow from one part to two (a flavour switch, a longer name) must update
    part 1 in place."""
    import bootstrap.deploy_role as deploy_role
    from tests.bootstrap.conftest import run_bootstrap

    def parts(plan):
        return {r.name: (r.inputs["name"], r.inputs["description"]) for r in plan.of_type("aws:iam/policy:Policy")}

    before = parts(run_bootstrap())
    real = deploy_role.deploy_policies
    monkeypatch.setattr(deploy_role, "deploy_policies", lambda scope: real(scope) + [{"Version": "2012-10-17", "Statement": []}])
    after = parts(run_bootstrap())
    assert set(before) < set(after)
    assert {name: after[name] for name in before} == before
