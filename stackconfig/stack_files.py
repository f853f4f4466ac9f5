"""Pulumi.yaml and Pulumi.<stack>.yaml read the way the Pulumi CLI hands them to a program.

The CLI applies Pulumi.yaml's declared defaults, prefixes project keys with the project name, passes objects as JSON
and decrypts `secure:` values. Without the CLI a `secure:` value cannot be decrypted: it is replaced by a
placeholder, and its key is still reported as secret, as the CLI would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "offline-placeholder-secret"


@dataclass
class StackConfig:
    project: str
    stack: str
    values: dict[str, str]  # full keys ("project:key", "aws:region") to the text the program receives
    secret_keys: list[str]


def read_stack_config(project_dir: Path, stack: str) -> StackConfig:
    project_file = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    project = project_file["name"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {stack_file.name}; stacks here: {', '.join(known)}")
    stack_values = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}

    values: dict[str, Any] = {}
    for key, declaration in (project_file.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            values[_full_key(project, key)] = declaration["default"]
    secret_keys = []
    for key, value in stack_values.items():
        full = _full_key(project, key)
        values[full] = _decrypt_offline(value)
        if _has_secure(value):
            secret_keys.append(full)
    return StackConfig(project, stack, {k: _as_text(v) for k, v in values.items()}, secret_keys)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _decrypt_offline(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER
        return {k: _decrypt_offline(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decrypt_offline(v) for v in value]
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)
