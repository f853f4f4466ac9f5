"""The bucket Airflow reads its DAGs, requirements, plugins and startup script from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.shared.private_bucket import AccessLogTarget, abort_incomplete_uploads, private_bucket, whole_bucket

NONCURRENT_VERSION_DAYS = 90


@dataclass
class DagBucketArgs:
    protect: bool
    kms_key_arn: Optional[pulumi.Input[str]] = None
    access_logs: Optional[AccessLogTarget] = None


class DagBucket(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: DagBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:DagBucket", name, None, opts)
        parts = private_bucket(
            self,
            name,
            protect=args.protect,
            kms_key_arn=args.kms_key_arn,
            access_logs=args.access_logs,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-versions",
                    status="Enabled",
                    filter=whole_bucket(),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=NONCURRENT_VERSION_DAYS
                    ),
                    abort_incomplete_multipart_upload=abort_incomplete_uploads(),
                )
            ],
        )
        self.name = parts.bucket.bucket
        self.arn = parts.bucket.arn
        # Objects uploaded before versioning is on get no version id, and MWAA needs one.
        self.ready = parts.ready
        self.register_outputs({"name": self.name, "arn": self.arn})
