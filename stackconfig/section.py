"""What every config section shares: camelCase keys as typed in `pulumi config set`, unknown keys refused, and
rules that report all their problems at once."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel

from stackconfig import limits
from stackconfig.errors import ConfigIssue, ConfigIssues


class Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        # A field's docstring is its description: the generated configuration reference (docs/configuration.md).
        use_attribute_docstrings=True,
    )

    def _is_set(self, field: str) -> bool:
        return field in self.model_fields_set


def raise_if(issues: list[ConfigIssue]) -> None:
    if issues:
        raise ConfigIssues(issues)


def context(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


def retention_issues(key: str, value: int) -> list[ConfigIssue]:
    if value in limits.LOG_RETENTION_DAYS:
        return []
    return [ConfigIssue(key, value, f"one of CloudWatch's retention periods: {', '.join(map(str, limits.LOG_RETENTION_DAYS))}")]


def within(key: str, value: int, bounds: tuple[int, int], unit: str = "") -> list[ConfigIssue]:
    low, high = bounds
    if low <= value <= high:
        return []
    return [ConfigIssue(key, value, f"{low} to {high}{unit}")]

