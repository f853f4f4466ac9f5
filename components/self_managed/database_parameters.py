"""The metadata database's engine settings and the connection Airflow uses."""

from __future__ import annotations

from typing import Optional
from urllib.parse import quote

# The database, its user (PgBouncer's configuration names them too) and where the image carries the RDS authorities.
from k8s.spec import DATABASE_NAME, DATABASE_USER as MASTER_USERNAME, RDS_CA_BUNDLE  # noqa: F401 - re-exported

PORT = 5432
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


def parameter_group_family(postgres_version: str) -> str:
    return f"postgres{postgres_version}"


def parameters() -> dict[str, str]:
    """Clients must use TLS; slow statements and lock waits show in the PostgreSQL log."""
    return {
        "rds.force_ssl": "1",
        "log_min_duration_statement": "5000",
        "log_lock_waits": "1",
    }


def apply_immediately(*, protect: bool, configured: str, running: Optional[str]) -> bool:
    """Whether RDS applies the instance's changes now rather than in its maintenance window.

    A major upgrade replaces the parameter group (its family is the major version): Pulumi creates the new group,
    points the instance at it and deletes the old one. Left for the maintenance window, the instance still uses the
    old group and RDS refuses the delete (InvalidDBParameterGroupState). So a major upgrade applies at once; RDS
    snapshots the instance before it upgrades (when backups are on, which the config requires: "Upgrading a DB
    instance engine version", RDS user guide)."""
    major_upgrade = running is not None and running.split(".")[0] != configured
    return not protect or major_upgrade


def async_sqlalchemy_url(*, host: str, port: int, database: str, username: str, password: str) -> str:
    """Airflow 3's `sql_alchemy_conn_async` straight to the instance: asyncpg, whose TLS (verify-full against the RDS
    authorities) comes from its connect arguments (docker/airflow_async_connect.py RDS_TLS), not the URL."""
    return f"postgresql+asyncpg://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"


def sqlalchemy_url(
    *, host: str, port: int, database: str, username: str, password: str, ca_bundle: str = RDS_CA_BUNDLE
) -> str:
    """Airflow's `sql_alchemy_conn`: TLS that verifies the server's certificate against the RDS CAs and its name
    against the host (libpq's verify-full; `require` would encrypt but accept any server)."""
    return (
        f"postgresql+psycopg2://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"
        f"?sslmode=verify-full&sslrootcert={quote(ca_bundle, safe='/')}"
    )
