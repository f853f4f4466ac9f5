"""The bucket S3 server access logs of the environment's DAG and task-log buckets go to: private, TLS only,
expiring. Its default encryption stays SSE-S3: server access log delivery writes without the caller-side KMS
rights a customer key would need (S3 user guide, enable-server-access-logging: SSE-S3 for the destination)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi

from components.shared.bucket_policy import access_log_bucket_policy
from components.shared.private_bucket import expire_everything, private_bucket


@dataclass
class AccessLogBucketArgs:
    environment: str
    region: str
    account_id: pulumi.Input[str]
    protect: bool
    retention_days: int


class AccessLogBucket(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, args: AccessLogBucketArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:AccessLogBucket", name, None, opts)

        def policy_of(bucket_arn: pulumi.Output[str]) -> pulumi.Output[str]:
            return pulumi.Output.all(bucket_arn, args.account_id).apply(
                lambda v: json.dumps(
                    access_log_bucket_policy(v[0], region=args.region, account=v[1], environment=args.environment)
                )
            )
        parts = private_bucket(
            self,
            name,
            protect=args.protect,
            kms_key_arn=None,
            rules=[expire_everything("expire-access-logs", days=args.retention_days, noncurrent_days=1)],
            policy=policy_of,
        )
        self.name = parts.bucket.bucket
        self.register_outputs({"name": self.name})
