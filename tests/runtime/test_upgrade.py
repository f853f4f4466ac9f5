"""Every offered Airflow version in the twin, and the upgrade through them: start on the oldest (the 2.9 default)
with run history (several DAG runs, their task logs in the log bucket, the Variable from Secrets Manager), then
upgrade to each newer offered version (2.11, the bridge, then 3.x) as a deployment does: a snapshot of the database,
the migration Job on the new image while the old components still run, the components rolled. After each step every
earlier run, task instance and log is still there, a new run succeeds, health is green, and `airflow-stack` (REST
v1 on 2.x; v2 with a token from /auth/token on 3.x; the CLI as in the scheduler pod) works.

Each migration's duration is printed (a figure, not an assertion)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import boto3
import pytest

from local.twin import Twin, free_port
from stackcli.errors import StackCliError
from stackcli.kubernetes import KubernetesTarget
from stackconfig import limits
from stackconfig.project_files import offered_image_versions
from stackconfig.upgrades import bridge_version
from tests.runtime.conftest import GREETING

pytestmark = pytest.mark.runtime
DAG = "hello_secrets"
TASKS = {"read_greeting", "announce"}
RUNS_BEFORE = 3


def upgrade_path() -> list[str]:
    """Every offered version, oldest first: the 2.9 default, the 2.11 bridge, then 3.x (the supported path)."""
    return offered_image_versions()


def _target(twin: Twin) -> KubernetesTarget:
    _, env = twin.launched["scheduler-scheduler"]

    def in_scheduler_pod(command: list[str]) -> tuple[str, str, int]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        return done.stdout, done.stderr, done.returncode

    user, password = twin.admin
    return KubernetesTarget(in_scheduler_pod, webserver_url=f"http://127.0.0.1:{twin.web_port}", username=user,
                            password=password, airflow_version=twin.version)


# A GET or PATCH that timed out is asked again until then: on CI's two cores this twin's two webservers (a password
# hash per REST call on 2.x) share the CPU with the package twin's load and faults, and one call has waited past
# the client's 60 s while both twins started. An answer, once given, is asserted as it is.
PATIENCE_SECONDS = 240


def _rest(target: KubernetesTarget, method: str, path: str, body=None, query=None) -> tuple[int, object]:
    deadline = time.time() + PATIENCE_SECONDS
    while True:
        try:
            return target.rest(method, path, body=body, query=query)
        except StackCliError as err:
            if method == "POST" or "timed out" not in str(err) or time.time() > deadline:
                raise


def _ok(target: KubernetesTarget, method: str, path: str, body=None, query=None):
    status, answer = _rest(target, method, path, body=body, query=query)
    assert status < 400, (method, path, status, answer)
    return answer


def _trigger(target: KubernetesTarget, run_id: str, body: dict) -> None:
    """POST the run; after a POST that timed out (it may have been made all the same), the run is looked for, and
    posted again if it is not there (409: it was made meanwhile)."""
    deadline, retried = time.time() + PATIENCE_SECONDS, False
    while True:
        try:
            status, answer = target.rest("POST", f"/dags/{DAG}/dagRuns", body=body)
        except StackCliError as err:
            if "timed out" not in str(err) or time.time() > deadline:
                raise
            time.sleep(5)
            if _rest(target, "GET", f"/dags/{DAG}/dagRuns/{run_id}")[0] == 200:
                return
            retried = True
            continue
        assert status < 400 or retried and status == 409, ("POST", run_id, status, answer)
        return


def _run_dag(target: KubernetesTarget, run_id: str) -> str:
    deadline = time.time() + 180
    while True:  # the DAG processor serialises the synced DAG first
        status, _ = _rest(target, "GET", f"/dags/{DAG}")
        if status == 200:
            break
        assert time.time() < deadline, f"{DAG} was not parsed"
        time.sleep(2)
    _ok(target, "PATCH", f"/dags/{DAG}", {"is_paused": False})
    body = {"dag_run_id": run_id, **({"logical_date": None} if target.airflow3 else {})}
    _trigger(target, run_id, body)
    deadline = time.time() + 300
    state = "queued"
    while time.time() < deadline and state not in ("success", "failed"):
        time.sleep(2)
        state = _ok(target, "GET", f"/dags/{DAG}/dagRuns/{run_id}")["state"]
    return state


def _history(twin: Twin, target: KubernetesTarget) -> dict:
    """What the running Airflow shows of every run, and what the log bucket holds."""
    runs = {r["dag_run_id"]: r["state"] for r in _ok(target, "GET", f"/dags/{DAG}/dagRuns", query={"limit": 100})["dag_runs"]}
    tasks = {
        run: {t["task_id"]: t["state"] for t in _ok(target, "GET", f"/dags/{DAG}/dagRuns/{run}/taskInstances")["task_instances"]}
        for run in runs
    }
    return {"runs": runs, "tasks": tasks, "log_keys": _history_keys(twin)}


def _wait_for_task_logs(twin: Twin, runs: list[str], timeout: float = 60) -> None:
    """A run is done when its last task is; that task's worker uploads its log as it exits (Airflow 3: after the
    task's state is sent), so the log bucket may trail the run's state by a moment."""
    wanted = {(run, task) for run in runs for task in TASKS}
    deadline = time.time() + timeout
    while time.time() < deadline:
        keys = _history_keys(twin)
        if all(any(f"run_id={run}/task_id={task}/" in key for key in keys) for run, task in wanted):
            return
        time.sleep(1)


def _history_keys(twin: Twin) -> set[str]:
    s3 = boto3.client("s3", endpoint_url=twin.aws_endpoint, region_name=twin.spec.region,
                      aws_access_key_id="twin", aws_secret_access_key="twin")
    return {o["Key"] for o in s3.list_objects_v2(Bucket=twin.spec.log_bucket).get("Contents", [])}


def _served_log(target: KubernetesTarget, run_id: str, task: str) -> str:
    return json.dumps(_ok(target, "GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task}/logs/1"))


@pytest.fixture(scope="module")
def journey(tmp_path_factory, image_envs):
    """The twin through the upgrade path; what was seen at each version."""
    path = upgrade_path()
    # Two schedulers, as prod runs: the migration runs while they are live (a 2.11 -> 3.3 migration deadlocked
    # against two, which the migrate role's retries carry); one webserver and triggerer, as the dev stack, since the
    # twin stops every old component before starting the new and more would only cost CI's two cores.
    twin = Twin(tmp_path_factory.mktemp("upgrade"), image_envs[path[0]], web_port=free_port(), stack="dev",
                variables={"greeting": GREETING}, airflow_version=path[0], scheduler_replicas=2)
    seen: dict[str, dict] = {}
    try:
        twin.start()
        for step, version in enumerate(path):
            if step:
                snapshot, seconds = twin.upgrade(version, image_envs[version])
                print(f"\nmigration {path[step - 1]} -> {version}: {seconds:.1f} s (snapshot {snapshot.name}, "
                      f"{snapshot.stat().st_size / 1e6:.1f} MB)")
            target = _target(twin)
            before = _history(twin, target)
            new_runs = [f"v{version}-run-{i}" for i in range(RUNS_BEFORE if step == 0 else 1)]
            states = {run: _run_dag(target, run) for run in new_runs}
            _wait_for_task_logs(twin, new_runs)
            variable = target.run(["variables", "get", "greeting"])
            seen[version] = {
                "before": before,
                "new_runs": states,
                "after": _history(twin, target),
                "health": json.loads(urllib.request.urlopen(twin.health_url).read()),
                "variable": variable.stdout.strip().splitlines()[-1] if not variable.failed else variable.stderr[-2000:],
                "logs": {run: _served_log(target, run, "read_greeting") for run in before["runs"]},
                "rest": _rest(target, "GET", "/dags", query={"limit": 5}),
            }
        yield twin, path, seen
    finally:
        twin.stop()


def test_the_path_starts_at_the_default_and_crosses_the_bridge_to_3x():
    path = upgrade_path()
    assert path[0] == limits.DEFAULT_AIRFLOW_VERSION["self-managed"]
    assert bridge_version("self-managed") in path and path[-1].startswith("3.")
    assert path.index(bridge_version("self-managed")) < path.index(path[-1])


def test_each_version_runs_the_sample_dag_end_to_end(journey):
    _, path, seen = journey
    for version in path:
        step = seen[version]
        assert set(step["new_runs"].values()) == {"success"}, (version, step["new_runs"])
        assert step["variable"] == GREETING, version  # the Variable from Secrets Manager, through the CLI
        for run in step["new_runs"]:
            assert step["after"]["tasks"][run] == {task: "success" for task in TASKS}
            for task in TASKS:
                assert any(f"run_id={run}/task_id={task}/" in key for key in step["after"]["log_keys"]), (version, run, task)
        health = step["health"]
        components = ["metadatabase", "scheduler", "triggerer", *(["dag_processor"] if version.startswith("3.") else [])]
        assert all(health[c]["status"] == "healthy" for c in components), (version, health)


def test_every_earlier_run_task_and_log_survives_each_upgrade(journey):
    _, path, seen = journey
    for previous, version in zip(path, path[1:]):
        kept, now = seen[previous]["after"], seen[version]["before"]
        assert now["runs"] == kept["runs"], version
        assert now["tasks"] == kept["tasks"], version
        for run in kept["runs"]:
            # The new version's UI serves the task log an older version wrote: the Variable's value is in it.
            assert f"greeting: {GREETING}" in seen[version]["logs"][run], (version, run)


def test_each_upgrade_snapshots_the_database_with_the_history_first(journey):
    twin, path, _ = journey
    assert [(old, new) for old, new, _, _ in twin.upgrades] == list(zip(path, path[1:]))
    for old, new, snapshot, _seconds in twin.upgrades:
        assert snapshot.name.startswith(f"airflow-dev-metadata-airflow-{old.replace('.', '-')}-to-{new.replace('.', '-')}-")
        dump = snapshot.read_text()
        # The history the upgrade must not lose is in the backup: every run made before it.
        before = [run for version in path[: path.index(new)] for run in journey[2][version]["new_runs"]]
        assert before and all(run in dump for run in before), (old, new)


def test_airflow_stack_rest_uses_each_versions_api(journey):
    _, path, seen = journey
    for version in path:
        status, body = seen[version]["rest"]
        assert status == 200 and any(d["dag_id"] == DAG for d in body["dags"]), version
