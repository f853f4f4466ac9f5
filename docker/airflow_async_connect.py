"""Connect arguments for Airflow 3's async engine (asyncpg), named by `[database] sql_alchemy_connect_args_async`
(k8s/environment.py). The image installs this module beside Airflow.

asyncpg prepares named statements and caches them per connection. Behind PgBouncer's transaction pooling (1.18,
Debian's, tracks no prepared statements) the next transaction may run on another server connection, where the
name is unknown or names another client's statement; so no cache, and a name of its own for each statement
(SQLAlchemy's asyncpg dialect, "Prepared Statement Name with PGBouncer"). Straight to RDS, asyncpg takes no libpq
`sslmode`: its TLS is a context that verifies RDS's certificate and host name against the image's RDS authorities.
"""

from __future__ import annotations

import ssl
import uuid

RDS_CA_BUNDLE = "/opt/image/rds-global-bundle.pem"

PGBOUNCER = {
    "statement_cache_size": 0,
    "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
}


def _verified_tls() -> ssl.SSLContext:
    # check_hostname and CERT_REQUIRED, as libpq's verify-full.
    return ssl.create_default_context(cafile=RDS_CA_BUNDLE)


def __getattr__(name: str):
    """RDS_TLS is made when Airflow imports it, in a pod, where the image's bundle is."""
    if name == "RDS_TLS":
        return {"ssl": _verified_tls()}
    raise AttributeError(name)
