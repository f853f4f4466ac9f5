"""The entrypoint's migrate role (docker/entrypoint.sh) against a stand-in `airflow` on PATH: a migration that
fails (PostgreSQL aborting it in a deadlock) is run again and the Job succeeds; one that keeps failing fails the Job
after MIGRATE_ATTEMPTS, saying so."""

from __future__ import annotations

import subprocess
from pathlib import Path

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.sh"


def _migrate(tmp_path: Path, failures: int, attempts: int = 3) -> tuple[subprocess.CompletedProcess, int]:
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "airflow"
    fake.parent.mkdir()
    # `airflow db check` answers; `airflow db migrate` fails `failures` times, then succeeds.
    fake.write_text(f"""#!/usr/bin/env bash
if [[ "$1 $2" == "db migrate" ]]; then
  echo x >> {calls}
  (( $(wc -l < {calls}) > {failures} )) || {{ echo "deadlock detected" >&2; exit 1; }}
fi
exit 0
""")
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:/usr/bin:/bin", "MIGRATE_ATTEMPTS": str(attempts), "MIGRATE_RETRY_SECONDS": "0", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(ENTRYPOINT), "migrate"], env=env, capture_output=True, text=True, timeout=120)
    return done, len(calls.read_text().split()) if calls.exists() else 0


def test_a_migration_aborted_by_a_deadlock_runs_again_and_the_job_succeeds(tmp_path):
    done, calls = _migrate(tmp_path, failures=2, attempts=3)
    assert done.returncode == 0, done.stderr
    assert calls == 3 and "attempt 2 of 3" in done.stderr


def test_a_migration_that_keeps_failing_fails_the_job_after_its_attempts(tmp_path):
    done, calls = _migrate(tmp_path, failures=9, attempts=2)
    assert done.returncode == 1 and calls == 2
    assert "failed 2 times" in done.stderr


def test_a_migrate_attempts_that_is_not_a_count_of_at_least_one_fails_the_job_without_migrating(tmp_path):
    # 0 would skip the loop and pass the Job with the database unmigrated.
    done, calls = _migrate(tmp_path, failures=0, attempts=0)
    assert done.returncode == 2 and calls == 0
    assert "MIGRATE_ATTEMPTS must be a whole number of at least 1 (got '0')" in done.stderr
