"""The customer-managed KMS key's policy: the account administers it through IAM, CloudWatch Logs may use it for
this environment's log groups, CloudWatch for this environment's alarms (their SNS topic is encrypted with it), and
the EKS cluster's service role for envelope encryption of Kubernetes Secrets.
MWAA, S3, Secrets Manager, ECR and RDS use it through IAM and the grants the root statement enables."""

from __future__ import annotations

from components.naming import alarm_arn_pattern, arn, eks_service_role_pattern, log_group_patterns, partition


def key_policy(*, region: str, account: str, environment: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition(region)}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            *service_statements(region=region, account=account, environment=environment),
        ],
    }


def service_statements(*, region: str, account: str, environment: str) -> list[dict]:
    """What a key needs beyond IAM delegation for the stack to use it: the statements to add to an existing key's
    policy (the stack output kmsKeyPolicyStatements), and part of the policy of the key the stack creates."""
    p = partition(region)
    return [
        # CloudWatch Logs encrypts a log group with a key only if the key policy admits the service for that
        # group (CloudWatch Logs user guide, encrypt-log-data-kms: the aws:logs:arn encryption context).
        {
            "Sid": "CloudWatchLogsForThisEnvironment",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": [
                        arn("logs", region, account, f"log-group:{pattern}")
                        for pattern in log_group_patterns(environment).values()
                    ]
                }
            },
        },
        # EKS encrypts and decrypts Secrets as the cluster's service role, which pulumi-eks creates (and names)
        # after this key exists: admitted by name within the account.
        {
            "Sid": "EksClusterRoleEncryptsSecrets",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalAccount": account},
                "ArnLike": {
                    "aws:PrincipalArn": f"arn:{p}:iam::{account}:role/{eks_service_role_pattern(environment)}"
                },
            },
        },
        # CloudWatch publishes the stack's alarms to its topic, which this key encrypts: without the key's use an
        # alarm's notification is dropped (SNS developer guide, sns-key-management, "Enable compatibility between
        # event sources from AWS services and encrypted topics"); only for this account's alarms of this
        # environment (aws:SourceAccount, aws:SourceArn: the confused-deputy guard).
        {
            "Sid": "CloudWatchAlarmsOfThisEnvironment",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": alarm_arn_pattern(region, account, environment)},
            },
        },
    ]
