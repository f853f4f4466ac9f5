"""`python -m offline.policy --stack prod`: the policy pack's rules (policy/rules.py) over the offline plan of a
stack, without the Pulumi CLI or a cloud: each rule, its level and what breaks it. Exits 1 when a mandatory rule
is broken. `pulumi preview --policy-pack policy` runs the same rules against the real preview."""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

from offline.engine import PROJECT_DIR, UNKNOWN, Plan, run_stack
from policy import rules
from policy.relaxations import RELAXATIONS, RelaxationError, load_relaxations


def _wire(value: Any) -> Any:
    """A plan's value as the engine hands it to an analyzer: unknowns as the engine's sentinel."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    return rules.UNKNOWN if value == UNKNOWN else value


def policy_resources(plan: Plan) -> list[rules.Resource]:
    """Each resource of the plan as a policy sees it: its inputs, `protect` and property dependencies."""
    return [
        rules.Resource(urn=r.urn, type=r.type, name=r.name, props=_wire(copy.deepcopy(r.raw_inputs)),
                       protect=r.protect, dependencies=tuple(r.dependencies),
                       property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()})
        for r in plan.resources
    ]


def report(stack: rules.Stack, relaxations: dict[str, str]) -> tuple[str, bool]:
    lines, broken = [], False
    for rule in rules.RULES:
        reason = relaxations.get(rule.name)
        level = "mandatory" if rule.mandatory and reason is None else "advisory"
        violations = rule.violations(stack)
        lines.append(f"{'ok  ' if not violations else 'FAIL' if level == 'mandatory' else 'note'} {rule.name} "
                     f"({level}{', relaxed: ' + reason if reason else ''})")
        lines += [f"       {v.message}" for v in violations]
        broken |= bool(violations) and level == "mandatory"
    return "\n".join(lines), broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make policy", description=__doc__)
    parser.add_argument("--stack", required=True, help="the stack whose Pulumi.<stack>.yaml to run")
    parser.add_argument("--relaxations", type=Path, default=RELAXATIONS)
    args = parser.parse_args(argv)
    try:
        relaxations = load_relaxations(args.relaxations)
    except RelaxationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    plan = run_stack(args.stack, project_dir=PROJECT_DIR)
    if plan.error is not None:
        print(str(plan.error), file=sys.stderr)
        return 1
    text, broken = report(rules.Stack(policy_resources(plan)), relaxations)
    print(text)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
