"""A small evaluator of IAM Allow statements (actions, resources and the condition operators our policies use), for
tests that hold a policy against the requests AWS will make. IAM itself is not available here; moto ignores it."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, Any]) -> bool:
    for operator, pairs in condition.items():
        for key, wanted in pairs.items():
            if operator == "Null":  # "false": the request must carry the key; "true": it must not
                if (key in context) != (str(wanted).lower() == "false"):
                    return False
                continue
            if key not in context:
                return False  # IAM: a condition on a key the request does not carry does not match
            have, wanted = _as_list(context[key]), _as_list(wanted)
            if operator in ("StringEquals", "ArnEquals"):
                holds = any(h in wanted for h in have)
            elif operator in ("StringLike", "ArnLike"):
                holds = any(fnmatchcase(h, w) for h in have for w in wanted)
            else:
                raise AssertionError(f"the evaluator does not know {operator}")
            if not holds:
                return False
    return True


def allows(policy: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> bool:
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement["Action"])):
            continue
        if not any(fnmatchcase(resource, r) for r in _as_list(statement["Resource"])):
            continue
        if _condition_holds(statement.get("Condition", {}), context):
            return True
    return False
