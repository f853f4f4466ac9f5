"""The rules a fork relaxes to advisory, each with its reason (policy/relaxations.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

if __package__:  # imported as the package `policy`
    from . import rules
else:  # run by the Pulumi CLI, with policy/ on sys.path
    import rules  # type: ignore[no-redef]

RELAXATIONS = Path(__file__).resolve().parent / "relaxations.yaml"


class RelaxationError(ValueError):
    pass


def load_relaxations(path: Path = RELAXATIONS) -> dict[str, str]:
    """`{rule name: why}`; a rule named without a reason, or a name no rule has, stops the pack before any check."""
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    if data is not None and not isinstance(data, Mapping):
        raise RelaxationError(f"{path}: a mapping with one key, `relaxed`, was expected")
    relaxed = (data or {}).get("relaxed") or {}
    if not isinstance(relaxed, Mapping):
        raise RelaxationError(f"{path}: `relaxed` must map rule names to reasons")
    names = {r.name for r in rules.RULES}
    for name, reason in relaxed.items():
        if name not in names:
            raise RelaxationError(f"{path}: relaxed.{name}: no such rule; the rules are {', '.join(sorted(names))}")
        if not isinstance(reason, str) or len(reason.strip()) < 10:
            raise RelaxationError(f"{path}: relaxed.{name}: give the reason it is relaxed here, in a sentence")
    return {str(k): v.strip() for k, v in relaxed.items()}


