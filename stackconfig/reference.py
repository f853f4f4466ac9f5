"""The configuration reference, generated from the config model: every key as typed in `pulumi config set`, its
type, its default and its description (the field's docstring). `make docs` writes docs/configuration.md; a test
holds the committed file to what the model says, so a changed default or rule cannot leave the docs behind.

A description that begins `Unset: <text>.` names what an unset key means when that is not a plain value (it
follows protectData, or is derived from another key)."""

from __future__ import annotations

import json
import sys
import typing
from typing import Any, Iterator

from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined

from stackconfig.project_files import PROJECT_DIR
from stackconfig.settings import Settings

REFERENCE = PROJECT_DIR / "docs" / "configuration.md"
_INTERNAL = {"stack", "project", "region", "secret_keys"}
_HEADER = """# Configuration reference

Generated from the config model (`stackconfig/`) by `make docs`; do not edit by hand. Keys under the project are
set as `pulumi config set [--path] <key> <value>` (object fields with `--path`, e.g.
`pulumi config set --path mwaa.maxWorkers 5`; secrets with `--secret`). Every bad value is reported by key, value and
what is allowed, all at once, before anything is created.

| key | type | default | description |
| --- | --- | --- | --- |
| `aws:region` | string | (required) | an AWS Region, e.g. `eu-west-1` (the provider's key: `pulumi config set aws:region eu-west-1`) |
"""


def _section(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)


def _type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _type(args[0]) if len(args) == 1 else "string"
    if origin is typing.Literal or annotation is str:
        return "string"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if origin is list or annotation is list:
        return "list"
    if origin is dict or annotation is dict:
        return "map"
    if _section(annotation) is not None:
        return "object"
    return "string"


def _default(field: Any) -> tuple[str, bool]:
    """The default as shown, and whether one was found in the model (not derived)."""
    if field.default_factory is not None:
        value = field.default_factory()
        value = value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value
    else:
        value = field.default
    if value is None or value is PydanticUndefined:
        return "", False
    if isinstance(value, bool):
        return f"`{str(value).lower()}`", True
    if isinstance(value, str):
        return f"`{value}`" if value else "`''`", True
    return f"`{json.dumps(value)}`", True


def rows(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, str, str, str]]:
    for name, field in model.model_fields.items():
        if name in _INTERNAL:
            continue
        key = f"{prefix}.{field.alias or to_camel(name)}" if prefix else (field.alias or to_camel(name))
        section = _section(field.annotation)
        description = " ".join((field.description or "").split())
        if not description and section is not None:
            description = " ".join((section.__doc__ or "").split())
        default, literal = _default(field)
        if description.startswith("Unset: "):
            shown, _, description = description.removeprefix("Unset: ").partition(". ")
            default = default if literal and section is None else shown
        if section is not None:
            # A section's keys have rows of their own; only one made of required fields shows its default whole.
            if all(not f.is_required() for f in section.model_fields.values()):
                default = ""
        yield key, _type(field.annotation), default, description
        if section is not None and section is not model:
            yield from rows(section, key)


def render() -> str:
    lines = [f"| `{key}` | {typ} | {default} | {description} |" for key, typ, default, description in rows()]
    return _HEADER + "\n".join(lines) + "\n"


def main() -> int:
    REFERENCE.parent.mkdir(exist_ok=True)
    text = render()
    changed = not REFERENCE.exists() or REFERENCE.read_text() != text
    REFERENCE.write_text(text)
    print(f"{'wrote' if changed else 'unchanged'} {REFERENCE.relative_to(PROJECT_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
