"""The metadata database URL verifies the server: run against a real PostgreSQL with TLS and certificates made
here, through the image's own SQLAlchemy and psycopg2. verify-full connects only to a server whose certificate
chains to the given CAs and names the host; the former `sslmode=require` connected to an impostor as well."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from components.self_managed.database_parameters import sqlalchemy_url

pytestmark = pytest.mark.runtime

CONNECT = """
import sys, sqlalchemy
engine = sqlalchemy.create_engine(sys.argv[1])
with engine.connect() as connection:
    print(connection.execute(sqlalchemy.text("select ssl from pg_stat_ssl where pid = pg_backend_pid()")).scalar())
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _authority(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=folder)


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory):
    from local.twin import LocalPostgres

    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test's certificates")
    certs = tmp_path_factory.mktemp("certs")
    _authority(certs, "test-ca")
    _authority(certs, "impostor-ca")
    # The server's certificate, signed by test-ca, for the name "localhost" only.
    (certs / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=certs)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "test-ca.pem", "-CAkey", "test-ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=certs)
    server = LocalPostgres(certs)
    # The server reads its key as its own user, and only from a file no one else may read.
    served = server.data.parent
    for name in ("server.pem", "server.key"):
        shutil.copy(certs / name, served / name)
        if server.as_postgres:
            shutil.chown(served / name, "postgres", "postgres")
        (served / name).chmod(0o600)
    server.start(f"-c ssl=on -c ssl_cert_file={served / 'server.pem'} -c ssl_key_file={served / 'server.key'}")
    try:
        yield server.port, certs
    finally:
        server.stop()


def _connect(python: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-c", CONNECT, url], capture_output=True, text=True, timeout=60)


def _url(port: int, ca: Path, host: str = "localhost") -> str:
    return sqlalchemy_url(host=host, port=port, database="airflow", username="postgres", password="unused", ca_bundle=str(ca))


def test_the_url_connects_over_tls_to_the_server_its_cas_vouch_for(tls_postgres, image_env_bin):
    port, certs = tls_postgres
    result = _connect(image_env_bin / "python", _url(port, certs / "test-ca.pem"))
    assert result.returncode == 0, result.stderr[-800:]
    assert result.stdout.strip() == "True"  # the session is encrypted


def test_the_url_refuses_a_server_whose_certificate_other_cas_signed(tls_postgres, image_env_bin):
    port, certs = tls_postgres
    result = _connect(image_env_bin / "python", _url(port, certs / "impostor-ca.pem"))
    assert result.returncode != 0 and "certificate verify failed" in result.stderr


def test_the_url_refuses_a_certificate_for_another_name(tls_postgres, image_env_bin):
    port, certs = tls_postgres
    result = _connect(image_env_bin / "python", _url(port, certs / "test-ca.pem", host="127.0.0.1"))
    assert result.returncode != 0 and "does not match host name" in result.stderr


def test_the_former_url_accepted_a_server_no_ca_vouched_for(tls_postgres, image_env_bin, tmp_path):
    """Why verify-full: the former `?sslmode=require`, with no CA file (libpq then checks nothing), connected to a
    server whose certificate no CA the client knows had signed."""
    port, _ = tls_postgres
    url = f"postgresql+psycopg2://postgres:unused@localhost:{port}/airflow?sslmode=require"
    result = subprocess.run([str(image_env_bin / "python"), "-c", CONNECT, url], capture_output=True, text=True,
                            timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-800:]


# ------------------------------------------------------------------ PgBouncer's way to the server (k8s/pgbouncer.py)
def _through_pgbouncer(tls_postgres, image_env_bin, log: Path, ca: str, host: str = "localhost") -> tuple[str | None, str]:
    """A query through Debian's PgBouncer with the stack's pgbouncer.ini (verify-full), to the TLS server: what the
    query printed (None: no answer within 20 s: PgBouncer holds the client while it cannot log in to the server),
    and PgBouncer's log."""
    from k8s.spec import AirflowSpec
    from local.pgbouncer import LocalPgBouncer
    from local.twin import free_port

    port, certs = tls_postgres
    spec = AirflowSpec(environment="tls", namespace="airflow", image="i", region="eu-west-1", dag_bucket="d",
                       log_bucket="l", role_arns={}, secrets_backend={})
    pooler = LocalPgBouncer(spec, server_port=port, port=free_port(), username="postgres", password="a-password",
                            server_host=host, tls="verify-full", ca_file=certs / ca)
    try:
        pooler.start(log)
        try:
            done = subprocess.run([str(image_env_bin / "python"), "-c", CONNECT, pooler.url], capture_output=True,
                                  text=True, timeout=20)
            answer = done.stdout.strip() if done.returncode == 0 else None
        except subprocess.TimeoutExpired:
            answer = None
    finally:
        pooler.stop()
    return answer, log.read_text()


def test_pgbouncer_reaches_the_server_over_tls_its_cas_vouch_for(tls_postgres, image_env_bin, tmp_path):
    answer, log = _through_pgbouncer(tls_postgres, image_env_bin, tmp_path / "pgbouncer.log", "test-ca.pem")
    assert answer == "True", log[-1500:]  # PgBouncer's session with the server is encrypted


def test_pgbouncer_refuses_a_server_whose_certificate_other_cas_signed(tls_postgres, image_env_bin, tmp_path):
    answer, log = _through_pgbouncer(tls_postgres, image_env_bin, tmp_path / "pgbouncer.log", "impostor-ca.pem")
    assert answer is None and "certificate verify failed" in log, log[-1500:]


def test_pgbouncer_refuses_a_certificate_for_another_name(tls_postgres, image_env_bin, tmp_path):
    answer, log = _through_pgbouncer(tls_postgres, image_env_bin, tmp_path / "pgbouncer.log", "test-ca.pem", host="127.0.0.1")
    assert answer is None and "name `127.0.0.1' not present in server certificate" in log, log[-1500:]
