"""How long `make plan` takes: each stack file's plan as a fresh process (what a user waits for), and again inside
one process once the imports are warm. Prints figures; asserts nothing.

    .venv/bin/python bench/plan_speed.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")


def fresh_process(stack: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "offline", "--stack", stack], cwd=PROJECT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT))
    from offline import run_stack

    for stack in STACKS:
        times = [fresh_process(stack) for _ in range(args.runs)]
        run_stack(stack)  # warms the imports of this process
        start = time.perf_counter()
        run_stack(stack)
        warm = time.perf_counter() - start
        print(f"{stack:5s} make plan (fresh process, median of {args.runs}): {statistics.median(times):5.2f} s   "
              f"in a warm process: {warm:5.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
