"""Golden plans: the JSON plan of every stack/flavour combination and of the bootstrap, committed under
`tests/golden/`. A test holds the program to them byte for byte, so every change to what `pulumi up` would create
shows as a reviewable diff; `make golden` writes them anew after an intended change.

`python -m offline.golden [--check]`: write the files, or (--check) list the ones that differ and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from offline.engine import PROJECT_DIR, Plan, run_stack
from offline.render import as_json

GOLDEN_DIR = PROJECT_DIR / "tests" / "golden"


@dataclass(frozen=True)
class Variant:
    """A stack file as shipped, or after `pulumi config set` of `config`."""

    stack: str
    config: Mapping[str, Any] = field(default_factory=dict)
    project_dir: Path = PROJECT_DIR

    def run(self) -> Plan:
        return run_stack(self.stack, project_dir=self.project_dir, config=dict(self.config))


# The four stack/flavour combinations (each stack file runs both flavours) and the bootstrap project's stack.
VARIANTS: dict[str, Variant] = {
    "dev": Variant("dev"),
    "prod": Variant("prod"),
    "dev+self-managed": Variant("dev", {"flavour": "self-managed"}),
    "prod+managed": Variant("prod", {"flavour": "managed"}),
    "bootstrap": Variant("admin", project_dir=PROJECT_DIR / "bootstrap"),
}


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"


def rendered(plan: Plan) -> str:
    if plan.error is not None:
        raise SystemExit(f"the plan does not run: {plan.error}")
    return as_json(plan) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make golden", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, variant in VARIANTS.items():
        text, path = rendered(variant.run()), golden_path(name)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(PROJECT_DIR))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        changed = not path.exists() or path.read_text() != text
        path.write_text(text)
        print(f"{'wrote' if changed else 'unchanged'} {path.relative_to(PROJECT_DIR)}")
    for path in stale:
        print(f"differs: {path} (make golden writes it; review the diff)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
