"""Reading the stack's Airflow Variables and Connections from Secrets Manager: what the MWAA execution role and the
self-managed components' IRSA roles are granted, by name under the prefixes."""

from __future__ import annotations

from typing import Sequence

from components.naming import arn

SECRET_READ = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:ListSecretVersionIds",
]


def secrets_read_statements(*, region: str, account: str, prefixes: Sequence[str], list_secrets: bool = True) -> list[dict]:
    """Read access to the secrets under the prefixes only; ListSecrets cannot be scoped to resources."""
    statements = [
        {
            "Sid": "ReadAirflowSecrets",
            "Effect": "Allow",
            "Action": SECRET_READ,
            "Resource": [arn("secretsmanager", region, account, f"secret:{prefix}/*") for prefix in prefixes],
        },
    ]
    if list_secrets:
        statements.append({"Sid": "ListSecrets", "Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*"})
    return statements
