"""Every IAM document the program generates, identity and resource policies and trust, passes parliament."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.contract

# Findings accepted on purpose, each with its reason. Nothing else may appear.
ACCEPTED = {
    # Trust policies have no Resource by definition; parliament reads every document as an identity policy.
    ("assumeRolePolicy", "MALFORMED"): "a trust policy names a Principal, never a Resource",
    # IRSA trusts the cluster's own OIDC provider; parliament knows only fixed federation sources (Cognito, ...).
    # Accepted only when the source is an EKS cluster's provider (see _accepted).
    ("assumeRolePolicy", "UNKNOWN_FEDERATION_SOURCE"): "the EKS cluster's OIDC provider (IRSA)",
    # MWAA's documented statement for its AWS-owned SQS key: the key lives in an AWS account, so the statement
    # allows every key except this account's, only through SQS (kms:ViaService).
    ("execution-policy", "NOTRESOURCE_WITH_ALLOW"): "MWAA's documented form for the AWS-owned queue key",
    # A key policy's "*" means this key; the root statement is AWS's default key policy that delegates to IAM.
    ("key-policy", "RESOURCE_STAR"): "in a key policy, Resource * is the key itself",
    ("key-policy", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the account root administers its key through IAM (AWS default)",
    # CloudWatch Logs' documented key statement puts kms:Describe* under the encryption-context condition, and the
    # log group ARN pattern ends in a wildcard, which parliament types as a plain string.
    ("key-policy", "UNKNOWN_CONDITION_FOR_ACTION"): "CloudWatch Logs' documented key policy statement",
    ("key-policy", "MISMATCHED_TYPE"): "ArnLike with a wildcard log group ARN, as CloudWatch Logs documents",
}


def _documents(plan):
    for resource in plan.resources:
        inputs = resource.raw_inputs
        if resource.type == "aws:iam/role:Role":
            yield resource.name, "assumeRolePolicy", inputs["assumeRolePolicy"]
        elif resource.type == "aws:iam/rolePolicy:RolePolicy":
            yield resource.name, "execution-policy", inputs["policy"]
        elif resource.type == "aws:kms/key:Key":
            yield resource.name, "key-policy", inputs["policy"]
        elif resource.type == "aws:s3/bucketPolicy:BucketPolicy":
            yield resource.name, "bucket-policy", inputs["policy"]


def _findings(document: str) -> list[tuple[str, str]]:
    from parliament import analyze_policy_string

    policy = analyze_policy_string(document, include_community_auditors=True)
    return [(finding.issue, str(finding.detail)) for finding in policy.findings]


def test_the_stacks_generate_every_kind_of_document(stack_plans):
    kinds = {kind for plan in stack_plans.values() for _, kind, _ in _documents(plan)}
    assert kinds == {"assumeRolePolicy", "execution-policy", "key-policy", "bucket-policy"}


def test_documents_pass_parliament(plan):
    for name, kind, document in _documents(plan):
        json.loads(document)
        unexpected = [f for f in _findings(document) if not _accepted(kind, f)]
        assert unexpected == [], f"{name} ({kind}): {unexpected}"


def _accepted(kind: str, finding: tuple[str, str]) -> bool:
    issue, detail = finding
    if (kind, issue) not in ACCEPTED:
        return False
    if issue == "UNKNOWN_FEDERATION_SOURCE":
        return ":oidc-provider/oidc.eks." in detail
    return True


def test_an_unknown_federation_source_other_than_eks_is_a_finding():
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.example.com"},
                       "Action": "sts:AssumeRoleWithWebIdentity"}],
    }
    findings = [f for f in _findings(json.dumps(trust)) if f[0] == "UNKNOWN_FEDERATION_SOURCE"]
    assert findings and not all(_accepted("assumeRolePolicy", f) for f in findings)


def test_parliament_catches_a_broken_policy():
    # The check above can fail: a typo in an action is a finding.
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]})
    assert _findings(document)


def test_execution_role_is_scoped_to_this_environment(managed_plan):
    plan = managed_plan
    env = plan.one("aws:mwaa/environment:Environment").inputs["name"]
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("-execution-role"))
    trust = json.loads(role.raw_inputs["assumeRolePolicy"])
    statement = trust["Statement"][0]
    assert sorted(statement["Principal"]["Service"]) == ["airflow-env.amazonaws.com", "airflow.amazonaws.com"]
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"].endswith(f":environment/{env}")
    policy = json.loads(next(p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-execution-policy")).raw_inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["WriteOwnLogs"]["Resource"].endswith(f":log-group:airflow-{env}-*")
    assert by_sid["PublishMetrics"]["Resource"].endswith(f":environment/{env}")
    bucket_arn = f"arn:aws:s3:::{plan.outputs['dagBucket']}"
    assert by_sid["ReadDagBucket"]["Resource"] == bucket_arn
    assert by_sid["ReadDagObjects"]["Resource"] == f"{bucket_arn}/*"
    assert by_sid["CheckPublicAccessBlock"]["Action"] == "s3:GetAccountPublicAccessBlock"
    assert sorted(by_sid["ReadAirflowSecrets"]["Resource"]) == sorted(
        f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:airflow-{plan.stack}/{kind}/*" for kind in ("connections", "variables")
    )
    if plan.stack == "prod":
        assert by_sid["UseCustomerKey"]["Resource"] == plan.one("aws:mwaa/environment:Environment").inputs["kmsKey"]
    else:
        assert "UseServiceKeyForQueue" in by_sid


def test_the_exported_operator_policy_passes_parliament_and_names_this_environment(plan):
    policy = plan.outputs["operatorPolicy"]
    assert _findings(json.dumps(policy)) == []
    resources = json.dumps([s["Resource"] for s in policy["Statement"]])
    assert f"airflow-{plan.stack}" in resources and "*" not in resources
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    if plan.outputs["flavour"] == "managed":
        assert actions == {"airflow:GetEnvironment", "airflow:CreateCliToken", "airflow:InvokeRestApi", "airflow:CreateWebLoginToken"}
    else:
        assert actions == {"eks:DescribeCluster"}
