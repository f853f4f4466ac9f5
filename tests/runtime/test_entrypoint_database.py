"""The entrypoint's wait for the database (docker/entrypoint.sh) with the image's own SQLAlchemy and psycopg2,
against a server that takes the TCP connection and never answers (an RDS failover under way, a black-holed
route): each try gives up after libpq's connect_timeout, so the wait ends at its deadline with the error instead
of hanging past it."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.sh"

pytestmark = pytest.mark.runtime


def test_a_database_that_never_answers_fails_the_wait_at_its_deadline(tmp_path, image_env_bin):
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:  # listens, never accepts nor answers
        port = silent.getsockname()[1]
        fake = tmp_path / "bin" / "airflow"
        fake.parent.mkdir()
        fake.write_text("#!/usr/bin/env bash\nexit 0\n")  # never reached: the wait fails first
        fake.chmod(0o755)
        env = {"PATH": f"{fake.parent}:{image_env_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "DB_WAIT_SECONDS": "1",
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow?sslmode=prefer"}
        began = time.monotonic()
        done = subprocess.run(["bash", str(ENTRYPOINT), "migrate"], env=env, capture_output=True, text=True, timeout=90)
        took = time.monotonic() - began
    assert done.returncode == 1, done.stderr
    assert "did not answer within 1s" in done.stderr and "timeout expired" in done.stderr, done.stderr
    assert took < 60, took  # two tries of 10 s each, not an endless wait
