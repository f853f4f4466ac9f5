"""The deploy roles' policies: what each application stack's `pulumi up` manages is allowed, on the names it
really creates, and parliament finds nothing but the documented exceptions."""

from __future__ import annotations

import fnmatch
import json

import pytest

from bootstrap.deploy_policy import NO_AWS_CALLS, Scope, deploy_policies, deploy_policy, serving
from stackconfig.load import PROJECT_DIR, from_stack_file
from tests.bootstrap.conftest import of_stack

FLAVOUR_OF = {"dev": "managed", "prod": "self-managed", "dev+self-managed": "self-managed", "prod+managed": "managed"}
# Types whose mocked ARN has AWS's real format (see offline/mocks.py): the name scoping is checked on these.
REAL_ARNS = (
    "aws:s3/bucket:Bucket", "aws:iam/role:Role", "aws:kms/key:Key", "aws:mwaa/environment:Environment",
    "aws:cloudwatch/logGroup:LogGroup", "aws:rds/instance:Instance", "aws:rds/subnetGroup:SubnetGroup",
    "aws:rds/parameterGroup:ParameterGroup", "aws:ecr/repository:Repository", "aws:secretsmanager/secret:Secret",
)
# Remote components hide their children from the mock engine; what pulumi-eks creates inside them.
EKS_CHILDREN = (
    "aws:eks/cluster:Cluster", "aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/addon:Addon", "aws:eks/nodeGroup:NodeGroup", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:ec2/securityGroup:SecurityGroup",
)
ACCEPTED = {
    ("ReadOnlyLookups", "RESOURCE_STAR"): "read-only lookups of ids the program does not name",
    ("Network", "RESOURCE_STAR"): "EC2 creates cannot be scoped by name; limited to the stack's region",
    ("NetworkDeletionOfThisStack", "RESOURCE_STAR"): "limited by condition to resources tagged with the stack",
    ("CreateKeyTaggedForThisStack", "RESOURCE_STAR"): "a new key has no ARN yet; the request must carry the stack's tags",
    ("Roles", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the stack manages its own roles, named <environment>-*",
    ("RolesUnderTheBoundary", "PERMISSIONS_MANAGEMENT_ACTIONS"): "its own roles, only under the stack's boundary",
    ("AttachOnlyAwsPoliciesTheClusterNeeds", "PERMISSIONS_MANAGEMENT_ACTIONS"): "only the listed AWS policies",
    ("RegistryLogin", "CREDENTIALS_EXPOSURE"): "the image push needs an ECR token",
    # Permissions management on what the stack itself owns (parliament's community auditor flags any):
    ("Buckets", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the stack sets its own buckets' policies",
    ("InstanceProfiles", "PERMISSIONS_MANAGEMENT_ACTIONS"): "pulumi-eks's instance profile, named <environment>-*",
    ("PassOwnRolesToTheRuntime", "PERMISSIONS_MANAGEMENT_ACTIONS"): "only its own roles, only to the runtime's service",
    ("ServiceLinkedRoles", "PERMISSIONS_MANAGEMENT_ACTIONS"): "only the listed services' service-linked roles",
    ("ClusterOidcProvider", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the cluster's own IRSA provider, in its region",
    ("CreateKeyTaggedForThisStack", "PERMISSIONS_MANAGEMENT_ACTIONS"): "a key tagged with the stack",
    ("KeysOfThisStack", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the key policy of keys tagged with the stack",
    ("ExistingKey", "PERMISSIONS_MANAGEMENT_ACTIONS"): "grants on the one key the stack names, as MWAA documents",
    ("RegistryKeyGrant", "PERMISSIONS_MANAGEMENT_ACTIONS"): "retiring ECR's own grant, only through ECR",
    ("AlarmTopic", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the attributes (its access policy among them) of the stack's "
    "own alarm topic, named <environment>-alarms",
}


def scope_of(key: str, account: str = "123456789012") -> Scope:
    stack = key.split("+")[0]
    return Scope.of(from_stack_file(PROJECT_DIR, stack, {"flavour": FLAVOUR_OF[key]}), stack, "airflow-on-aws", account)


def allowed_resources(grants, scope) -> list[str]:
    statements = {s["Sid"]: s for s in deploy_policy(scope)["Statement"]}
    found = []
    for grant in grants:
        resource = statements[grant.sid]["Resource"]
        found += resource if isinstance(resource, list) else [resource]
    return found


@pytest.mark.parametrize("key", sorted(FLAVOUR_OF))
def test_every_resource_the_stack_registers_is_served_by_a_grant(stack_plans, key):
    plan, scope = stack_plans[key], scope_of(key)
    types = {r.type for r in plan.created if not r.type.startswith(NO_AWS_CALLS)}
    if scope.flavour == "self-managed":
        types |= set(EKS_CHILDREN)
    unserved = sorted(t for t in types if not serving(t, scope) and not _component(plan, t))
    assert unserved == [], f"the deploy role of {key} could not manage: {unserved}"


def _component(plan, typ):
    return any(not r.custom and r.type == typ and not r.type.startswith("eks:") for r in plan.resources)


@pytest.mark.parametrize("key", sorted(FLAVOUR_OF))
def test_the_grants_name_what_the_stack_creates(stack_plans, key):
    plan, scope = stack_plans[key], scope_of(key)
    checked = 0
    for resource in plan.created:
        if resource.type not in REAL_ARNS:
            continue
        arn = resource.state["arn"]
        patterns = allowed_resources(serving(resource.type, scope), scope)
        assert any(fnmatch.fnmatchcase(arn, p) for p in patterns), f"{resource.name}: {arn} not in {patterns}"
        checked += 1
    assert checked >= 5


def test_a_role_cannot_edit_itself_or_another_stacks_resources(bootstrap_plan):
    scope = scope_of("prod")
    roles = allowed_resources(serving("aws:iam/role:Role", scope), scope)
    own = "arn:aws:iam::123456789012:role/pulumi-deploy-airflow-prod"
    assert not any(fnmatch.fnmatchcase(own, p) for p in roles)
    for pattern in allowed_resources(serving("aws:s3/bucket:Bucket", scope), scope):
        assert not fnmatch.fnmatchcase("arn:aws:s3:::airflow-dev-bucket-5c42363", pattern)


def test_the_registered_policies_are_the_builders_for_each_stacks_flavour(bootstrap_plan):
    for stack, runtime in (("dev", "MwaaEnvironment"), ("prod", "Cluster")):
        registered = sorted(
            (r for r in bootstrap_plan.of_type("aws:iam/policy:Policy") if r.name.startswith(f"{stack}-policy-")),
            key=lambda r: r.name,
        )
        documents = [json.loads(r.raw_inputs["policy"]) for r in registered]
        assert documents == deploy_policies(scope_of(stack))
        statements = [s for d in documents for s in d["Statement"]]
        assert statements == deploy_policy(scope_of(stack))["Statement"]
        assert runtime in {s["Sid"] for s in statements}
        role = of_stack(bootstrap_plan, "aws:iam/role:Role", stack)
        attached = [a for a in bootstrap_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.name.startswith(f"{stack}-")]
        assert sorted(a.raw_inputs["policyArn"] for a in attached) == sorted(r.state["arn"] for r in registered)
        assert {a.raw_inputs["role"] for a in attached} == {role.state["name"]}
        assert not bootstrap_plan.of_type("aws:iam/rolePolicy:RolePolicy")
    deletions = next(s for s in deploy_policy(scope_of("prod"))["Statement"] if s["Sid"] == "NetworkDeletionOfThisStack")
    assert deletions["Condition"]["StringEquals"] == {"aws:ResourceTag/project": "airflow-on-aws", "aws:ResourceTag/stack": "prod"}


@pytest.mark.contract
@pytest.mark.parametrize("key", sorted(FLAVOUR_OF))
def test_the_policies_pass_parliament(key):
    from parliament import analyze_policy_string

    unexpected = []
    for statement in deploy_policy(scope_of(key))["Statement"]:
        # One statement at a time, so that each finding is known by the statement's Sid.
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        findings = analyze_policy_string(document, include_community_auditors=True).findings
        unexpected += [(statement["Sid"], f.issue, str(f.detail)[:200]) for f in findings if (statement["Sid"], f.issue) not in ACCEPTED]
    assert unexpected == [], key


@pytest.mark.contract
def test_parliament_would_catch_an_unknown_action():
    from parliament import analyze_policy_string

    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "eks:CreateClustr", "Resource": "*"}]})
    assert "UNKNOWN_ACTION" in {f.issue for f in analyze_policy_string(document).findings}


def test_a_type_no_grant_serves_is_reported():
    assert serving("aws:lambda/function:Function", scope_of("prod")) == []
