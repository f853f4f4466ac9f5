"""`python -m offline --stack dev [--format json|kubernetes]`: what `pulumi up` would create, without a cloud or
the CLI; `kubernetes` prints the Kubernetes objects of a self-managed stack as YAML manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from offline.engine import PROJECT_DIR, run_stack
from offline.render import as_json, as_kubernetes_yaml, as_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make plan", description=__doc__)
    parser.add_argument("--stack", required=True, help="the stack whose Pulumi.<stack>.yaml to run")
    parser.add_argument("--format", choices=("text", "json", "kubernetes"), default="text")
    parser.add_argument("--project", type=Path, default=PROJECT_DIR, help="the folder holding Pulumi.yaml")
    args = parser.parse_args(argv)
    try:
        plan = run_stack(args.stack, project_dir=args.project.resolve())
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if plan.error is not None:
        print(str(plan.error), file=sys.stderr)
        return 1
    render = {"json": as_json, "kubernetes": as_kubernetes_yaml, "text": as_text}[args.format]
    print(render(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
