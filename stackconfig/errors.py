"""Configuration problems, phrased for the person who types `pulumi config set`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi


@dataclass(frozen=True)
class ConfigIssue:
    """One bad setting: the key as typed with `pulumi config set --path`, the value, what is allowed."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        shown = "(not set)" if self.value is _UNSET else repr(self.value)
        return f"{self.key} = {shown}: {self.allowed}"


class _Unset:
    def __repr__(self) -> str:
        return "(not set)"


_UNSET: Any = _Unset()
UNSET = _UNSET


class ConfigIssues(ValueError):
    """Raised inside model validators to report several issues at once, keys relative to the model."""

    def __init__(self, issues: list[ConfigIssue]):
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


class ConfigError(pulumi.RunError):
    """Stops the program before the first resource. A RunError prints its message without a stack trace."""

    def __init__(self, stack: str, issues: list[ConfigIssue]):
        self.stack = stack
        self.issues = sorted(issues, key=lambda i: i.key)
        lines = [f"Stack configuration for '{stack}' has {len(self.issues)} problem(s); nothing was created:"]
        lines += [f"  - {issue}" for issue in self.issues]
        lines.append(
            "Fix each with `pulumi config set --path <key> <value>` (add --secret for secrets), "
            "see docs/configuration.md."
        )
        super().__init__("\n".join(lines))
