"""Each deploy role trusts Pulumi Cloud's OIDC tokens of exactly its organization, project and stack."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

from tests.bootstrap.conftest import of_stack, run_bootstrap

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"


def trust(plan, stack):
    return json.loads(of_stack(plan, "aws:iam/role:Role", stack).raw_inputs["assumeRolePolicy"])


def test_the_pulumi_cloud_provider_is_created_once_and_protected(bootstrap_plan):
    provider = bootstrap_plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://api.pulumi.com/oidc"
    assert provider.inputs["clientIdLists"] == ["acme-data"]
    assert provider.protect


SUBJECT = "pulumi:deploy:org:acme-data:project:airflow-on-aws:stack:{stack}:operation:{op}:scope:write"


def test_each_role_trusts_only_its_own_stacks_deployments(bootstrap_plan):
    subjects = {
        "dev": SUBJECT.format(stack="dev", op="*"),  # unprotected: any operation, pull-request previews included
        "prod": [SUBJECT.format(stack="prod", op=op) for op in ("update", "destroy", "refresh", "detect-drift", "remediate-drift")],
    }
    for stack, subject in subjects.items():
        (statement,) = trust(bootstrap_plan, stack)["Statement"]
        assert statement["Principal"] == {"Federated": PROVIDER}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {"api.pulumi.com/oidc:aud": "acme-data"},
            "StringLike": {"api.pulumi.com/oidc:sub": subject},
        }
    role = of_stack(bootstrap_plan, "aws:iam/role:Role", "prod")
    assert role.inputs["name"] == "pulumi-deploy-airflow-prod"
    assert role.inputs["maxSessionDuration"] == 3 * 3600  # sessionHours: 3 in Pulumi.admin.yaml


def _assumable_by(plan, sub: str, aud: str) -> list[str]:
    """The roles of the plan whose trust admits a token with this subject and audience (IAM's StringLike: any)."""
    found = []
    for role in plan.of_type("aws:iam/role:Role"):
        for statement in json.loads(role.raw_inputs["assumeRolePolicy"])["Statement"]:
            condition = statement.get("Condition", {})
            auds = condition.get("StringEquals", {}).get("api.pulumi.com/oidc:aud")
            subs = condition.get("StringLike", {}).get("api.pulumi.com/oidc:sub")
            subs = subs if isinstance(subs, list) else [subs]
            if auds == aud and any(fnmatchcase(sub, s) for s in subs):
                found.append(role.inputs["name"])
    return found


def test_no_role_admits_a_pull_request_preview_of_a_protected_stack(bootstrap_plan):
    """Pulumi Deployments previews a pull request as a `preview` operation of the stack: for prod no role admits
    it, while the reviewed merge's `update` gets the deploy role; prod's settings run no such previews either."""
    preview = SUBJECT.format(stack="prod", op="preview")
    assert _assumable_by(bootstrap_plan, preview, "acme-data") == []
    assert _assumable_by(bootstrap_plan, SUBJECT.format(stack="prod", op="update"), "acme-data") == ["pulumi-deploy-airflow-prod"]
    assert _assumable_by(bootstrap_plan, SUBJECT.format(stack="dev", op="preview"), "acme-data") == ["pulumi-deploy-airflow-dev"]
    settings = {r.inputs["stack"]: r.inputs["vcs"] for r in bootstrap_plan.of_type("pulumiservice:index:DeploymentSettings")}
    assert settings["prod"]["previewPullRequests"] is False and settings["dev"]["previewPullRequests"] is True


def test_with_esc_a_protected_stack_keeps_deployments_own_token(esc_plan):
    """An ESC environment's token names no operation and opens for whoever may read the environment: a protected
    stack gets no environment, and its role trusts only its non-preview Deployments operations, as without ESC."""
    environments = {r.inputs["name"] for r in esc_plan.of_type("pulumiservice:index:Environment")}
    assert environments == {"airflow-on-aws-dev"}
    (statement,) = trust(esc_plan, "prod")["Statement"]
    assert statement["Condition"]["StringEquals"] == {"api.pulumi.com/oidc:aud": "acme-data"}
    assert SUBJECT.format(stack="prod", op="preview") not in statement["Condition"]["StringLike"]["api.pulumi.com/oidc:sub"]
    assert _assumable_by(esc_plan, SUBJECT.format(stack="prod", op="preview"), "acme-data") == []
    assert not any("aws:acme-data" == json.loads(r.raw_inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"].get("api.pulumi.com/oidc:aud")
                   and "airflow-on-aws-prod" in json.dumps(r.raw_inputs["assumeRolePolicy"]) for r in esc_plan.of_type("aws:iam/role:Role"))
    settings = {r.inputs["stack"]: r.inputs for r in esc_plan.of_type("pulumiservice:index:DeploymentSettings")}
    assert settings["prod"]["vcs"]["previewPullRequests"] is False
    assert settings["prod"]["operationContext"]["oidc"]["aws"]["roleARN"]  # Deployments' own token, not ESC


def test_a_protected_stack_that_asks_for_pull_request_previews_is_refused():
    plan = run_bootstrap(stacks={"dev": {"branch": "main"}, "prod": {"branch": "release", "previewPullRequests": True, "agentPoolId": "00000000-0000-4000-8000-000000000000"}})
    assert plan.error is not None and "stacks.prod.previewPullRequests" in str(plan.error)
    assert all(r.type == "pulumi:pulumi:Stack" for r in plan.resources)


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
