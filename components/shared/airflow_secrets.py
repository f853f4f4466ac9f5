"""Airflow Variables and Connections seeded as Secrets Manager secrets under the backend's prefixes.

Airflow's SecretsManagerBackend reads `<variables prefix>/<key>` as Variable `key` and
`<connections prefix>/<conn_id>` as Connection `conn_id` (a URI or a JSON object).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws
from pydantic import SecretStr


@dataclass
class AirflowSecretsArgs:
    variables_prefix: str
    connections_prefix: str
    variables: Mapping[str, SecretStr] = field(default_factory=dict)
    connections: Mapping[str, SecretStr] = field(default_factory=dict)
    kms_key_arn: Optional[pulumi.Input[str]] = None
    protect: bool = True


class AirflowSecrets(pulumi.ComponentResource):
    secret_names: list[str]

    def __init__(self, name: str, args: AirflowSecretsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:AirflowSecrets", name, None, opts)
        self.secret_names = []
        for kind, prefix, values in (
            ("variable", args.variables_prefix, args.variables),
            ("connection", args.connections_prefix, args.connections),
        ):
            for key, value in sorted(values.items()):
                self._seed(name, kind, f"{prefix}/{key}", value, args)
        self.register_outputs({"secretNames": self.secret_names})

    def _seed(self, name: str, kind: str, secret_name: str, value: SecretStr, args: AirflowSecretsArgs) -> None:
        resource = f"{name}-{kind}-{secret_name.rsplit('/', 1)[-1]}"
        secret = aws.secretsmanager.Secret(
            resource,
            name=secret_name,
            description=f"Airflow {kind}, seeded by Pulumi",
            kms_key_id=args.kms_key_arn,
            # A deleted secret's name stays taken for the recovery window: unprotected stacks free it at once.
            recovery_window_in_days=7 if args.protect else 0,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.secretsmanager.SecretVersion(
            resource,
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value.get_secret_value()),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_names.append(secret_name)
