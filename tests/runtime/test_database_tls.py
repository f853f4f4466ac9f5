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
