"""Airflow configuration options this project sets, as the `section.option` map MWAA takes."""

from __future__ import annotations

import json
from typing import Mapping, Optional

SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"


def secrets_backend_options(
    *,
    connections_prefix: str,
    variables_prefix: str,
    connections_lookup_pattern: Optional[str] = None,
    variables_lookup_pattern: Optional[str] = None,
) -> dict[str, str]:
    """Airflow reads Variables and Connections from Secrets Manager under these prefixes."""
    kwargs: dict[str, str] = {"connections_prefix": connections_prefix, "variables_prefix": variables_prefix}
    if connections_lookup_pattern:
        kwargs["connections_lookup_pattern"] = connections_lookup_pattern
    if variables_lookup_pattern:
        kwargs["variables_lookup_pattern"] = variables_lookup_pattern
    return {
        "secrets.backend": SECRETS_MANAGER_BACKEND,
        "secrets.backend_kwargs": json.dumps(kwargs, separators=(",", ":")),
    }


def configuration_options(user_options: Mapping[str, object], backend: Mapping[str, str]) -> dict[str, str]:
    """The user's options plus the backend's; the backend keys are reserved, so nothing is overridden."""
    merged = {key: str(value) for key, value in user_options.items()}
    merged.update(backend)
    return dict(sorted(merged.items()))
