"""`python -m offline.cost --stack prod [--format json] [--assume natGbPerMonth=500 ...]`: what the stack would cost
a month, from its offline plan and the price table (cost/prices.json), for the stack's region: a line per billed
thing, the total, the assumptions behind the quantities the plan cannot know, and the table's sources.
`--format json` prints one document whose `totalMonthlyUsd` is the total."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from cost.estimate import NOT_COUNTED, Assumptions, Estimate, EstimateError, estimate
from cost.dimensions import dimension
from cost.table import KINDS, TABLE, PriceError, PriceTable, kinds_used
from offline.engine import PROJECT_DIR, Plan, run_stack


def plan_estimate(plan: Plan, assumptions: Assumptions = Assumptions(), table: PriceTable | None = None) -> Estimate:
    if plan.error is not None:
        raise EstimateError(str(plan.error))
    region, flavour = plan.outputs.get("region", ""), plan.outputs.get("flavour", "")
    return estimate(plan.resources, stack=plan.stack, flavour=flavour, region=region,
                    table=table or PriceTable.load(), assumptions=assumptions)


def stack_estimate(stack: str, assumptions: Assumptions = Assumptions(), table: PriceTable | None = None) -> Estimate:
    return plan_estimate(run_stack(stack), assumptions, table)


# The README's figures: each shipped stack file as it is, and after `pulumi config set flavour` to the other.
README_VARIANTS = ("dev", "dev+self-managed", "prod", "prod+managed")


def readme_table(table: PriceTable | None = None, plans: dict[str, Plan] | None = None) -> str:
    """The README's table of monthly figures, at the default assumptions; a test holds the README to it."""
    from offline.golden import VARIANTS

    plans = plans or {name: VARIANTS[name].run() for name in README_VARIANTS}
    rows = ["| stack file | flavour | region | a month (USD) | the largest priced lines | not priced yet |",
            "| --- | --- | --- | ---: | --- | --- |"]
    for name in README_VARIANTS:
        result = plan_estimate(plans[name], table=table)
        largest = sorted(result.lines, key=lambda line: line.monthly_usd, reverse=True)[:3]
        total = _usd(result.total_usd) + ("" if result.complete else " + unpriced")
        stack, _, switched = name.partition("+")
        rows.append(f"| `Pulumi.{stack}.yaml`{' with flavour ' + switched if switched else ''} | {result.flavour} | "
                    f"{result.region} | {total} | "
                    + "; ".join(f"{line.item.split(':')[0]} {_usd(line.monthly_usd)}" for line in largest) + " | "
                    + (", ".join(dimension(key).what for key in result.missing) or "nothing") + " |")
    return "\n".join(rows)


def _usd(value: float) -> str:
    return f"${value:,.2f}"


README = PROJECT_DIR / "README.md"
README_START, README_END = "<!-- cost-table:", "<!-- /cost-table -->"


def readme_block(text: str) -> tuple[int, int]:
    """Where the README's table is: the lines between its two markers."""
    start = text.index("\n", text.index(README_START)) + 1
    return start, text.index(README_END)


def write_readme_table(table_text: str, readme: Path = README) -> Path:
    text = readme.read_text(encoding="utf-8")
    start, end = readme_block(text)
    readme.write_text(text[:start] + table_text + "\n" + text[end:], encoding="utf-8")
    return readme


