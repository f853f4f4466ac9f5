"""Guard: what AWS services do with the *caller's* rights while creating a stack's resources is in each deploy
role's policy. Mocks and moto check no IAM; these are AWS's documented caller-side actions, each with its source,
held against the policy by a small evaluator of IAM's Allow rules (actions, resources, conditions)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest

from bootstrap.deploy_policy import Scope, deploy_policy
from tests.iam_evaluator import allows
from tests.bootstrap.test_deploy_policy import scope_of

KEY_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
EXISTING_KEY = f"arn:aws:kms:eu-west-1:123456789012:key/{KEY_ID}"


@dataclass(frozen=True)
class CallerSide:
    """One action a service authorises against the caller, on a resource like the one the stack has."""

    source: str
    action: str
    resource: str  # template over {p} partition, {r} region, {a} account, {n} environment name, {key} the stack's key
    flavour: str  # "managed", "self-managed" or "both"
    key: tuple[str, ...] = ("none", "create", "existing")  # the kmsKey kinds it applies to
    context: dict[str, Any] = field(default_factory=dict)  # request context beyond aws:RequestedRegion


MWAA = "MWAA user guide, access-policies.html, 'Full API and console access policy'"
MWAA_KEY = MWAA + ", customer managed key version"
EKS_CREATE = "EKS user guide, security-iam.adoc, 'Create a cluster' policy; service-linked roles"
EKS_LT = "EKS user guide, nodes/launch-templates.adoc: the caller needs ec2:RunInstances and ec2:CreateTags"
# EKS checks the caller with the node group's launch template, so the request names it.
FROM_TEMPLATE = {"ec2:LaunchTemplate": "arn:{p}:ec2:{r}:{a}:launch-template/lt-0a1b2c3d"}
EKS_NG = "Step Functions developer guide, eks-iam.html, CreateNodegroup caller policy"
RDS_SLR = "RDS user guide, UsingWithRDS.IAM.ServiceLinkedRoles"
ECR_KMS = "ECR user guide, encryption-at-rest: kms:RetireGrant in the caller's IAM policy"
SM_KMS = "Secrets Manager user guide, security-encryption: GenerateDataKey and Decrypt with a customer managed key"
PASS = {"iam:PassedToService": "{service}"}
FLOW_LOGS = "VPC user guide, flow-logs-iam-role: the caller needs ec2:CreateFlowLogs and iam:PassRole for the role"
RDS_EM = "RDS user guide, USER_Monitoring.OS.Enabling: iam:PassRole for the monitoring role to monitoring.rds.amazonaws.com"
BOUNDARY = {"iam:PermissionsBoundary": "arn:{p}:iam::{a}:policy/pulumi-boundary-{n}"}
TAGGED_KEY = {"aws:ResourceTag/project": "airflow-on-aws", "aws:ResourceTag/stack": "{stack}"}

DOCUMENTED = [
    CallerSide(MWAA, "iam:PassRole", "arn:{p}:iam::{a}:role/{n}-execution-role-1a2b3c4", "managed", context={"iam:PassedToService": "airflow.amazonaws.com"}),
    CallerSide(MWAA, "iam:CreateServiceLinkedRole", "arn:{p}:iam::{a}:role/aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA", "managed", context={"iam:AWSServiceName": "airflow.amazonaws.com"}),
    CallerSide(MWAA, "ec2:DescribeSecurityGroups", "*", "managed"),
    CallerSide(MWAA, "ec2:DescribeSubnets", "*", "managed"),
    CallerSide(MWAA, "ec2:DescribeVpcs", "*", "managed"),
    CallerSide(MWAA, "ec2:DescribeRouteTables", "*", "managed"),
    CallerSide(MWAA, "s3:GetEncryptionConfiguration", "arn:{p}:s3:::{n}-bucket-1a2b3c4", "managed"),
    CallerSide(MWAA, "ec2:CreateVpcEndpoint", "arn:{p}:ec2:{r}:{a}:vpc-endpoint/*", "managed"),
    CallerSide(MWAA, "ec2:CreateVpcEndpoint", "arn:{p}:ec2:{r}:{a}:vpc/vpc-0a1b2c3d", "managed"),
    CallerSide(MWAA, "ec2:CreateVpcEndpoint", "arn:{p}:ec2:{r}:{a}:subnet/subnet-0a1b2c3d", "managed"),
    CallerSide(MWAA, "ec2:CreateVpcEndpoint", "arn:{p}:ec2:{r}:{a}:security-group/sg-0a1b2c3d", "managed"),
    CallerSide(MWAA, "ec2:CreateNetworkInterface", "arn:{p}:ec2:{r}:{a}:subnet/subnet-0a1b2c3d", "managed"),
    CallerSide(MWAA, "ec2:CreateNetworkInterface", "arn:{p}:ec2:{r}:{a}:network-interface/*", "managed"),
    *[
        CallerSide(MWAA_KEY, action, "{key}", "managed", key=("create", "existing"), context=TAGGED_KEY)
        for action in (
            "kms:DescribeKey", "kms:ListGrants", "kms:CreateGrant", "kms:RevokeGrant", "kms:Decrypt", "kms:Encrypt",
            "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
        )
    ],
    *[
        CallerSide(SM_KMS, action, "{key}", "both", key=("create", "existing"), context={**TAGGED_KEY, "kms:ViaService": "secretsmanager.{r}.amazonaws.com"})
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ],
    CallerSide(EKS_CREATE, "eks:CreateCluster", "*", "self-managed"),
    CallerSide(EKS_CREATE, "iam:PassRole", "arn:{p}:iam::{a}:role/{n}-eks-eksRole-1a2b3c4", "self-managed", context={"iam:PassedToService": "eks.amazonaws.com"}),
    CallerSide(EKS_CREATE, "iam:CreateServiceLinkedRole", "arn:{p}:iam::{a}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS", "self-managed", context={"iam:AWSServiceName": "eks.amazonaws.com"}),
    CallerSide(EKS_CREATE, "iam:CreateServiceLinkedRole", "arn:{p}:iam::{a}:role/aws-service-role/eks-nodegroup.amazonaws.com/AWSServiceRoleForAmazonEKSNodegroup", "self-managed", context={"iam:AWSServiceName": "eks-nodegroup.amazonaws.com"}),
    CallerSide(EKS_NG, "iam:PassRole", "arn:{p}:iam::{a}:role/{n}-node-role-1a2b3c4", "self-managed", context={"iam:PassedToService": "eks.amazonaws.com"}),
    CallerSide(EKS_NG, "iam:GetRole", "arn:{p}:iam::{a}:role/{n}-node-role-1a2b3c4", "self-managed"),
    CallerSide(EKS_NG, "iam:ListAttachedRolePolicies", "arn:{p}:iam::{a}:role/{n}-node-role-1a2b3c4", "self-managed"),
    CallerSide(EKS_NG, "ec2:DescribeSubnets", "*", "self-managed"),
    CallerSide(EKS_LT, "ec2:RunInstances", "arn:{p}:ec2:{r}:{a}:instance/*", "self-managed", context=FROM_TEMPLATE),
    CallerSide(EKS_LT, "ec2:RunInstances", "arn:{p}:ec2:{r}:{a}:launch-template/lt-0a1b2c3d", "self-managed", context=FROM_TEMPLATE),
    CallerSide(EKS_LT, "ec2:RunInstances", "arn:{p}:ec2:{r}:{a}:subnet/subnet-0a1b2c3d", "self-managed", context=FROM_TEMPLATE),
    CallerSide(EKS_LT, "ec2:RunInstances", "arn:{p}:ec2:{r}:{a}:volume/*", "self-managed", context=FROM_TEMPLATE),
    CallerSide(EKS_LT, "ec2:RunInstances", "arn:{p}:ec2:{r}::image/ami-0a1b2c3d", "self-managed", context=FROM_TEMPLATE),
    CallerSide(EKS_LT, "ec2:CreateTags", "arn:{p}:ec2:{r}:{a}:instance/*", "self-managed"),
    *[
        CallerSide(FLOW_LOGS, "iam:PassRole", "arn:{p}:iam::{a}:role/{n}-flow-logs-role-1a2b3c4", flavour, context={"iam:PassedToService": "vpc-flow-logs.amazonaws.com"})
        for flavour in ("managed", "self-managed")
    ],
    CallerSide(FLOW_LOGS, "ec2:CreateFlowLogs", "arn:{p}:ec2:{r}:{a}:vpc-flow-log/*", "both"),
    CallerSide(RDS_EM, "iam:PassRole", "arn:{p}:iam::{a}:role/{n}-monitoring-role-1a2b3c4", "self-managed", context={"iam:PassedToService": "monitoring.rds.amazonaws.com"}),
    CallerSide(RDS_EM, "iam:AttachRolePolicy", "arn:{p}:iam::{a}:role/{n}-monitoring-role-1a2b3c4", "self-managed",
               context={"iam:PolicyARN": "arn:{p}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", **BOUNDARY}),
    CallerSide(RDS_SLR, "iam:CreateServiceLinkedRole", "arn:{p}:iam::{a}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS", "self-managed", context={"iam:AWSServiceName": "rds.amazonaws.com"}),
    CallerSide(ECR_KMS, "kms:RetireGrant", "arn:{p}:kms:{r}:{a}:key/" + KEY_ID, "self-managed", context={"kms:ViaService": "ecr.{r}.amazonaws.com"}),
]


def _scopes() -> dict[str, Scope]:
    scopes = {key: scope_of(key) for key in ("dev", "prod", "dev+self-managed", "prod+managed")}
    scopes["dev+existing-key"] = dataclasses.replace(scope_of("dev"), kms_key=EXISTING_KEY)
    scopes["prod+existing-key"] = dataclasses.replace(scope_of("prod"), kms_key=EXISTING_KEY)
    return scopes


def missing(scope: Scope) -> list[str]:
    policy = deploy_policy(scope)
    key = EXISTING_KEY if scope.kms_key.startswith("arn:") else f"arn:{scope.partition}:kms:{scope.region}:{scope.account}:key/{KEY_ID}"
    kind = "existing" if scope.kms_key.startswith("arn:") else scope.kms_key
    found = []
    for need in DOCUMENTED:
        if need.flavour not in (scope.flavour, "both") or kind not in need.key:
            continue
        fill = dict(p=scope.partition, r=scope.region, a=scope.account, n=scope.name, key=key, stack=scope.stack)
        resource = need.resource.format(**fill)
        context = {"aws:RequestedRegion": scope.region, **{k: v.format(**fill) for k, v in need.context.items()}}
        if not allows(policy, need.action, resource, context):
            found.append(f"{need.action} on {resource} ({need.source})")
    return found


@pytest.mark.parametrize("key", sorted(_scopes()))
def test_every_documented_caller_side_action_is_allowed(key):
    assert missing(_scopes()[key]) == []


def test_the_evaluator_refuses_what_the_policy_does_not_allow():
    scope = scope_of("dev")
    policy = deploy_policy(scope)
    assert not allows(policy, "ec2:CreateNetworkInterface", "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1", {"aws:RequestedRegion": "us-east-1"})
    assert not allows(policy, "iam:PassRole", "arn:aws:iam::123456789012:role/airflow-dev-x", {"iam:PassedToService": "ec2.amazonaws.com"})
    assert not allows(policy, "s3:GetEncryptionConfiguration", "arn:aws:s3:::airflow-prod-bucket-1", {"aws:RequestedRegion": "eu-west-1"})
    assert allows(policy, "s3:GetEncryptionConfiguration", "arn:aws:s3:::airflow-dev-bucket-1", {"aws:RequestedRegion": "eu-west-1"})


def test_the_deploy_role_launches_instances_only_from_a_launch_template():
    policy = deploy_policy(scope_of("prod"))
    instance, region = "arn:aws:ec2:eu-west-1:123456789012:instance/*", {"aws:RequestedRegion": "eu-west-1"}
    assert allows(policy, "ec2:RunInstances", instance, {**region, "ec2:LaunchTemplate": "arn:aws:ec2:eu-west-1:123456789012:launch-template/lt-1"})
    assert not allows(policy, "ec2:RunInstances", instance, region)
    assert not allows(deploy_policy(scope_of("dev")), "ec2:DeleteNetworkInterface", "arn:aws:ec2:eu-west-1:123456789012:network-interface/eni-1", region)
