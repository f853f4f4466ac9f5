"""The metadata database's engine settings and the connection Airflow uses."""

from __future__ import annotations

from urllib.parse import quote

DATABASE_NAME = "airflow"
MASTER_USERNAME = "airflow"
PORT = 5432


def parameter_group_family(postgres_version: str) -> str:
    return f"postgres{postgres_version}"


def parameters() -> dict[str, str]:
    """Clients must use TLS; slow statements and lock waits show in the PostgreSQL log."""
    return {
        "rds.force_ssl": "1",
        "log_min_duration_statement": "5000",
        "log_lock_waits": "1",
    }


def sqlalchemy_url(*, host: str, port: int, database: str, username: str, password: str) -> str:
    """Airflow's `sql_alchemy_conn`, requiring TLS as the server does."""
    return (
        f"postgresql+psycopg2://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"
        "?sslmode=require"
    )
