"""The entrypoint's housekeeping roles (docker/entrypoint.sh) against a stand-in `airflow` on PATH: db-clean hands
`airflow db clean` the cut-off its retention gives, without archiving; log-groomer deletes the component log files
past their retention and nothing newer; both refuse a retention that is not a whole number of days. The db-clean
command against a real database: tests/runtime/twin/test_housekeeping.py."""

from __future__ import annotations

import datetime
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.sh"


def _run(tmp_path: Path, role: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "airflow"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> {shlex.quote(str(calls))}\nexit 0\n')
    fake.chmod(0o755)
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    done = subprocess.run(["bash", str(ENTRYPOINT), role], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{fake.parent}:/usr/bin:/bin", "HOME": str(tmp_path), **env})
    return done, calls.read_text().splitlines() if calls.exists() else []


def test_db_clean_deletes_what_started_before_the_retention_without_archiving(tmp_path):
    done, calls = _run(tmp_path, "db-clean", DB_CLEAN_RETENTION_DAYS="30")
    assert done.returncode == 0, done.stderr
    clean = [c for c in calls if c.startswith("db clean")]
    assert len(clean) == 1 and calls.index(clean[0]) == len(calls) - 1  # after the database and migration checks
    args = clean[0].split()
    before = datetime.datetime.fromisoformat(args[args.index("--clean-before-timestamp") + 1])
    expected = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)
    assert before.tzinfo is not None and abs((before - expected).total_seconds()) < 60
    assert "--skip-archive" in args and "--yes" in args
    assert any(c.startswith("db check-migrations") for c in calls)


@pytest.mark.parametrize("role, variable", [("db-clean", "DB_CLEAN_RETENTION_DAYS"), ("log-groomer", "LOG_RETENTION_DAYS")])
@pytest.mark.parametrize("value", ["", "0", "7.5", "seven"])
def test_a_retention_that_is_not_whole_days_stops_the_role_before_it_deletes(tmp_path, role, variable, value):
    done, calls = _run(tmp_path, role, **{variable: value, "LOG_GROOMER_ONCE": "true", "AIRFLOW_HOME": str(tmp_path)})
    assert done.returncode == 2 and calls == []
    assert f"{variable} must be a whole number of days of at least 1 (got '{value}')" in done.stderr


def test_the_log_groomer_deletes_log_files_past_their_retention_only(tmp_path):
    logs = tmp_path / "logs"
    old_file = logs / "scheduler" / "2026-01-01" / "dag.py.log"
    recent_file = logs / "scheduler" / "latest" / "dag.py.log"
    stale_folder, fresh_folder = logs / "dag_processor" / "gone", logs / "dag_processor" / "new"
    for path in (old_file, recent_file):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("log line\n")
    stale_folder.mkdir(parents=True)
    fresh_folder.mkdir(parents=True)
    week_ago, two_hours_ago = time.time() - 8 * 86400, time.time() - 7200
    os.utime(old_file, (week_ago, week_ago))
    os.utime(recent_file, (time.time() - 6 * 86400,) * 2)
    os.utime(stale_folder, (two_hours_ago, two_hours_ago))
    done, calls = _run(tmp_path, "log-groomer", LOG_RETENTION_DAYS="7", LOG_GROOMER_ONCE="true", AIRFLOW_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert not old_file.exists() and recent_file.exists()
    assert not stale_folder.exists() and fresh_folder.exists()  # an empty folder goes after an hour, not at once
    assert (tmp_path / ".log-groomer").exists() and calls == []  # a pass is recorded; Airflow is never started
