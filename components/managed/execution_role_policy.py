"""The MWAA execution role's trust and permissions, as documented for MWAA and scoped to one environment."""

from __future__ import annotations

from typing import Optional, Sequence

from components.shared.secrets_access import secrets_read_statements
from components.naming import arn, mwaa_log_group_prefix, partition

_KMS_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]


def environment_arn(region: str, account: str, environment: str) -> str:
    return arn("airflow", region, account, f"environment/{environment}")


def trust_policy(*, region: str, account: str, environment: str) -> dict:
    """MWAA assumes the role through two service principals; the conditions stop other accounts' environments
    from using it (the confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": environment_arn(region, account, environment)},
                },
            }
        ],
    }


def permissions_policy(
    *,
    region: str,
    account: str,
    environment: str,
    bucket_arn: str,
    secret_prefixes: Sequence[str],
    kms_key_arn: Optional[str] = None,
) -> dict:
    p = partition(region)
    statements: list[dict] = [
        {
            "Sid": "PublishMetrics",
            "Effect": "Allow",
            "Action": "airflow:PublishMetrics",
            "Resource": environment_arn(region, account, environment),
        },
        # ListAllMyBuckets only takes "*": a deny on the bucket alone, as some samples write it, denies nothing.
        {"Sid": "NoBucketListing", "Effect": "Deny", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {
            # MWAA's documented s3:GetBucket*/s3:List* split by resource, so no account-wide action slips in.
            "Sid": "ReadDagBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucket*", "s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "ReadDagObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectAcl",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{bucket_arn}/*",
        },
        {
            # MWAA checks that the bucket is not public before it uses it.
            "Sid": "CheckPublicAccessBlock",
            "Effect": "Allow",
            "Action": "s3:GetAccountPublicAccessBlock",
            "Resource": "*",
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:CreateLogGroup",
                "logs:PutLogEvents",
                "logs:GetLogEvents",
                "logs:GetLogRecord",
                "logs:GetLogGroupFields",
                "logs:GetQueryResults",
            ],
            "Resource": arn("logs", region, account, f"log-group:{mwaa_log_group_prefix(environment)}*"),
        },
        {"Sid": "FindLogGroups", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        {"Sid": "PutMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
        {
            "Sid": "CeleryQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
                "sqs:SendMessage",
            ],
            # The queue lives in an account MWAA owns, hence no account here.
            "Resource": f"arn:{p}:sqs:{region}:*:airflow-celery-*",
        },
    ]
    if kms_key_arn is None:
        statements.append(
            {
                # The AWS-owned key of MWAA's queue is in MWAA's account: any key but this account's.
                "Sid": "UseServiceKeyForQueue",
                "Effect": "Allow",
                "Action": _KMS_USE,
                "NotResource": f"arn:{p}:kms:*:{account}:key/*",
                "Condition": {"StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com"]}},
            }
        )
    else:
        statements.append(
            {
                "Sid": "UseCustomerKey",
                "Effect": "Allow",
                "Action": _KMS_USE,
                "Resource": kms_key_arn,
                "Condition": {
                    "StringLike": {
                        "kms:ViaService": [
                            f"sqs.{region}.amazonaws.com",
                            f"s3.{region}.amazonaws.com",
                            f"secretsmanager.{region}.amazonaws.com",
                        ]
                    }
                },
            }
        )
    statements += secrets_read_statements(region=region, account=account, prefixes=secret_prefixes)
    return {"Version": "2012-10-17", "Statement": statements}
