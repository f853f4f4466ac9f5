"""The load run (`make load`, smaller): runs of several DAG files at once, each task a worker pod, on the package's
twin with two schedulers; every run completes and no task is lost."""

from __future__ import annotations

import pytest

from local.load import run_load
from tests.runtime.twin.conftest import LOAD_FILES, LOAD_RUNS, LOAD_TASKS

pytestmark = pytest.mark.runtime


def test_runs_at_the_workers_parallelism_complete_and_no_task_is_lost(twin):
    result = run_load(twin, LOAD_RUNS, LOAD_FILES, timeout=900)
    print("\n".join(result.lines(LOAD_FILES, LOAD_TASKS)))
    assert result.completed == LOAD_RUNS and result.failed == 0 and result.unfinished == 0
    assert result.tasks == LOAD_RUNS * LOAD_TASKS and result.lost == 0
    # Queued to running is measured for every task, and the p95 is not below the p50.
    assert result.latency_p95 >= result.latency_p50 > 0
    assert result.parallelism == 2 * 4
