"""What a stack's deploy role may do: what `pulumi up`, `preview`, `refresh` and `destroy` of that one stack call,
scoped to the stack's names wherever AWS allows it.

Each grant says which Pulumi resource types it serves, so a test can hold the policy against every resource the
program registers: a new resource type without a grant fails there, not in a deployment.

Where AWS cannot scope by name (EC2 networking, a new KMS key) the grant is limited to the stack's region, and
deletions to resources tagged with the stack's `project` and `stack` tags, which the program's provider puts on
everything it creates. Kubernetes objects are not IAM's to allow: the role must be a cluster admin (an EKS access
entry), which the bootstrap's `finishByHand` output reminds of.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Optional

from components.naming import (
    airflow_records_prefix,
    alarm_name,
    alarm_topic_name,
    dashboard_name,
    EKS_CLUSTER_POLICIES,
    ENHANCED_MONITORING_POLICY,
    NODE_POLICIES,
    arn,
    log_group_patterns,
    partition as partition_of,
    permissions_boundary_arn,
)

MANAGED, SELF_MANAGED = "managed", "self-managed"
BOTH = (MANAGED, SELF_MANAGED)
# Resource types that call no AWS API: Pulumi's own, random values, waits, and Kubernetes objects (authorised by
# the cluster's access entries, not by IAM).
NO_AWS_CALLS = ("pulumi:", "random:", "time:", "kubernetes:")
# Policies the self-managed flavour attaches (components/naming.py: pulumi-eks's cluster role, the node role, the
# database's Enhanced Monitoring role), and two pulumi-eks attaches in other modes (its VPC resource controller, an
# instance role's SSM).
ATTACHABLE_POLICIES = (
    *EKS_CLUSTER_POLICIES,
    "AmazonEKSVPCResourceController",
    *NODE_POLICIES,
    "AmazonSSMManagedInstanceCore",
    ENHANCED_MONITORING_POLICY,
)
PASSED_TO = {
    MANAGED: ("airflow.amazonaws.com", "airflow-env.amazonaws.com", "vpc-flow-logs.amazonaws.com"),
    SELF_MANAGED: ("eks.amazonaws.com", "ec2.amazonaws.com", "monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com"),
}
SERVICE_LINKED = {
    MANAGED: ("airflow.amazonaws.com",),
    SELF_MANAGED: (
        "eks.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
        "rds.amazonaws.com",
        "autoscaling.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
    ),
}


@dataclass(frozen=True)
class Scope:
    """The one stack a role deploys, as the names and tags its resources carry."""

    name: str  # the environment name, prefix of every resource name
    stack: str
    project: str
    flavour: str
    region: str
    account: str
    secret_prefixes: tuple[str, ...]
    kms_key: str  # "none", "create", or an existing key's ARN
    partition: str = "aws"
    permissions_boundary: str = "bootstrap"  # the stack's permissionsBoundary: "bootstrap" or a policy ARN

    @property
    def boundary_arn(self) -> str:
        """The boundary every role the deploy role creates or changes must carry."""
        return permissions_boundary_arn(self.permissions_boundary, region=self.region, account=self.account, environment=self.name) or ""

    @classmethod
    def of(cls, app: Any, stack: str, project: str, account: str) -> "Scope":
        """The scope of an application stack, from its settings (`stackconfig.Settings`)."""
        return cls(
            name=app.name, stack=stack, project=project, flavour=app.flavour, region=app.region, account=account,
            secret_prefixes=(app.secret_prefixes.variables, app.secret_prefixes.connections), kms_key=app.mwaa.kms_key,
            partition=partition_of(app.region), permissions_boundary=app.permissions_boundary,
        )


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # templates over Scope's fields
    serves: tuple[str, ...] = ()  # Pulumi resource types (or type prefixes) this grant lets the program manage
    flavours: tuple[str, ...] = BOTH
    condition: Optional[dict[str, Any]] = None
    tagged: bool = False  # only resources carrying the stack's project and stack tags
    kms: Optional[str] = None  # "create" or "existing": only when the stack uses such a key


# What MWAA, Secrets Manager and S3 do with the caller's rights on the stack's customer key: MWAA's documented
# caller policy for a customer managed key (MWAA user guide, "Full API and console access policy", customer managed
# key version: kms:DescribeKey, ListGrants, CreateGrant, RevokeGrant, Decrypt, Encrypt, GenerateDataKey*,
# ReEncrypt*); Secrets Manager needs GenerateDataKey and Decrypt (security-encryption).
KEY_USE_BY_SERVICES = (
    "kms:DescribeKey", "kms:ListGrants", "kms:CreateGrant", "kms:RevokeGrant", "kms:Decrypt", "kms:Encrypt",
    "kms:GenerateDataKey*", "kms:ReEncrypt*",
)

_EC2_TYPES = tuple(
    f"aws:ec2/{t}"
    for t in (
        "vpc:Vpc", "subnet:Subnet", "internetGateway:InternetGateway", "eip:Eip", "natGateway:NatGateway",
        "routeTable:RouteTable", "route:Route", "routeTableAssociation:RouteTableAssociation",
        "securityGroup:SecurityGroup", "defaultSecurityGroup:DefaultSecurityGroup", "vpcEndpoint:VpcEndpoint",
        "launchTemplate:LaunchTemplate", "flowLog:FlowLog",
    )
) + ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")

GRANTS: tuple[Grant, ...] = (
    Grant(
        "ReadOnlyLookups",
        (
            "ec2:Describe*", "rds:Describe*", "kms:ListAliases", "logs:DescribeLogGroups",
            "eks:DescribeAddonVersions", "eks:ListClusters", "airflow:ListEnvironments", "sts:GetCallerIdentity",
            # The provider reads a parameter's metadata through DescribeParameters, which takes no resource ARN.
            "ssm:DescribeParameters",
        ),
        ("*",),
    ),
    Grant(
        # components/shared/deployed_airflow_version.py writes it; components/preflight.py reads it by path.
        "DeployedAirflowVersion",
        (
            "ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
            "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource",
        ),
        (
            "arn:{partition}:ssm:{region}:{account}:parameter" + airflow_records_prefix("{name}"),
            "arn:{partition}:ssm:{region}:{account}:parameter" + airflow_records_prefix("{name}") + "/*",
        ),
        serves=("aws:ssm/parameter:Parameter",),
    ),
    Grant(
        "Network",
        (
            "ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:ModifySubnetAttribute",
            "ec2:CreateInternetGateway", "ec2:AttachInternetGateway", "ec2:AllocateAddress", "ec2:CreateNatGateway",
            "ec2:CreateRouteTable", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute",
            "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation",
            "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules",
            "ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
            "ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:CreateLaunchTemplate",
            "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:CreateTags", "ec2:DeleteTags",
            "ec2:CreateFlowLogs",
        ),
        ("*",),
        serves=_EC2_TYPES,
        condition={"StringEquals": {"aws:RequestedRegion": "{region}"}},
    ),
    Grant(
        "NetworkDeletionOfThisStack",
        (
            "ec2:DeleteVpc", "ec2:DeleteSubnet", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
            "ec2:DeleteNatGateway", "ec2:ReleaseAddress", "ec2:DisassociateAddress", "ec2:DeleteRouteTable",
            "ec2:DeleteSecurityGroup", "ec2:DeleteVpcEndpoints", "ec2:DeleteLaunchTemplate",
            "ec2:DeleteLaunchTemplateVersions", "ec2:DeleteFlowLogs",
        ),
        ("*",),
        serves=_EC2_TYPES,
        tagged=True,
    ),
    Grant(
        "Buckets",
        (
            "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucket*",
            "s3:PutBucket*", "s3:DeleteBucketPolicy",
            "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration", "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration",
            "s3:GetAnalyticsConfiguration", "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration",
            "s3:GetMetricsConfiguration", "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging", "s3:GetObjectAcl", "s3:PutObject", "s3:PutObjectTagging",
            "s3:DeleteObject", "s3:DeleteObjectVersion",
        ),
        ("arn:{partition}:s3:::{name}-*", "arn:{partition}:s3:::{name}-*/*"),
        serves=("aws:s3/",),
    ),
    Grant(
        "Roles",
        (
            "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
            "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
        ),
        ("arn:{partition}:iam::{account}:role/{name}-*",),
        serves=("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
    ),
    # A role is created, given permissions or given its boundary only under the stack's permissions boundary
    # (IAM's iam:PermissionsBoundary condition key: the boundary in the request, or the role's own for
    # Put/DeleteRolePolicy and Attach/DetachRolePolicy). The boundary cannot be removed (no
    # DeleteRolePermissionsBoundary) or edited (no grant on the policy itself), so no role the deploy role makes can
    # do more than the boundary allows.
    Grant(
        "RolesUnderTheBoundary",
        ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"),
        ("arn:{partition}:iam::{account}:role/{name}-*",),
        serves=("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"),
        condition={"ArnEquals": {"iam:PermissionsBoundary": "{boundary}"}},
    ),
    # The program checks that the boundary exists before it creates anything (components.preflight.check_boundary).
    Grant("ReadTheBoundary", ("iam:GetPolicy", "iam:GetPolicyVersion"), ("{boundary}",)),
    Grant(
        "AttachOnlyAwsPoliciesTheClusterNeeds",
        ("iam:AttachRolePolicy", "iam:DetachRolePolicy"),
        ("arn:{partition}:iam::{account}:role/{name}-*",),
        serves=("aws:iam/rolePolicyAttachment:RolePolicyAttachment",),
        flavours=(SELF_MANAGED,),
        condition={
            "ArnEquals": {
                "iam:PolicyARN": [f"arn:{{partition}}:iam::aws:policy/{p}" for p in ATTACHABLE_POLICIES],
                "iam:PermissionsBoundary": "{boundary}",
            },
        },
    ),
    Grant(
        "InstanceProfiles",
        (
            "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
            "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
        ),
        ("arn:{partition}:iam::{account}:instance-profile/{name}-*",),
        flavours=(SELF_MANAGED,),
    ),
    Grant(
        "PassOwnRolesToTheRuntime",
        ("iam:PassRole",),
        ("arn:{partition}:iam::{account}:role/{name}-*",),
        condition={"StringEquals": {"iam:PassedToService": "{passed_to}"}},
    ),
    Grant(
        "ServiceLinkedRoles",
        ("iam:CreateServiceLinkedRole",),
        ("arn:{partition}:iam::{account}:role/aws-service-role/*",),
        condition={"StringEquals": {"iam:AWSServiceName": "{service_linked}"}},
    ),
    Grant(
        "ClusterOidcProvider",
        (
            "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
            "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
            "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
            "iam:RemoveClientIDFromOpenIDConnectProvider",
        ),
        ("arn:{partition}:iam::{account}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/*",),
        serves=("aws:iam/openIdConnectProvider:OpenIdConnectProvider",),
        flavours=(SELF_MANAGED,),
    ),
    Grant(
        "AirflowSecrets",
        (
            "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
            "secretsmanager:GetResourcePolicy", "secretsmanager:TagResource", "secretsmanager:UntagResource",
            "secretsmanager:RestoreSecret",
        ),
        ("arn:{partition}:secretsmanager:{region}:{account}:secret:{secret_prefix}/*",),
        serves=("aws:secretsmanager/",),
    ),
    Grant(
        "LogGroups",
        (
            "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
            "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource", "logs:TagLogGroup",
            "logs:ListTagsLogGroup", "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
        ),
        ("{log_groups}",),
        serves=("aws:cloudwatch/logGroup:LogGroup",),
    ),
    # The alarms' SNS topic and its subscribers (components/shared/monitoring.py), named <environment>-alarms.
    Grant(
        "AlarmTopic",
        (
            "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
            "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource", "sns:Subscribe",
            "sns:ListSubscriptionsByTopic",
        ),
        ("arn:{partition}:sns:{region}:{account}:" + alarm_topic_name("{name}"),),
        serves=("aws:sns/topic:Topic", "aws:sns/topicSubscription:TopicSubscription"),
    ),
    # A subscription's own calls take no resource ARN in IAM (service authorization reference, Amazon SNS:
    # Unsubscribe, GetSubscriptionAttributes, SetSubscriptionAttributes): the stack's region only.
    Grant(
        "AlarmSubscriptions",
        ("sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes"),
        ("*",),
        serves=("aws:sns/topicSubscription:TopicSubscription",),
        condition={"StringEquals": {"aws:RequestedRegion": "{region}"}},
    ),
    Grant(
        "Alarms",
        (
            "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource", "cloudwatch:TagResource", "cloudwatch:UntagResource",
        ),
        ("arn:{partition}:cloudwatch:{region}:{account}:alarm:" + alarm_name("{name}", "*"),),
        serves=("aws:cloudwatch/metricAlarm:MetricAlarm",),
    ),
    # Dashboards are global: their ARN has no region, and the name carries it (components/naming.py).
    Grant(
        "Dashboard",
        ("cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"),
        ("arn:{partition}:cloudwatch::{account}:dashboard/" + dashboard_name("{name}", "{region}"),),
        serves=("aws:cloudwatch/dashboard:Dashboard",),
    ),
    Grant(
        "CreateKeyTaggedForThisStack",
        ("kms:CreateKey", "kms:TagResource"),
        ("*",),
        serves=("aws:kms/key:Key",),
        condition={"StringEquals": {"aws:RequestTag/project": "{project}", "aws:RequestTag/stack": "{stack}"}},
        kms="create",
    ),
    Grant(
        "KeysOfThisStack",
        (
            "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
            "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:ListResourceTags", "kms:TagResource",
            "kms:UntagResource", "kms:UpdateKeyDescription", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
            *KEY_USE_BY_SERVICES,
        ),
        ("arn:{partition}:kms:{region}:{account}:key/*",),
        serves=("aws:kms/key:Key",),
        tagged=True,
        kms="create",
    ),
    # An alias names both itself and its key; aliases carry no tags, so the alias's name is the scope.
    Grant(
        "AliasOfThisStack",
        ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"),
        ("arn:{partition}:kms:{region}:{account}:alias/{name}", "arn:{partition}:kms:{region}:{account}:key/*"),
        serves=("aws:kms/alias:Alias",),
        kms="create",
    ),
    Grant("ExistingKey", KEY_USE_BY_SERVICES, ("{kms_key}",), kms="existing"),
    # CreateEnvironment creates the environment's VPC endpoints and their network interfaces with the caller's
    # rights (MWAA user guide, "Full API and console access policy": ec2:CreateVpcEndpoint, and
    # ec2:CreateNetworkInterface on subnet/* and network-interface/*). MWAA removes them itself: the caller is
    # given no DeleteNetworkInterface, which would reach every interface in the region.
    Grant(
        "MwaaNetworkInterfacesInRegion",
        ("ec2:CreateNetworkInterface",),
        ("arn:{partition}:ec2:{region}:{account}:subnet/*", "arn:{partition}:ec2:{region}:{account}:network-interface/*"),
        serves=("aws:mwaa/environment:Environment",),
        flavours=(MANAGED,),
    ),
    Grant(
        "MwaaEnvironment",
        (
            "airflow:CreateEnvironment", "airflow:UpdateEnvironment", "airflow:DeleteEnvironment",
            "airflow:GetEnvironment", "airflow:TagResource", "airflow:UntagResource", "airflow:ListTagsForResource",
        ),
        ("arn:{partition}:airflow:{region}:{account}:environment/{name}",),
        serves=("aws:mwaa/environment:Environment",),
        flavours=(MANAGED,),
    ),
    Grant(
        "Cluster",
        (
            "eks:DeleteCluster", "eks:DescribeCluster", "eks:UpdateClusterConfig", "eks:AssociateEncryptionConfig",
            "eks:UpdateClusterVersion", "eks:DescribeUpdate", "eks:TagResource", "eks:UntagResource",
            "eks:ListTagsForResource", "eks:CreateNodegroup", "eks:DeleteNodegroup", "eks:DescribeNodegroup",
            "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion", "eks:CreateAddon", "eks:DeleteAddon",
            "eks:DescribeAddon", "eks:UpdateAddon", "eks:CreateAccessEntry", "eks:DeleteAccessEntry",
            "eks:DescribeAccessEntry", "eks:UpdateAccessEntry", "eks:AssociateAccessPolicy",
            "eks:DisassociateAccessPolicy", "eks:ListAssociatedAccessPolicies",
        ),
        (
            "arn:{partition}:eks:{region}:{account}:cluster/{name}",
            "arn:{partition}:eks:{region}:{account}:nodegroup/{name}/*",
            "arn:{partition}:eks:{region}:{account}:addon/{name}/*",
            "arn:{partition}:eks:{region}:{account}:access-entry/{name}/*",
        ),
        serves=("eks:index:", "aws:eks/"),
        flavours=(SELF_MANAGED,),
    ),
    # CreateCluster authorises on "*" only; the cluster's name is in the request, not in an ARN.
    Grant(
        "CreateClusterInRegion",
        ("eks:CreateCluster",),
        ("*",),
        serves=("eks:index:Cluster", "aws:eks/cluster:Cluster"),
        flavours=(SELF_MANAGED,),
        condition={"StringEquals": {"aws:RequestedRegion": "{region}"}},
    ),
    # A node group with a launch template: EKS checks that the caller may launch instances from it (EKS user guide,
    # "Customizing managed nodes with launch templates": ec2:RunInstances and ec2:CreateTags for the caller).
    Grant(
        "NodeGroupLaunchInRegion",
        ("ec2:RunInstances",),
        # The instance and what it is made of (subnet, group, template, volume, interface) are the account's in
        # the region; its image (the EKS AMI) is Amazon's.
        ("arn:{partition}:ec2:{region}:{account}:*", "arn:{partition}:ec2:{region}::image/*"),
        serves=("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"),
        flavours=(SELF_MANAGED,),
        # Only from a launch template (EKS's check passes the node group's); never a bare instance.
        condition={"StringEquals": {"aws:RequestedRegion": "{region}"}, "Null": {"ec2:LaunchTemplate": "false"}},
    ),
    Grant(
        "EksPublicParameters",
        ("ssm:GetParameter", "ssm:GetParameters"),
        ("arn:{partition}:ssm:{region}:*:parameter/aws/service/eks/*",),
        flavours=(SELF_MANAGED,),
    ),
    Grant(
        "MetadataDatabase",
        (
            "rds:CreateDBInstance", "rds:DeleteDBInstance", "rds:ModifyDBInstance", "rds:RebootDBInstance",
            "rds:CreateDBSnapshot", "rds:AddTagsToResource", "rds:RemoveTagsFromResource",
            "rds:ListTagsForResource", "rds:CreateDBSubnetGroup", "rds:ModifyDBSubnetGroup",
            "rds:DeleteDBSubnetGroup", "rds:CreateDBParameterGroup", "rds:ModifyDBParameterGroup",
            "rds:ResetDBParameterGroup", "rds:DeleteDBParameterGroup",
        ),
        (
            "arn:{partition}:rds:{region}:{account}:db:{name}-*",
            "arn:{partition}:rds:{region}:{account}:subgrp:{name}-*",
            "arn:{partition}:rds:{region}:{account}:pg:{name}-*",
            "arn:{partition}:rds:{region}:{account}:snapshot:{name}-*",
        ),
        serves=("aws:rds/",),
        flavours=(SELF_MANAGED,),
    ),
    Grant("RegistryLogin", ("ecr:GetAuthorizationToken",), ("*",), flavours=(SELF_MANAGED,)),
    # A KMS-encrypted repository (aws/ecr key): deleting it retires ECR's grant with the caller's rights (ECR user
    # guide, "Encryption at rest": kms:RetireGrant must be in the caller's IAM policy).
    Grant(
        "RegistryKeyGrant",
        ("kms:RetireGrant",),
        ("arn:{partition}:kms:{region}:{account}:key/*",),
        serves=("aws:ecr/repository:Repository",),
        flavours=(SELF_MANAGED,),
        condition={"StringEquals": {"kms:ViaService": "ecr.{region}.amazonaws.com"}},
    ),
    Grant(
        "ImageRepository",
        (
            "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeRepositories", "ecr:PutLifecyclePolicy",
            "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:PutImageScanningConfiguration",
            "ecr:PutImageTagMutability", "ecr:GetRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource",
            "ecr:ListTagsForResource", "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
        ),
        ("arn:{partition}:ecr:{region}:{account}:repository/{name}-*",),
        serves=("aws:ecr/", "docker-build:index:Image"),
        flavours=(SELF_MANAGED,),
    ),
)


def grants_for(scope: Scope) -> list[Grant]:
    kms = "create" if scope.kms_key == "create" else ("none" if scope.kms_key == "none" else "existing")
    return [g for g in GRANTS if scope.flavour in g.flavours and (g.kms is None or g.kms == kms)]


def deploy_policy(scope: Scope) -> dict[str, Any]:
    """Every grant of one stack's deploy role, as one document (what the role may do in all)."""
    return {"Version": "2012-10-17", "Statement": [_statement(g, scope) for g in grants_for(scope)]}


