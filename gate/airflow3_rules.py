"""DAGs and plugins against Airflow 3: ruff's AIR3 rules, which Airflow's upgrade guide points to ("Step 3: DAG
authors - check your Airflow DAGs for compatibility": `ruff check --select AIR301`, and AIR302 for what moved to
providers).

AIR301 (removed in 3.0) and AIR302 (moved into a provider package) break a DAG on Airflow 3: they fail the gate.
AIR311 and AIR312 (still work on 3.x, expected to go) are reported and pass."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

BREAKING = ("AIR301", "AIR302")
ADVISORY = ("AIR311", "AIR312")


@dataclass
class Findings:
    breaking: list[str] = field(default_factory=list)
    advisory: list[str] = field(default_factory=list)


def ruff_command() -> list[str]:
    """ruff as the project pins it (pyproject's test group): the module of this interpreter's environment."""
    return [sys.executable, "-m", "ruff"]


def check(paths: list[Path], root: Path, ruff: Optional[list[str]] = None) -> Findings:
    """Each finding as `file:line: CODE message`, split into what breaks a DAG on Airflow 3 and what is advice."""
    existing = [str(p) for p in paths if p.exists()]
    if not existing:
        return Findings()
    done = subprocess.run(
        [*(ruff or ruff_command()), "check", "--no-cache", "--isolated", "--select", ",".join(BREAKING + ADVISORY),
         "--output-format", "json", "--exit-zero", *existing],
        capture_output=True, text=True, cwd=root,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ruff could not check the DAGs: {done.stderr.strip()[-800:]}")
    found = Findings()
    for item in json.loads(done.stdout or "[]"):
        where = Path(item["filename"])
        shown = where.relative_to(root) if where.is_relative_to(root) else where
        line = f"{shown}:{item['location']['row']}: {item['code']} {item['message']}"
        (found.breaking if item["code"] in BREAKING else found.advisory).append(line)
    return found
