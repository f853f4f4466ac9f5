"""Reading the stack's configuration into `Settings`, or one `ConfigError` that lists every problem.

`parse` is pure (tests call it directly); `from_pulumi` reads what the Pulumi engine passes the program.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from pydantic import BaseModel, ValidationError

from stackconfig.errors import UNSET, ConfigError, ConfigIssue, ConfigIssues
from stackconfig.settings import Settings
from stackconfig.stack_files import read_stack_config

from stackconfig.project_files import PROJECT_DIR

# Keys that hold objects and are set with `pulumi config set --path <key>.<field> <value>`.
OBJECT_KEYS = tuple(
    field.alias or name
    for name, field in Settings.model_fields.items()
    if name == "tags" or (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel))
)
_INTERNAL = ("stack", "project", "region", "secretKeys", "secret_keys")


def parse(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project: str,
    region: Optional[str],
    secret_keys: Iterable[str] = (),
    project_dir: Optional[Path] = PROJECT_DIR,
) -> Settings:
    """Validate the project's config keys (without the project prefix) as the CLI passes them."""
    issues: list[ConfigIssue] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _INTERNAL:
            issues.append(ConfigIssue(key, value, "not a configuration key of this project"))
        elif key in OBJECT_KEYS and isinstance(value, str):
            try:
                values[key] = json.loads(value)
            except ValueError:
                issues.append(
                    ConfigIssue(key, value, f"an object; set its fields with pulumi config set --path '{key}.<field>' <value>")
                )
        else:
            values[key] = value
    for key in OBJECT_KEYS:
        if key in values and not isinstance(values[key], dict):
            issues.append(
                ConfigIssue(key, values.pop(key), f"an object; set its fields with pulumi config set --path '{key}.<field>' <value>")
            )
    context = {"project_dir": project_dir}
    internal = {"stack": stack, "project": project, "region": region or "", "secretKeys": frozenset(secret_keys)}
    try:
        settings = Settings.model_validate({**values, **internal}, context=context)
    except ValidationError as err:
        issues += list(issues_from(err, Settings))
        settings = None
    if issues or settings is None:
        raise ConfigError(stack, issues)
    return settings


def project_config() -> dict[str, Any]:
    """The running project's config keys (without the project prefix) as the Pulumi engine hands them over."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    prefix = f"{pulumi.get_project()}:"
    everything = {**(runtime_config.get_config_env() or {}), **runtime_config.CONFIG.get()}
    return {key[len(prefix) :]: value for key, value in everything.items() if key.startswith(prefix)}


def from_pulumi(project_dir: Path = PROJECT_DIR) -> Settings:
    """The settings of the stack being deployed, read from the config the Pulumi engine hands the program.

    File settings (dagsDir, requirementsFile, ...) are relative to project_dir, the program's folder."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    project, stack = pulumi.get_project(), pulumi.get_stack()
    raw = project_config()
    secret = {key for key in raw if runtime_config.is_config_secret(f"{project}:{key}")}
    region = pulumi.Config("aws").get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return parse(raw, stack=stack, project=project, region=region, secret_keys=secret, project_dir=project_dir)


def from_stack_file(project_dir: Path, stack: str, overrides: Optional[Mapping[str, Any]] = None) -> Settings:
    """The settings `Pulumi.<stack>.yaml` gives, read without the Pulumi CLI (for the gate, the bootstrap project and
    the twin). `secure:` values cannot be decrypted here and stand in as placeholders; no AWS lookups are made."""
    config = read_stack_config(project_dir, stack)
    prefix = f"{config.project}:"
    raw = {key[len(prefix) :]: value for key, value in config.values.items() if key.startswith(prefix)}
    raw.update(overrides or {})
    secret = [key[len(prefix) :] for key in config.secret_keys]
    region = config.values.get("aws:region")
    return parse(raw, stack=stack, project=config.project, region=region, secret_keys=secret, project_dir=project_dir)


def issues_from(err: ValidationError, root: type[BaseModel]) -> Iterable[ConfigIssue]:
    """pydantic's errors for a model of config keys (`root`), phrased with the keys as typed."""
    top_level = frozenset(field.alias or name for name, field in root.model_fields.items())
    for item in err.errors(include_url=False):
        loc = item["loc"]
        error = (item.get("ctx") or {}).get("error")
        if isinstance(error, ConfigIssues):
            base = _key(loc)
            for issue in error.issues:
                yield ConfigIssue(_join(base, issue.key, top_level), issue.value, issue.allowed)
            continue
        value = item.get("input", UNSET) if item["type"] != "missing" else UNSET
        if item["type"] == "extra_forbidden":
            yield ConfigIssue(_key(loc), value, f"not a known key; known here: {', '.join(_known_keys(loc[:-1], root))}")
        else:
            yield ConfigIssue(_key(loc), value, _phrase(item["msg"]))


def _join(base: str, key: str, top_level: frozenset[str]) -> str:
    if not base or key.startswith("aws:") or key.split(".")[0] in top_level:
        return key
    return f"{base}.{key}"


def _key(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in str(part) or " " in str(part):
            text += f'."{part}"' if text else f'"{part}"'
        else:
            text += f".{part}" if text else str(part)
    return text


def _known_keys(loc: tuple[Any, ...], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in loc:
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return [f.alias or n for n, f in model.model_fields.items() if n not in _INTERNAL]


def _phrase(message: str) -> str:
    # pydantic says "Input should be 'a' or 'b'"; our readers set config, they do not send input.
    return message.replace("Input should be", "should be").replace("Value error, ", "")
