"""Bucket policies: every bucket refuses requests over plain HTTP; the access-log bucket also admits S3's log
delivery for the environment's own buckets."""

from __future__ import annotations

from components.naming import partition


def tls_only_policy(bucket_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def access_log_bucket_policy(bucket_arn: str, *, region: str, account: str, environment: str) -> dict:
    """S3 delivers server access logs as the logging service principal; the policy admits it for this account's
    buckets of this environment only (S3 user guide, enable-server-access-logging: aws:SourceAccount and
    aws:SourceArn). A pattern, not the buckets' ARNs, so that the log bucket needs nothing of the buckets it serves."""
    policy = tls_only_policy(bucket_arn)
    policy["Statement"].append(
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{bucket_arn}/*",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": f"arn:{partition(region)}:s3:::{environment}-*"},
            },
        }
    )
    return policy
