"""The twin these tests share: the prod stack's Airflow with its replicas (two schedulers, webservers and
triggerers), the fault DAGs beside the project's, up once for the package (about two minutes) and stopped when the
package's tests are done (under `make test` the other worker runs the other tests meanwhile)."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import GREETING


@pytest.fixture(scope="package")
def twin(tmp_path_factory, image_env_bin):
    from local.chaos import FAULT_DAGS
    from local.load import load_dags
    from local.twin import Twin, free_port

    running = Twin(tmp_path_factory.mktemp("twin"), image_env_bin, web_port=free_port(), stack="prod",
                   variables={"greeting": GREETING}, extra_dags={**FAULT_DAGS, **load_dags(LOAD_FILES, LOAD_TASKS)})
    try:
        yield running.start()
    finally:
        running.stop()


# The load run in the tests (make load runs 200 runs over 50 files): small enough for CI, the same code.
LOAD_FILES, LOAD_TASKS, LOAD_RUNS = 4, 3, 8
