"""The parts every bucket of this project has: private, owner-enforced, versioned, encrypted, TLS only, with
lifecycle rules. The DAG bucket and the task-log bucket are components of their own that build these parts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.shared.bucket_policy import tls_only_policy

Rule = aws.s3.BucketLifecycleConfigurationRuleArgs


@dataclass
class AccessLogTarget:
    """Where a bucket's S3 server access logs go: the environment's access-log bucket, under a prefix of its own."""

    bucket: pulumi.Input[str]
    prefix: str


@dataclass
class PrivateBucketParts:
    bucket: aws.s3.Bucket
    # What must exist before objects go in: versioning (else no version ids), encryption, the policies.
    ready: list[pulumi.Resource]


def private_bucket(
    owner: pulumi.ComponentResource,
    name: str,
    *,
    protect: bool,
    kms_key_arn: Optional[pulumi.Input[str]],
    rules: Sequence[Rule],
    access_logs: Optional[AccessLogTarget] = None,
    policy: Optional[Callable[[pulumi.Output[str]], pulumi.Input[str]]] = None,
) -> PrivateBucketParts:
    """`policy` gives the bucket policy's JSON for the bucket's ARN (default: TLS only)."""
    child = pulumi.ResourceOptions(parent=owner)
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        # Unprotected stacks can be destroyed although the bucket is versioned and never empty.
        force_destroy=not protect,
        opts=pulumi.ResourceOptions(parent=owner, protect=protect, retain_on_delete=protect),
    )
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=child,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=child,
    )
    if kms_key_arn is not None:
        default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        )
    else:
        default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=kms_key_arn is not None
            )
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=list(rules),
        opts=pulumi.ResourceOptions(parent=owner, depends_on=[versioning]),
    )
    if access_logs is not None:
        aws.s3.BucketLogging(
            f"{name}-logging",
            bucket=bucket.id,
            target_bucket=access_logs.bucket,
            target_prefix=access_logs.prefix,
            opts=child,
        )
    bucket_policy = aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=bucket.id,
        policy=policy(bucket.arn) if policy else bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
        # S3 refuses a policy while the public access block is still being applied.
        opts=pulumi.ResourceOptions(parent=owner, depends_on=[public_access]),
    )
    return PrivateBucketParts(bucket=bucket, ready=[versioning, encryption, public_access, ownership, bucket_policy])


def abort_incomplete_uploads(days: int = 7) -> aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs:
    return aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=days)


def whole_bucket() -> aws.s3.BucketLifecycleConfigurationRuleFilterArgs:
    return aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")


def expire_everything(rule_id: str, *, days: int, noncurrent_days: int) -> Rule:
    """Objects expire `days` after they are written, overwritten versions `noncurrent_days` after, and an upload
    left unfinished after a day: for buckets of logs."""
    return Rule(
        id=rule_id,
        status="Enabled",
        filter=whole_bucket(),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=days),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=noncurrent_days
        ),
        abort_incomplete_multipart_upload=abort_incomplete_uploads(1),
    )
