"""PgBouncer on this machine, between the twin's Airflow and its PostgreSQL, as k8s/pgbouncer.py puts it between
the pods and RDS: Debian's program (the image's), the configuration the stack renders, with what differs here
swapped in: loopback addresses and ports, a server without TLS, the auth file's folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from k8s import pgbouncer
from local import processes
from k8s.spec import AirflowSpec


def program() -> str:
    found = shutil.which("pgbouncer") or (pgbouncer.PROGRAM if Path(pgbouncer.PROGRAM).exists() else None)
    if found is None:
        raise RuntimeError("the twin runs PgBouncer as the cluster does: install it (Debian or Ubuntu: "
                           "apt-get install pgbouncer, which `make test` does as root; macOS: brew install pgbouncer)")
    return found


class LocalPgBouncer:
    """`start` renders the stack's pgbouncer.ini for `server_port` and runs it; `port` is where clients connect. As
    root it runs as an unprivileged user (PgBouncer refuses root: local/processes.py)."""

    def __init__(self, spec: AirflowSpec, *, server_port: int, port: int, username: str, password: str,
                 server_host: str = "127.0.0.1", tls: str = "disable", ca_file: Path | None = None):
        self.spec, self.server_port, self.port = spec, server_port, port
        self.username, self.password = username, password
        self.owner = processes.unprivileged_user()
        self.as_user = processes.run_as(self.owner)
        # The server's name and TLS: the twin's server has none; a test's server with certificates has.
        self.server_host, self.tls, self.ca_file = server_host, tls, ca_file
        # Its own folder, readable by the user it runs as (test folders are private to their owner).
        self.folder = Path(tempfile.mkdtemp(prefix="twin-pgbouncer-"))
        self.folder.chmod(0o755)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return pgbouncer.pooled_url(self.spec, self.username, self.password, host="127.0.0.1", port=self.port)

    @property
    def async_url(self) -> str:
        return pgbouncer.pooled_url(self.spec, self.username, self.password, host="127.0.0.1", port=self.port,
                                    asynchronous=True)

    def start(self, log: Path) -> subprocess.Popen:
        users = self.folder / "users.txt"
        users.write_text(pgbouncer.users_file(self.username, self.password))
        users.chmod(0o600)  # the password: for PgBouncer's user only
        if self.owner:
            shutil.chown(users, self.owner)
        authorities = {}
        if self.ca_file is not None:  # where PgBouncer's user can read it
            shutil.copy(self.ca_file, self.folder / "ca.pem")
            (self.folder / "ca.pem").chmod(0o644)
            authorities = {"ca_file": str(self.folder / "ca.pem")}
        ini = self.folder / "pgbouncer.ini"
        ini.write_text(pgbouncer.config(self.spec, database_host=self.server_host, database_port=self.server_port,
                                        listen_addr="127.0.0.1", listen_port=self.port, tls=self.tls,
                                        users_file_path=str(users), user=self.username, **authorities))
        ini.chmod(0o644)
        self.process = subprocess.Popen([*self.as_user, program(), str(ini)], stdout=open(log, "ab"),
                                        stderr=subprocess.STDOUT, start_new_session=True)
        from local.twin import wait_until  # local.twin runs this module

        wait_until(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() or True, 30,
                   f"PgBouncer did not come up; see {log}")
        return self.process

    def stop(self) -> None:
        processes.stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)
