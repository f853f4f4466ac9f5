"""The bucket task logs are shipped to: worker pods are deleted after their task, their logs stay here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from components.shared.private_bucket import AccessLogTarget, expire_everything, private_bucket

# An overwritten log (a retried task appends to its log object) is kept this long as an old version.
NONCURRENT_VERSION_DAYS = 7


@dataclass
class TaskLogBucketArgs:
    protect: bool
    retention_days: int
    # The stack's key: task logs are encrypted with it when given (SSE-KMS with an S3 bucket key).
    kms_key_arn: Optional[pulumi.Input[str]] = None
    access_logs: Optional[AccessLogTarget] = None


class TaskLogBucket(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: TaskLogBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:TaskLogBucket", name, None, opts)
        parts = private_bucket(
            self,
            name,
            protect=args.protect,
            kms_key_arn=args.kms_key_arn,
            access_logs=args.access_logs,
            rules=[expire_everything("expire-task-logs", days=args.retention_days, noncurrent_days=NONCURRENT_VERSION_DAYS)],
        )
        self.name = parts.bucket.bucket
        self.arn = parts.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
