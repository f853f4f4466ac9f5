"""The permissions boundary: every role the program creates carries it, it leaves each role what that role's own
policies (and the AWS managed policies it attaches, as moto ships them) grant, and it keeps out what would make a
role the deploy role creates more powerful than the stack: IAM, role assumption, other stacks' data."""

from __future__ import annotations

import json
import re
from functools import cache

import pulumi
import pytest

from bootstrap.deploy_policy import deploy_policy
from components.naming import EKS_CLUSTER_POLICIES
from components.self_managed.kubernetes_cluster import bounded_roles
from components.shared.permissions_boundary import boundary_policy
from offline import run_stack
from tests.bootstrap.test_deploy_policy import scope_of
from tests.iam_evaluator import allows

pytestmark = pytest.mark.contract

ACCOUNT = "123456789012"
# pulumi-eks's own cluster service role attaches these AWS managed policies.
PULUMI_EKS_SERVICE_ROLE_POLICIES = EKS_CLUSTER_POLICIES


@cache
def aws_managed_policy(name: str) -> dict:
    from moto.iam import aws_managed_policies

    return json.loads(aws_managed_policies.aws_managed_policies_data)[name]["Document"]


def boundary_of(plan) -> dict:
    """The boundary the bootstrap creates for the plan's stack (the same for both flavours)."""
    return _boundary(scope_of(plan.stack))


def _boundary(scope) -> dict:
    return boundary_policy(
        environment=scope.name, region=scope.region, account=ACCOUNT, secret_prefixes=scope.secret_prefixes,
        project=scope.project, stack=scope.stack, kms_key=scope.kms_key,
    )


def _concrete(resource: str, region: str) -> str:
    """A request's resource for a policy's resource pattern: the stack's region and account where the pattern says
    any, and a name where it has a wildcard."""
    if resource == "*":
        return "x"
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        parts[3] = region if parts[3] == "*" else parts[3]
        parts[4] = ACCOUNT if parts[4] == "*" else parts[4]
        resource = ":".join(parts)
    return resource.replace("*", "x").replace("?", "x")


def needs(document: dict, region: str) -> list[tuple[str, str]]:
    """(action, resource) pairs the policy grants: what its role may need at run time."""
    found = []
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if "NotResource" in statement:
            # Anything but the excluded: the same kind of resource in another account (MWAA's, for its queue's key).
            excluded = statement["NotResource"] if isinstance(statement["NotResource"], list) else [statement["NotResource"]]
            resources = [_concrete(r, region).replace(f":{ACCOUNT}:", ":999999999999:") for r in excluded]
        else:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        found += [(a, _concrete(r, region)) for a in actions for r in resources]
    return found


def _cut(boundary: dict) -> dict:
    """The boundary with its conditions taken as met (requests come from the stack's region), for coverage."""
    return {"Statement": [{k: v for k, v in s.items() if k != "Condition"} for s in boundary["Statement"]]}


def role_documents(plan) -> dict[str, list[dict]]:
    """Each role the plan creates -> the policy documents it is given, inline and attached."""
    by_id = {r.id: r.name for r in plan.of_type("aws:iam/role:Role")}
    documents: dict[str, list[dict]] = {name: [] for name in by_id.values()}
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        documents[by_id[policy.raw_inputs["role"]]].append(json.loads(policy.raw_inputs["policy"]))
    for attachment in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        name = attachment.raw_inputs["policyArn"].rsplit("/", 1)[-1]
        documents[by_id[attachment.raw_inputs["role"]]].append(aws_managed_policy(name))
    if plan.of_type("eks:index:Cluster"):
        documents["pulumi-eks cluster service role"] = [aws_managed_policy(p) for p in PULUMI_EKS_SERVICE_ROLE_POLICIES]
    return documents


def test_every_role_carries_the_stacks_boundary(plan):
    expected = f"arn:aws:iam::{ACCOUNT}:policy/pulumi-boundary-{scope_of(plan.stack).name}"
    roles = plan.of_type("aws:iam/role:Role")
    assert roles and {r.name: r.raw_inputs.get("permissionsBoundary") for r in roles} == {r.name: expected for r in roles}
    for cluster in plan.of_type("eks:index:Cluster"):
        # pulumi-eks's own roles get it through the component's transform.
        (transform,) = cluster.transforms
        role = transform(pulumi.ResourceTransformArgs(True, "aws:iam/role:Role", "x-eksRole-role", {"a": 1}, pulumi.ResourceOptions()))
        assert set(role.props) == {"a", "permissionsBoundary"}


