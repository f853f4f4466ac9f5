"""policy/rules.py over the offline plans: the four shipped stack/flavour combinations break no mandatory rule,
and each deliberately bad variant breaks its rule, with its message, on the resource at fault."""

from __future__ import annotations

import json

import pytest

from policy import rules
from tests.policy.plans import SHIPPED, edited, resources, with_props

RULES = {r.name: r for r in rules.RULES}


def _violations(rule: str, stack_resources) -> list[rules.Violation]:
    return RULES[rule].violations(rules.Stack(stack_resources))


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_stacks_break_no_mandatory_rule(name):
    broken = {r.name: r.violations(rules.Stack(resources(name))) for r in rules.RULES if r.mandatory}
    assert {k: v for k, v in broken.items() if v} == {}


def test_the_protected_stacks_are_the_ones_that_protect_data():
    assert rules.Stack(resources("prod")).protected and rules.Stack(resources("prod+managed")).protected
    assert not rules.Stack(resources("dev")).protected and not rules.Stack(resources("dev+self-managed")).protected


def test_an_api_server_open_to_the_internet_is_reported_as_advisory():
    # The shipped stacks keep the endpoint open (publicAccessCidrs [0.0.0.0/0], set explicitly in prod, which
    # `pulumi up` warns about): advisory, as the program's own warning.
    assert not RULES["eks-endpoint-restricted"].mandatory
    (violation,) = _violations("eks-endpoint-restricted", resources("prod"))
    assert "whole internet" in violation.message


def _dag_bucket(resource):
    return "task-logs" not in resource.name and "access-logs" not in resource.name


def _policy_with(statement):
    def change(resource):
        document = json.loads(resource.props["policy"])
        document["Statement"].append(statement)
        return with_props(resource, policy=json.dumps(document))
    return change


def _public_subnets(stack_resources):
    return tuple(r.urn for r in stack_resources if r.type == "aws:ec2/subnet:Subnet" and "public" in r.name)


def _nodes_in_public_subnets():
    """pulumi-eks's node group given the public subnets' ids (its child takes plain ids: no property dependency)."""
    base = resources("prod")
    public = [r.props["id"] for r in base if r.type == "aws:ec2/subnet:Subnet" and "public" in r.name]
    return edited("prod", "aws:eks/nodeGroup:NodeGroup", lambda r: with_props(r, subnetIds=public))


def _reported_on_the_database(variant):
    stack_resources, _ = variant
    return stack_resources, next(r.urn for r in stack_resources if r.type == "aws:rds/instance:Instance")


