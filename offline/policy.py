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
    if value == UNKNOWN:
        return rules.UNKNOWN
    # What the wire carries: JSON's kinds (the mocks' state may hold an asset or another object: its text).
    return value if value is None or isinstance(value, (str, bool, int, float)) else str(value)


def policy_resources(plan: Plan) -> list[rules.Resource]:
    """Each resource of the plan as a stack policy sees it: a resource's outputs (the mocks' answer over its
    inputs, with its id), a component's none of its arguments; `protect` and the property dependencies. And the
    children pulumi-eks makes of its components' arguments, which the mocks stand in for (`_pulumi_eks_children`)."""
    seen = []
    for r in plan.resources:
        props = {**copy.deepcopy(r.raw_inputs), **_wire(copy.deepcopy(r.state)), **({"id": r.id} if r.id else {})} \
            if r.custom else {}
        seen.append(rules.Resource(urn=r.urn, type=r.type, name=r.name, props=_wire(props), protect=r.protect,
                                   dependencies=tuple(r.dependencies),
                                   property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()}))
    return seen + _pulumi_eks_children(plan)


def _pulumi_eks_children(plan: Plan) -> list[rules.Resource]:
    """The EKS cluster and node group that pulumi-eks creates from its components' arguments (pulumi-eks
    nodejs/eks/cluster/cluster.ts: `encryptionConfig` {provider: {keyArn}, resources: [secrets]} from
    encryptionConfigKeyArn, `vpcConfig` from the endpoint arguments; nodes/nodegroup.ts: the node group with the
    launch template and subnet ids it is given). Under the mocks pulumi-eks's provider does not run, so the
    policies' EKS rules read these."""
    children = []
    for component in plan.of_type("eks:index:Cluster"):
        args = _wire(copy.deepcopy(component.raw_inputs))
        key = args.get("encryptionConfigKeyArn")
        children.append(rules.Resource(
            urn=f"{component.urn}$aws:eks/cluster:Cluster::{component.name}-eksCluster", type="aws:eks/cluster:Cluster",
            name=f"{component.name}-eksCluster", props={
                "name": args.get("name"),
                "encryptionConfig": {"provider": {"keyArn": key}, "resources": ["secrets"]} if key else None,
                "vpcConfig": {"endpointPublicAccess": args.get("endpointPublicAccess", True),
                              "endpointPrivateAccess": args.get("endpointPrivateAccess", False),
                              "publicAccessCidrs": args.get("publicAccessCidrs", ["0.0.0.0/0"]),
                              "subnetIds": [*args.get("privateSubnetIds", []), *args.get("publicSubnetIds", [])]},
            }, dependencies=(component.urn,)))
    for component in plan.of_type("eks:index:ManagedNodeGroup"):
        args = _wire(copy.deepcopy(component.raw_inputs))
        children.append(rules.Resource(
            urn=f"{component.urn}$aws:eks/nodeGroup:NodeGroup::{component.name}", type="aws:eks/nodeGroup:NodeGroup",
            name=component.name, props={"launchTemplate": args.get("launchTemplate"),
                                        "subnetIds": args.get("subnetIds", [])},
            dependencies=(component.urn,)))
    return children


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
