"""The twin these tests share: the prod stack's Airflow with its replicas (two schedulers, webservers and
triggerers), single sign-on through a local OpenID Connect provider, the fault DAGs beside the project's, up once for the package (about two minutes) and stopped when the
package's tests are done (under `make test` the other worker runs the other tests meanwhile)."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import GREETING


@pytest.fixture(scope="package")
def oidc_provider(tmp_path_factory, oidc_provider_bin):
    """The organization's OpenID Connect provider, on loopback (local/oidc_provider.py)."""
    from local.oidc_provider import OidcProvider
    from local.twin import free_port

    provider = OidcProvider(oidc_provider_bin, free_port(), tmp_path_factory.mktemp("oidc") / "provider.log")
    try:
        yield provider.start()
    finally:
        provider.stop()


@pytest.fixture(scope="package")
def twin(tmp_path_factory, image_env_bin, oidc_provider):
    from local.chaos import FAULT_DAGS
    from local.load import load_dags
    from local.twin import Twin, free_port

    running = Twin(tmp_path_factory.mktemp("twin"), image_env_bin, web_port=free_port(), stack="prod",
                   variables={"greeting": GREETING}, extra_dags={**FAULT_DAGS, **load_dags(LOAD_FILES, LOAD_TASKS)},
                   sso_issuer=oidc_provider.issuer)
    try:
        yield running.start()
    finally:
        running.stop()


# The load run in the tests (make load runs 200 runs over 50 files): small enough for CI, the same code.
LOAD_FILES, LOAD_TASKS, LOAD_RUNS = 4, 3, 8
