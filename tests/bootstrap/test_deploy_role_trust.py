"""Each deploy role trusts Pulumi Cloud's OIDC tokens of exactly its organization, project and stack."""

from __future__ import annotations

import json

from tests.bootstrap.conftest import of_stack, run_bootstrap

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"


def trust(plan, stack):
    return json.loads(of_stack(plan, "aws:iam/role:Role", stack).raw_inputs["assumeRolePolicy"])


def test_the_pulumi_cloud_provider_is_created_once_and_protected(bootstrap_plan):
    provider = bootstrap_plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://api.pulumi.com/oidc"
    assert provider.inputs["clientIdLists"] == ["acme-data"]
    assert provider.protect


def test_each_role_trusts_only_its_own_stacks_deployments(bootstrap_plan):
    for stack in ("dev", "prod"):
        (statement,) = trust(bootstrap_plan, stack)["Statement"]
        assert statement["Principal"] == {"Federated": PROVIDER}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {"api.pulumi.com/oidc:aud": "acme-data"},
            "StringLike": {
                "api.pulumi.com/oidc:sub": f"pulumi:deploy:org:acme-data:project:airflow-on-aws:stack:{stack}:operation:*:scope:write"
            },
        }
    role = of_stack(bootstrap_plan, "aws:iam/role:Role", "prod")
    assert role.inputs["name"] == "pulumi-deploy-airflow-prod"
    assert role.inputs["maxSessionDuration"] == 3 * 3600  # sessionHours: 3 in Pulumi.admin.yaml


def test_with_esc_the_roles_trust_the_stacks_environment(esc_plan):
    provider = esc_plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["clientIdLists"] == ["acme-data", "aws:acme-data"]
    (statement,) = trust(esc_plan, "dev")["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {"api.pulumi.com/oidc:aud": "aws:acme-data"},
        "StringLike": {"api.pulumi.com/oidc:sub": "pulumi:environments:org:acme-data:env:airflow-on-aws/airflow-on-aws-dev"},
    }


def test_an_existing_provider_is_used_not_created():
    existing = "arn:aws:iam::210987654321:oidc-provider/api.pulumi.com/oidc"
    plan = run_bootstrap(oidcProvider=existing)
    assert plan.error is None, plan.error
    assert plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    (statement,) = trust(plan, "dev")["Statement"]
    assert statement["Principal"] == {"Federated": existing}
    assert any(existing in step for step in plan.raw_outputs["finishByHand"])