# IAM quotas (IAM user guide, "IAM and AWS STS quotas"): a customer managed policy holds 6,144 characters, a role
# 10 attached managed policies by default; IAM does not count white space. A role's inline policies hold 10,240
# in all, which the self-managed grants outgrow, so the grants are attached as managed policies.
MANAGED_POLICY_MAX_CHARS = 6144
MANAGED_POLICIES_PER_ROLE = 10


def policy_size(document: dict[str, Any]) -> int:
    """A policy's size as IAM counts it: its characters less white space."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def deploy_policies(scope: Scope) -> list[dict[str, Any]]:
    """The deploy role's grants packed, in order, into as few managed policies as IAM's size limit allows."""
    documents: list[dict[str, Any]] = []
    for statement in deploy_policy(scope)["Statement"]:
        if documents and policy_size({**documents[-1], "Statement": documents[-1]["Statement"] + [statement]}) <= MANAGED_POLICY_MAX_CHARS:
            documents[-1]["Statement"].append(statement)
        else:
            documents.append({"Version": "2012-10-17", "Statement": [statement]})
    too_big = [d["Statement"][0]["Sid"] for d in documents if policy_size(d) > MANAGED_POLICY_MAX_CHARS]
    if too_big or len(documents) > MANAGED_POLICIES_PER_ROLE:
        raise ValueError(
            f"the deploy policy of stack {scope.stack} does not fit IAM's limits (grants {too_big}, "
            f"{len(documents)} policies): shorten environmentName ({scope.name!r}) or the secret prefixes"
        )
    return documents


def _statement(grant: Grant, scope: Scope) -> dict[str, Any]:
    resources: list[str] = []
    for template in grant.resources:
        resources += _expand(template, scope)
    statement: dict[str, Any] = {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Action": sorted(grant.actions),
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    condition = _render(grant.condition, scope) if grant.condition else {}
    if grant.tagged:
        condition.setdefault("StringEquals", {}).update(
            {"aws:ResourceTag/project": scope.project, "aws:ResourceTag/stack": scope.stack}
        )
    if condition:
        statement["Condition"] = condition
    return statement


def _log_groups(scope: Scope) -> list[str]:
    patterns = log_group_patterns(scope.name)
    owners = ("mwaa", "vpc") if scope.flavour == MANAGED else ("eks", "rds", "vpc")
    groups = [arn("logs", scope.region, scope.account, f"log-group:{patterns[owner]}") for owner in owners]
    return groups + [group + ":*" for group in groups]


def _expand(template: str, scope: Scope) -> list[str]:
    if template == "{log_groups}":
        return _log_groups(scope)
    if template == "{kms_key}":
        return [scope.kms_key]
    if "{secret_prefix}" in template:
        return [_fill(template.replace("{secret_prefix}", prefix), scope) for prefix in scope.secret_prefixes]
    return [_fill(template, scope)]


def _fill(template: str, scope: Scope) -> str:
    return template.format(
        partition=scope.partition, region=scope.region, account=scope.account, name=scope.name,
        stack=scope.stack, project=scope.project, boundary=scope.boundary_arn,
    )


def _render(value: Any, scope: Scope) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, scope) for v in value]
    if value == "{passed_to}":
        return list(PASSED_TO[scope.flavour])
    if value == "{service_linked}":
        return list(SERVICE_LINKED[scope.flavour])
    return _fill(value, scope) if isinstance(value, str) else value


def serving(resource_type: str, scope: Scope) -> list[Grant]:
    """The grants that let the stack's role manage resources of `resource_type`."""
    return [g for g in grants_for(scope) if any(resource_type.startswith(s) for s in g.serves)]
