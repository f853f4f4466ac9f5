"""The customer-managed KMS key's policy: the account administers it through IAM, CloudWatch Logs may use it for
this environment's log groups. MWAA and the execution role use it through IAM grants the root statement enables."""

from __future__ import annotations

from components.arns import arn, mwaa_log_group_prefix, partition


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
            {
                "Sid": "CloudWatchLogsForThisEnvironment",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": arn(
                            "logs", region, account, f"log-group:{mwaa_log_group_prefix(environment)}*"
                        )
                    }
                },
            },
        ],
    }