def as_document(result: Estimate) -> dict[str, Any]:
    return {
        "stack": result.stack,
        "flavour": result.flavour,
        "region": result.region,
        "currency": "USD",
        # The priced lines' sum: the whole estimate when `complete`, a lower bound when not.
        "totalMonthlyUsd": round(result.total_usd, 2),
        "complete": result.complete,
        "unpriced": result.missing,
        "lines": [{
            "resources": list(line.resources), "item": line.item, "priceKey": line.key,
            "quantity": round(line.quantity, 4), "per": line.per, "unitUsd": line.unit_usd,  # null: unpriced
            "monthlyUsd": round(line.monthly_usd, 2), "assumption": line.assumption,
            "source": line.source, "sourceKind": line.kind, "sourceDate": line.date,
        } for line in result.lines],
        # The assumptions the estimate used, with the values (a derived default included); then all of them.
        "assumptionsUsed": result.assumptions_read,
        "assumptions": dataclasses.asdict(result.assumptions),
        "notCounted": list(NOT_COUNTED),
    }


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def as_text(result: Estimate, table: PriceTable | None = None) -> str:
    rows = [(line.item, f"{_quantity(line.quantity)} {line.per}",
             "no price" if line.unit_usd is None else f"${line.unit_usd:,.4f}",
             "?" if line.unit_usd is None else _usd(line.monthly_usd)) for line in result.lines]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    out = [f"Monthly estimate of stack {result.stack} ({result.flavour}) in {result.region}, On-Demand list prices in "
           f"USD", ""]
    out += [f"  {a:<{widths[0]}}  {b:>{widths[1]}}  x {c:>{widths[2]}}  = {m:>{widths[3]}}" for a, b, c, m in rows]
    label = "Total a month" if result.complete else "Total a month of the priced lines (INCOMPLETE)"
    out += ["", f"  {label:<{widths[0] + widths[1] + widths[2] + 7}}  {_usd(result.total_usd):>{widths[3]}}", ""]
    if not result.complete:
        out += [f"Not priced: cost/prices.json has no {result.region} price for these, and the total leaves them out:"]
        out += [f"  - {key} ({dimension(key).what})" for key in result.missing]
        untracked = [key for key in result.missing if table is None or key not in table.keys]
        add = f" ADD=\"{' '.join(untracked)}\"" if untracked else ""
        out += ["  Add them on a machine that reaches the AWS Price List (no AWS account needed):",
                f"    make prices REGION={result.region}{add} KEEP_GOING=1", ""]
    out.append("Assumptions (change with --assume name=value, or ASSUME=\"name=value ...\" for make cost):")
    asked = dataclasses.asdict(result.assumptions)
    out += [f"  {name} = {str(value).lower() if isinstance(value, bool) else f'{value:g}'}"
            + (f" (asked {asked[name]:g}; the plan allows no more)" if asked.get(name) not in (None, value) else "")
            for name, value in sorted(result.assumptions_read.items())]
    out += ["", "Not counted:"] + [f"  - {note}" for note in NOT_COUNTED]
    counts = kinds_used({line.key: line.kind for line in result.lines if line.unit_usd is not None}.values())
    out += ["", "Prices: " + "; ".join(f"{n} {KINDS[kind]}" for kind, n in counts.items()),
            "  each line's source: --format json (lines[].source); the table and its sources: cost/prices.json"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make cost", description=__doc__)
    parser.add_argument("--stack", help="the stack whose Pulumi.<stack>.yaml to price")
    parser.add_argument("--readme-table", action="store_true",
                        help="write the README's table of the shipped stacks' figures anew (between its markers)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--assume", action="append", default=[], metavar="NAME=VALUE",
                        help="change an assumption: " + ", ".join(f.name for f in dataclasses.fields(Assumptions)))
    parser.add_argument("--prices", type=Path, default=TABLE, help="the price table (default: cost/prices.json)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the table lacks a price the stack needs")
    args = parser.parse_args(argv)
    if args.readme_table:
        print(write_readme_table(readme_table(PriceTable.load(args.prices))).relative_to(PROJECT_DIR))
        return 0
    if not args.stack:
        parser.error("--stack is required")
    try:
        assumptions = Assumptions().with_changes(setting for arg in args.assume for setting in arg.split())
        table = PriceTable.load(args.prices)
        result = stack_estimate(args.stack, assumptions, table)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (EstimateError, PriceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(as_document(result), indent=2, allow_nan=False) if args.format == "json"
          else as_text(result, table))
    if args.strict and not result.complete:
        print("error: the estimate is incomplete (--strict): " + "; ".join(result.missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
