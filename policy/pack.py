"""The rules (policy/rules.py) as CrossGuard stack policies, at their levels, with the relaxations a team has
written down (policy/relaxations.yaml): a relaxed rule still reports, as advisory, and says why it was relaxed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

if __package__:  # imported as the package `policy` (the tests, make policy)
    from . import rules
else:  # run by the Pulumi CLI (python -m pulumi.policy <engine> policy/): policy/ is on sys.path
    import rules  # type: ignore[no-redef]

def _plain(value: Any) -> Any:
    """A resource's inputs without the analyzer's proxy, a value unknown in the preview as rules.UNKNOWN."""
    if isinstance(value, Mapping):
        return {key: _item(value, key) for key in value}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_item(value, i) for i in range(len(value))]
    return value


def _item(container: Any, key: Any) -> Any:
    try:
        return _plain(container[key])
    except UnknownValueError:
        return rules.UNKNOWN


def view(resources: Sequence[PolicyResource]) -> rules.Stack:
    return rules.Stack(
        rules.Resource(
            urn=r.urn, type=r.resource_type, name=r.name, props=_plain(r.props),
            protect=bool(r.opts and r.opts.protect),
            dependencies=tuple(d.urn for d in r.dependencies or ()),
            property_dependencies={k: tuple(d.urn for d in v) for k, v in (r.property_dependencies or {}).items()},
        )
        for r in resources
    )


def _validation(rule: rules.Rule):
    # A relaxed rule's reason is in its description, which pulumi-policy prints with each of its violations.
    def validate(args: StackValidationArgs, report_violation) -> None:
        for violation in rule.violations(view(args.resources)):
            report_violation(violation.message, violation.urn)

    return validate


def policies(relaxations: Mapping[str, str]) -> list[StackValidationPolicy]:
    made = []
    for rule in rules.RULES:
        reason = relaxations.get(rule.name)
        level = EnforcementLevel.MANDATORY if rule.mandatory and reason is None else EnforcementLevel.ADVISORY
        description = rule.description if reason is None else f"{rule.description} Relaxed: {reason}"
        made.append(StackValidationPolicy(name=rule.name, description=description, enforcement_level=level,
                                          validate=_validation(rule)))
    return made
