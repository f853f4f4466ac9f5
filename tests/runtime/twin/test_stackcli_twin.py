"""`airflow-stack` against the self-managed flavour's real Airflow: the twin. The CLI command runs as it would in
the scheduler pod (the scheduler container's command line and environment); `rest` goes to the twin's webserver
as the admin user."""

from __future__ import annotations

import json
import subprocess

import pytest

from stackcli.errors import StackCliError
from stackcli.kubernetes import KubernetesTarget
from tests.runtime.conftest import GREETING

pytestmark = pytest.mark.runtime


def _as_in_the_scheduler_pod(twin):
    """What `kubectl exec` does: the command, with the scheduler container's environment, no entrypoint."""
    _, env = twin.launched["scheduler-scheduler"]

    def run(command: list[str]) -> tuple[str, str, int]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        return done.stdout, done.stderr, done.returncode

    return run


@pytest.fixture(scope="module")
def target(twin):
    user, password = twin.admin
    return KubernetesTarget(_as_in_the_scheduler_pod(twin), webserver_url=f"http://127.0.0.1:{twin.web_port}",
                            username=user, password=password)


def test_cli_reads_the_variable_from_secrets_manager(target):
    result = target.run(["variables", "get", "greeting"])
    assert not result.failed, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == GREETING


def test_cli_json_output_passes_through_and_failures_exit_non_zero(target):
    listed = target.run(["dags", "list", "-o", "json"])
    assert not listed.failed and any(d["dag_id"] == "hello_secrets" for d in json.loads(listed.stdout))
    missing = target.run(["dags", "state", "no_such_dag", "2024-01-01"])
    assert missing.failed and missing.exit_status != 0


def test_rest_mode_talks_to_the_webserver_as_admin(target):
    status, body = target.rest("GET", "/dags", query={"limit": 5})
    assert status == 200 and any(d["dag_id"] == "hello_secrets" for d in body["dags"])
    status, _ = target.rest("GET", "/dags/no_such_dag")
    assert status == 404


def test_a_wrong_password_and_an_unreachable_webserver_are_clear(twin, target):
    wrong = KubernetesTarget(target.transport, webserver_url=target.webserver_url, username="admin", password="wrong")
    assert wrong.rest("GET", "/dags")[0] == 401
    nowhere = KubernetesTarget(target.transport, webserver_url="http://127.0.0.1:9", username="admin", password="x")
    with pytest.raises(StackCliError, match="port-forward"):
        nowhere.rest("GET", "/dags")
