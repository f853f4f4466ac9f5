"""A customer-managed KMS key for the environment, its bucket, its secrets and its log groups."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.shared.encryption_key_policy import key_policy


@dataclass
class EncryptionKeyArgs:
    environment: str
    region: str
    account_id: pulumi.Input[str]
    protect: bool


class EncryptionKey(pulumi.ComponentResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:EncryptionKey", name, None, opts)
        policy = pulumi.Output.from_input(args.account_id).apply(
            lambda account: json.dumps(key_policy(region=args.region, account=account, environment=args.environment))
        )
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Airflow environment {args.environment}: bucket, secrets, logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
            # Losing the key loses everything encrypted with it.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.kms.Alias(f"{name}-alias", name=f"alias/{args.environment}", target_key_id=key.key_id, opts=pulumi.ResourceOptions(parent=self))
        self.arn = key.arn
        self.register_outputs({"arn": self.arn})