BAD = {
    "s3-bucket-versioned": lambda: edited("prod", "aws:s3/bucketVersioning:BucketVersioning", lambda r: with_props(
        r, versioningConfiguration={"status": "Suspended"})),
    "s3-bucket-private": lambda: edited("prod", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                                        lambda r: with_props(r, restrictPublicBuckets=False)),
    "s3-bucket-encrypted": lambda: edited(
        "prod", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", lambda r: None),
    "s3-bucket-customer-key": lambda: edited(
        "prod", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        lambda r: with_props(r, rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]),
        which=_dag_bucket),
    "s3-bucket-tls-only": lambda: edited("prod", "aws:s3/bucketPolicy:BucketPolicy", lambda r: with_props(
        r, policy=json.dumps({"Version": "2012-10-17", "Statement": []}))),
    "rds-encrypted": lambda: edited("prod", "aws:rds/instance:Instance", lambda r: with_props(r, storageEncrypted=False)),
    "rds-private": lambda: edited("prod", "aws:rds/instance:Instance", lambda r: with_props(r, publiclyAccessible=True)),
    "rds-tls-required": lambda: _reported_on_the_database(edited(
        "prod", "aws:rds/parameterGroup:ParameterGroup", lambda r: with_props(r, parameters=[{"name": "rds.force_ssl",
                                                                                              "value": "0"}]))),
    "rds-backed-up": lambda: edited("prod", "aws:rds/instance:Instance", lambda r: with_props(r, backupRetentionPeriod=0)),
    "rds-deletion-protected": lambda: edited("prod", "aws:rds/instance:Instance",
                                             lambda r: with_props(r, deletionProtection=False)),
    "rds-backups-a-week": lambda: edited("prod", "aws:rds/instance:Instance",
                                         lambda r: with_props(r, backupRetentionPeriod=3)),
    "eks-private-nodes": _nodes_in_public_subnets,
    "eks-secrets-customer-key": lambda: edited("prod", "aws:eks/cluster:Cluster",
                                               lambda r: with_props(r, encryptionConfig=None)),
    "nodes-imdsv2": lambda: edited("prod", "aws:ec2/launchTemplate:LaunchTemplate", lambda r: with_props(
        r, metadataOptions={"httpEndpoint": "enabled", "httpTokens": "optional", "httpPutResponseHopLimit": 2})),
    "log-groups-retained": lambda: edited("prod", "aws:cloudwatch/logGroup:LogGroup",
                                          lambda r: with_props(r, retentionInDays=None)),
    "kms-keys-rotated": lambda: edited("prod", "aws:kms/key:Key", lambda r: with_props(r, enableKeyRotation=False)),
    "sns-topics-encrypted": lambda: edited("prod", "aws:sns/topic:Topic", lambda r: with_props(r, kmsMasterKeyId=None)),
    "ecr-images-scanned-immutable": lambda: edited("prod", "aws:ecr/repository:Repository", lambda r: with_props(
        r, imageTagMutability="MUTABLE")),
    "webserver-private-in-protected-stacks": lambda: edited(
        "prod+managed", "aws:mwaa/environment:Environment", lambda r: with_props(r, webserverAccessMode="PUBLIC_ONLY")),
    "mwaa-options-lower-case": lambda: edited(
        "prod+managed", "aws:mwaa/environment:Environment", lambda r: with_props(
            r, airflowConfigurationOptions={**r.props["airflowConfigurationOptions"], "Core.Parallelism": "64"})),
    "iam-no-wildcard-writes": lambda: edited("prod", "aws:iam/rolePolicy:RolePolicy", _policy_with(
        {"Sid": "WritesAnywhere", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"})),
}


def test_every_rule_has_a_bad_variant():
    assert set(BAD) | {"eks-endpoint-restricted"} == set(RULES)


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_bad_variant_breaks_its_rule_on_the_resource_at_fault(rule):
    stack_resources, urn = BAD[rule]()
    violations = _violations(rule, stack_resources)
    assert violations and {v.urn for v in violations} == {urn}, violations
    assert all(v.message for v in violations)


def test_the_wildcard_rule_reads_awss_own_resource_types():
    """PutMetricData names no resource type (AWS's Service Authorization Reference, through parliament): "*" is its
    only form, where s3:PutObject can be scoped to a bucket; reads are never flagged."""
    assert rules._writes_scoped_to_resources("cloudwatch:PutMetricData") == []
    assert rules._writes_scoped_to_resources("s3:GetObject") == []
    assert rules._writes_scoped_to_resources("s3:PutObject") == ["s3:PutObject"]
    assert "s3:PutObject" in rules._writes_scoped_to_resources("s3:Put*")


def test_a_node_group_without_a_launch_template_is_refused():
    stack_resources, urn = edited("prod", "aws:eks/nodeGroup:NodeGroup", lambda r: with_props(r, launchTemplate=None))
    (violation,) = _violations("nodes-imdsv2", stack_resources)
    assert violation.urn == urn and "no launch template" in violation.message


def test_components_carry_no_arguments_so_only_their_children_are_judged():
    """The engine hands a stack policy a component's outputs, not its arguments (pulumi-eks's Cluster publishes
    kubeconfig and the like): no rule may read a missing argument as a violation."""
    view = {r.type: r for r in resources("prod")}
    assert view["eks:index:Cluster"].props == {} and view["eks:index:ManagedNodeGroup"].props == {}
    only_components = [r for r in resources("prod") if not r.type.startswith("aws:eks/")]
    assert [r.name for r in rules.RULES if r.mandatory and r.violations(rules.Stack(only_components))] == []


def test_an_unknown_object_is_skipped_not_read():
    for typ, prop in (("aws:ec2/launchTemplate:LaunchTemplate", "metadataOptions"),
                      ("kubernetes:core/v1:Service", "metadata"), ("aws:eks/cluster:Cluster", "vpcConfig"),
                      ("aws:kms/key:Key", "enableKeyRotation"), ("aws:ecr/repository:Repository", "imageScanningConfiguration")):
        stack_resources, _ = edited("prod", typ, lambda r, prop=prop: with_props(r, **{prop: rules.UNKNOWN}))
        assert {r.name: r.violations(rules.Stack(stack_resources)) for r in rules.RULES if r.mandatory} == \
            {r.name: [] for r in rules.RULES if r.mandatory}, typ


def test_an_existing_resources_unset_key_reads_as_unset():
    # Once created, a resource's outputs hold "" for an unset optional string.
    stack_resources, urn = edited("prod", "aws:sns/topic:Topic", lambda r: with_props(r, kmsMasterKeyId=""))
    assert [v.urn for v in _violations("sns-topics-encrypted", stack_resources)] == [urn]


@pytest.mark.parametrize("statement,flagged", [
    ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, True),
    ({"Effect": "Allow", "Action": "s3:PutObject", "NotResource": "arn:aws:s3:::other/*"}, True),
    ({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
      "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, True),
    ({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
      "Condition": {"StringEquals": {"aws:ResourceTag/team": "data"}}}, False),
    ({"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}, False),
    ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
])
def test_the_wildcard_rule_on_broad_statements(statement, flagged):
    stack_resources, urn = edited("prod", "aws:iam/rolePolicy:RolePolicy", _policy_with({"Sid": "Probe", **statement}))
    assert bool(_violations("iam-no-wildcard-writes", stack_resources)) is flagged


def test_a_private_mwaa_ui_with_the_stacks_key_passes_and_an_internet_facing_service_does_not():
    stack_resources, urn = edited("prod", "kubernetes:core/v1:Service", lambda r: with_props(
        r, metadata={**r.props["metadata"], "annotations": {}}), which=lambda r: "webserver" in r.name)
    (violation,) = _violations("webserver-private-in-protected-stacks", stack_resources)
    assert violation.urn == urn and "internet" in violation.message


def test_an_unknown_value_is_not_a_violation():
    stack_resources, _ = edited("prod", "aws:rds/instance:Instance",
                                lambda r: with_props(r, storageEncrypted=rules.UNKNOWN, backupRetentionPeriod=rules.UNKNOWN))
    assert _violations("rds-encrypted", stack_resources) == [] and _violations("rds-backed-up", stack_resources) == []


def test_the_packs_readme_lists_every_rule_at_its_level():
    from stackconfig.project_files import PROJECT_DIR

    text = (PROJECT_DIR / "policy" / "README.md").read_text()
    for rule in rules.RULES:
        assert f"| `{rule.name}` | {'mandatory' if rule.mandatory else 'advisory'} | {rule.description} |" in text
