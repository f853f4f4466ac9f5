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

from components.arns import arn, log_group_patterns, partition

# RDS Enhanced Monitoring writes to RDS's own log group, one per account (RDSOSMetrics; the AWS managed policy
# AmazonRDSEnhancedMonitoringRole names log-group:RDS*).
ENHANCED_MONITORING_LOG_GROUPS = "RDS*"


def boundary_policy(*, environment: str, region: str, account: str, secret_prefixes: Sequence[str]) -> dict:
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
            # Keys are scoped by each role's own policy and by the key policies; the boundary keeps them in region.
            {
                "Sid": "KeysInRegion",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:ListGrants"],
                "Resource": f"arn:{p}:kms:{region}:*:key/*",
            },
            # What a cluster, its nodes and the Cluster Autoscaler manage (AmazonEKSClusterPolicy, the node policies),
            # in the stack's region only.
            {
                "Sid": "ClusterComputeAndNetwork",
                "Effect": "Allow",
                "Action": ["ec2:*", "elasticloadbalancing:*", "autoscaling:*"],
                "Resource": "*",
                "Condition": in_region,
            },
            {
                "Sid": "Reads",
                "Effect": "Allow",
                "Action": [
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