def test_the_transform_bounds_roles_only():
    transform = bounded_roles("arn:aws:iam::123456789012:policy/b")
    role = transform(pulumi.ResourceTransformArgs(True, "aws:iam/role:Role", "r", {"assumeRolePolicy": "{}"}, pulumi.ResourceOptions()))
    assert role.props == {"assumeRolePolicy": "{}", "permissionsBoundary": "arn:aws:iam::123456789012:policy/b"}
    assert transform(pulumi.ResourceTransformArgs(True, "aws:eks/cluster:Cluster", "c", {}, pulumi.ResourceOptions())) is None


def test_the_boundary_leaves_every_role_what_its_policies_grant(plan):
    boundary = _cut(boundary_of(plan))
    region = scope_of(plan.stack).region
    missing = {
        role: sorted({f"{a} on {r}" for d in docs for a, r in needs(d, region) if not allows(boundary, a, r, {})})
        for role, docs in role_documents(plan).items()
    }
    assert {role: m for role, m in missing.items() if m} == {}


def test_the_coverage_check_sees_a_grant_the_boundary_cuts(dev):
    boundary = _cut(boundary_of(dev))
    assert not allows(boundary, "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t", {})
    assert needs({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::airflow-dev-bucket-1/*"}]}, "eu-west-1") == [
        ("s3:GetObject", "arn:aws:s3:::airflow-dev-bucket-1/x")
    ]


@pytest.mark.parametrize(
    "action, resource",
    [
        ("iam:CreateRole", "arn:aws:iam::123456789012:role/anything"),
        ("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/airflow-prod-worker-1"),
        ("iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/airflow-prod-worker-1"),
        ("iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/pulumi-boundary-airflow-prod"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/admin"),
        ("sts:AssumeRole", "arn:aws:iam::123456789012:role/admin"),
        ("s3:GetObject", "arn:aws:s3:::another-teams-bucket/data.csv"),
        ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:payments/db-AbCdEf"),
        ("secretsmanager:PutSecretValue", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:airflow-prod/connections/x-AbCdEf"),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
        ("logs:DeleteLogGroup", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/payments"),
    ],
)
def test_the_boundary_keeps_out_what_no_role_of_the_stack_does(prod, action, resource):
    assert not allows(boundary_of(prod), action, resource, {"aws:RequestedRegion": "eu-west-1"})


def test_the_boundary_keeps_compute_to_what_the_cluster_does_in_its_region(prod):
    boundary = boundary_of(prod)
    here, there = {"aws:RequestedRegion": "eu-west-1"}, {"aws:RequestedRegion": "us-east-1"}
    volume = "arn:aws:ec2:eu-west-1:123456789012:volume/vol-1"
    assert allows(boundary, "ec2:AttachVolume", volume, here) and not allows(boundary, "ec2:AttachVolume", volume, there)
    for action, resource in (
        ("ec2:TerminateInstances", "arn:aws:ec2:eu-west-1:123456789012:instance/i-1"),
        ("ec2:ModifySnapshotAttribute", "arn:aws:ec2:eu-west-1::snapshot/snap-1"),
        ("ec2:DeleteVpc", "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1"),
        ("ec2:RunInstances", "arn:aws:ec2:eu-west-1:123456789012:instance/*"),
    ):
        assert not allows(boundary, action, resource, here), action


def test_the_boundary_uses_keys_through_the_stacks_services_or_its_own_key_only(prod, dev):
    key = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    boundary, here = boundary_of(prod), {"aws:RequestedRegion": "eu-west-1"}
    via_s3 = {**here, "kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    tagged = {**here, "aws:ResourceTag/project": "airflow-on-aws", "aws:ResourceTag/stack": "prod"}
    assert allows(boundary, "kms:Decrypt", key, via_s3)
    assert not allows(boundary, "kms:Decrypt", key, here)  # another team's key, called directly
    assert allows(boundary, "kms:Encrypt", key, tagged)  # the cluster role, on the stack's own key (kmsKey: create)
    assert not allows(boundary, "kms:Encrypt", key, {**tagged, "aws:ResourceTag/stack": "dev"})
    assert not any(s["Sid"] == "StackKeyForClusterSecrets" for s in boundary_of(dev)["Statement"])  # kmsKey: none


def test_the_boundary_fits_a_managed_policy_and_passes_parliament(prod):
    from parliament import analyze_policy_string

    from bootstrap.deploy_policy import MANAGED_POLICY_MAX_CHARS, policy_size

    longest = boundary_policy(
        environment="a" * 32, region="ap-southeast-1", account=ACCOUNT, secret_prefixes=("p" * 256, "q" * 256),
        project="p" * 100, stack="s" * 100, kms_key="create",
    )
    assert policy_size(longest) <= MANAGED_POLICY_MAX_CHARS
    accepted = {
        ("ClusterComputeAndNetwork", "RESOURCE_STAR"): "what AmazonEKSClusterPolicy and the node policies do, in region",
        ("ClusterComputeAndNetwork", "PERMISSIONS_MANAGEMENT_ACTIONS"): "security groups the cluster manages",
        ("Reads", "RESOURCE_STAR"): "reads AWS offers on * only; image pulls from AWS's own ECR accounts",
        ("Reads", "CREDENTIALS_EXPOSURE"): "ECR tokens, for pulling images",
        ("LoadBalancerServiceLinkedRole", "RESOURCE_STAR"): "the one service-linked role EKS creates, by condition",
        ("LoadBalancerServiceLinkedRole", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the same",
    }
    unexpected = []
    for statement in boundary_of(prod)["Statement"]:
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        findings = analyze_policy_string(document, include_community_auditors=True).findings
        unexpected += [(statement["Sid"], f.issue) for f in findings if (statement["Sid"], f.issue) not in accepted]
    assert unexpected == []


def test_the_deploy_role_creates_and_changes_roles_only_under_the_boundary(prod):
    policy = deploy_policy(scope_of("prod"))
    role = "arn:aws:iam::123456789012:role/airflow-prod-anything-1"
    boundary = {"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/pulumi-boundary-airflow-prod"}
    other = {"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/AdministratorAccess"}
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"):
        assert allows(policy, action, role, boundary), action
        assert not allows(policy, action, role, {}) and not allows(policy, action, role, other), action
    worker_policy = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}
    assert allows(policy, "iam:AttachRolePolicy", role, {**worker_policy, **boundary})
    assert not allows(policy, "iam:AttachRolePolicy", role, worker_policy)
    assert not allows(policy, "iam:DeleteRolePermissionsBoundary", role, boundary)
    for action in ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion"):
        assert not allows(policy, action, boundary["iam:PermissionsBoundary"], {}), action
    assert allows(policy, "iam:GetPolicy", boundary["iam:PermissionsBoundary"], {})


def test_the_bootstrap_creates_each_stacks_boundary(bootstrap_admin_plan):
    boundaries = {p.inputs["name"]: json.loads(p.raw_inputs["policy"]) for p in bootstrap_admin_plan.of_type("aws:iam/policy:Policy") if p.name.endswith("-boundary")}
    assert set(boundaries) == {"pulumi-boundary-airflow-dev", "pulumi-boundary-airflow-prod"}
    for stack in ("dev", "prod"):
        scope = scope_of(stack)
        assert boundaries[f"pulumi-boundary-{scope.name}"] == _boundary(scope)


def test_a_missing_boundary_is_a_config_error_before_anything_is_created():
    plan = run_stack("prod", missing_policies=(f"arn:aws:iam::{ACCOUNT}:policy/pulumi-boundary-airflow-prod",))
    assert plan.error is not None and "permissionsBoundary" in str(plan.error) and "run the bootstrap" in str(plan.error)
    assert all(r.type == "pulumi:pulumi:Stack" for r in plan.resources)


def test_without_a_boundary_no_role_carries_one():
    plan = run_stack("prod", config={"permissionsBoundary": "none"})
    assert plan.error is None
    assert all("permissionsBoundary" not in r.raw_inputs for r in plan.of_type("aws:iam/role:Role"))
    assert plan.one("eks:index:Cluster").transforms == []


def test_the_bootstrap_refuses_a_stack_without_a_boundary(monkeypatch):
    import bootstrap.settings
    from tests.bootstrap.conftest import run_bootstrap

    real = bootstrap.settings.from_stack_file
    monkeypatch.setattr(bootstrap.settings, "from_stack_file", lambda d, n: real(d, n, {"permissionsBoundary": "none"}))
    plan = run_bootstrap()
    assert plan.error is not None and re.search(r"stacks\.(dev|prod) = .*permissionsBoundary", str(plan.error))
