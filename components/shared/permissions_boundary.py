"""The permissions boundary of an environment's IAM roles: the most any role the stack creates may ever do.

The deploy role may create roles only under this boundary (bootstrap/deploy_policy.py), so a role it creates can
never do more than this, whatever policy it is given: no IAM (but the load balancer service-linked role EKS
creates), no role assumption, S3 and Secrets Manager only on the environment's own buckets and prefixes, logs only
in its own log groups. Within it sit the grants of every role the program creates: the MWAA execution role, the
IRSA roles, the node role, the Cluster Autoscaler's, pulumi-eks's cluster role, the RDS monitoring role and the VPC
flow logs role; a test holds each of their policies (and the AWS managed policies they attach) against it.
"""

from __future__ import annotations

from typing import Sequence

from components.naming import arn, log_group_patterns, partition

# RDS Enhanced Monitoring writes to RDS's own log group, one per account (RDSOSMetrics; the AWS managed policy
# AmazonRDSEnhancedMonitoringRole names log-group:RDS*).
ENHANCED_MONITORING_LOG_GROUPS = "RDS*"


# What a cluster, its nodes and the Cluster Autoscaler change (AmazonEKSClusterPolicy, AmazonEKS_CNI_Policy,
# AmazonEKSWorkerNodePolicy and components/self_managed/workload_identity_policy.cluster_autoscaler_policy, as of the managed
# policies' versions moto ships): the writes by name, the reads by prefix. Nothing else of EC2, load balancing or
# Auto Scaling: no instance termination outside Auto Scaling, no snapshot sharing, no VPC changes.
CLUSTER_WRITES = (
    "ec2:AssignPrivateIpAddresses", "ec2:AttachNetworkInterface", "ec2:AttachVolume", "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateNetworkInterface", "ec2:CreateRoute", "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:CreateVolume",
    "ec2:DeleteNetworkInterface", "ec2:DeleteRoute", "ec2:DeleteSecurityGroup", "ec2:DeleteVolume",
    "ec2:DetachNetworkInterface", "ec2:DetachVolume", "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyVolume", "ec2:RevokeSecurityGroupIngress",
    "ec2:UnassignPrivateIpAddresses",
    "elasticloadbalancing:AddTags", "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
    "elasticloadbalancing:AttachLoadBalancerToSubnets", "elasticloadbalancing:ConfigureHealthCheck",
    "elasticloadbalancing:Create*", "elasticloadbalancing:Delete*", "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:DetachLoadBalancerFromSubnets",
    "elasticloadbalancing:Modify*", "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
    "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
    "autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup",
)
# The services that use the stack's keys on a role's behalf (kms:ViaService): MWAA's queue, the buckets, the secrets.
KEY_USING_SERVICES = ("sqs", "s3", "secretsmanager")


def _stack_key(*, region: str, account: str, kms_key: str, project: str, stack: str) -> list[dict]:
    """EKS encrypts Secrets as the cluster role, directly (no service in between): only the stack's own key, the
    one it names or the one it creates and tags."""
    if kms_key == "none":
        return []
    statement: dict = {
        "Sid": "StackKeyForClusterSecrets",
        "Effect": "Allow",
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
    }
    if kms_key == "create":
        statement["Resource"] = arn("kms", region, account, "key/*")
        statement["Condition"] = {"StringEquals": {"aws:ResourceTag/project": project, "aws:ResourceTag/stack": stack}}
    else:
        statement["Resource"] = kms_key
    return [statement]


def boundary_policy(
    *, environment: str, region: str, account: str, secret_prefixes: Sequence[str], project: str, stack: str, kms_key: str
) -> dict:
    """`kms_key`: the stack's mwaa.kmsKey (none, create, or a key ARN)."""
    p = partition(region)
    in_region = {"StringEquals": {"aws:RequestedRegion": region}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnBuckets",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectVersionAcl",
                    "s3:GetObjectTagging", "s3:GetObjectVersionTagging", "s3:GetBucket*",
                    "s3:GetEncryptionConfiguration", "s3:ListBucket*", "s3:PutObject", "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                ],
                "Resource": [f"arn:{p}:s3:::{environment}-*", f"arn:{p}:s3:::{environment}-*/*"],
            },
            {
                "Sid": "OwnLogGroups",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:PutRetentionPolicy",
                           "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetLogGroupFields",
                           "logs:GetQueryResults", "logs:FilterLogEvents"],
                "Resource": [
                    arn("logs", region, account, f"log-group:{g}")
                    for g in [*log_group_patterns(environment).values(), ENHANCED_MONITORING_LOG_GROUPS]
                ],
            },
            {
                "Sid": "OwnSecretsReadOnly",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
                    "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecretVersionIds",
                ],
                "Resource": [arn("secretsmanager", region, account, f"secret:{prefix}/*") for prefix in secret_prefixes],
            },
            {
                "Sid": "OwnMwaaEnvironment",
                "Effect": "Allow",
                "Action": "airflow:PublishMetrics",
                "Resource": arn("airflow", region, account, f"environment/{environment}"),
            },
            # MWAA's Celery queues live in an account MWAA owns.
            {
                "Sid": "MwaaQueues",
                "Effect": "Allow",
                "Action": ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                           "sqs:ReceiveMessage", "sqs:SendMessage"],
                "Resource": f"arn:{p}:sqs:{region}:*:airflow-celery-*",
            },
            # Keys used through the services that encrypt the stack's data (MWAA's queue key lives in MWAA's account).
            {
                "Sid": "KeysThroughServices",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Resource": f"arn:{p}:kms:{region}:*:key/*",
                "Condition": {"StringLike": {"kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in KEY_USING_SERVICES]}},
            },
            *_stack_key(region=region, account=account, kms_key=kms_key, project=project, stack=stack),
            {
                "Sid": "ClusterComputeAndNetwork",
                "Effect": "Allow",
                "Action": list(CLUSTER_WRITES),
                "Resource": "*",
                "Condition": in_region,
            },
            {
                "Sid": "Reads",
                "Effect": "Allow",
                "Action": [
                    "ec2:Describe*", "elasticloadbalancing:Describe*", "autoscaling:Describe*",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:Describe*", "eks:List*", "eks-auth:AssumeRoleForPodIdentity",
                    "ecr:GetAuthorizationToken", "ecr:BatchGet*", "ecr:BatchCheck*", "ecr:Get*", "ecr:Describe*",
                    "ecr:List*", "kms:DescribeKey", "logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock",
                    "secretsmanager:ListSecrets", "cloudwatch:PutMetricData",
                ],
                "Resource": "*",
            },
            {
                "Sid": "LoadBalancerServiceLinkedRole",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
            },
        ],
    }
