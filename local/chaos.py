"""`make chaos`: faults on the twin (the prod stack's replicas: two schedulers, webservers and triggerers), and what
Airflow did about them. Each fault prints what it did and what it saw; the command exits 1 unless every fault was
survived: the runs complete, no task is lost, and no task ran more often than its retries allow.

- database: PostgreSQL away for --outage seconds (90 by default; an RDS Multi-AZ failover takes 60-120 s) while a
  task runs;
- scheduler: the scheduler that launched a running task is SIGKILLed and held down (its node lost) until the run
  completes: the other replica carries the run; then it comes back;
- worker: the task's own process in its worker pod SIGKILLed mid-task (as the kernel's OOM killer does);
- s3: S3 unreachable for --s3-outage seconds: the sidecars keep the last good DAG folder; a worker pod that cannot
  sync fails its try and the retry succeeds once S3 is back;
- secrets: Secrets Manager unreachable: the task fails naming the secrets backend, and succeeds on retry;
- import-error: a broken DAG file pushed while a run is under way: the run completes, the error is listed by the API;
- dag-edit: how long an edited DAG file takes from the bucket to the scheduler's parse.

The tests (tests/runtime/twin/test_faults.py) run the same functions.

    make chaos [OUTAGE=90] [FAULTS=database,scheduler,...]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from local.twin import Twin, free_port, wait_until
from stackcli.kubernetes import KubernetesTarget
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR as PROJECT

RETRIES = 2
# The DAGs the faults hit, delivered beside the project's: a task still running when the fault lands (the sample
# DAG's take seconds; a minute outlasts the twin's orphan check) with a task after it, a task reading a Secrets
# Manager Variable, and a quick task; each with retries.
FAULT_DAGS = {"fault_dags.py": f'''
from datetime import datetime, timedelta
import time

from airflow.decorators import dag, task
from airflow.models import Variable

COMMON = dict(start_date=datetime(2024, 1, 1), schedule=None, catchup=False)


@dag(dag_id="fault_long", default_args={{"retries": {RETRIES}, "retry_delay": timedelta(seconds=10)}}, **COMMON)
def fault_long():
    @task
    def work():
        time.sleep(60)

    @task
    def after():
        return "done"

    work() >> after()


@dag(dag_id="fault_secret", default_args={{"retries": {RETRIES}, "retry_delay": timedelta(seconds=10)}}, **COMMON)
def fault_secret():
    @task
    def read_greeting():
        return Variable.get("greeting")

    read_greeting()


@dag(dag_id="fault_quick", default_args={{"retries": {RETRIES + 1}, "retry_delay": timedelta(seconds=20)}}, **COMMON)
def fault_quick():
    @task
    def quick():
        return "done"

    quick()


fault_long()
fault_secret()
fault_quick()
'''}
BROKEN_MESSAGE = "fault: a DAG file that does not import"
BROKEN_DAG = f"from airflow import DAG\n\nraise ImportError({BROKEN_MESSAGE!r})\n"


@dataclass
class Finding:
    fault: str
    survived: bool
    saw: str
    facts: dict = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.fault}: {'survived' if self.survived else 'NOT survived'}: {self.saw}"


# ------------------------------------------------------------------ what Airflow says, through its REST API
def target(twin: Twin) -> KubernetesTarget:
    user, password = twin.admin
    return KubernetesTarget(lambda argv: ("", "", 1), webserver_url=f"http://127.0.0.1:{twin.web_port}", username=user,
                            password=password, airflow_version=twin.version, timeout=10)


def rest(twin: Twin, method: str, path: str, body=None):
    """The REST API's answer, or None while it cannot answer (its database away, no webserver ready)."""
    try:
        status, answer = target(twin).rest(method, path, body=body)
    except Exception:  # noqa: BLE001 - unreachable counts as no answer
        return None
    return answer if status < 400 else None


def unpause(twin: Twin, dag_id: str, timeout: float = 240) -> None:
    """Unpaused, as the API says back: a PATCH that got no answer (a webserver busy or restarting) is sent again. A
    DAG left paused keeps its runs queued forever, which a load run would count as unfinished."""
    wait_until(lambda: (rest(twin, "PATCH", f"/dags/{dag_id}", {"is_paused": False}) or {}).get("is_paused") is False,
               timeout, f"{dag_id} could not be unpaused", every=2)


def trigger(twin: Twin, dag_id: str, run_id: str) -> None:
    wait_until(lambda: rest(twin, "GET", f"/dags/{dag_id}"), 240, f"{dag_id} was not parsed", every=2)
    unpause(twin, dag_id)
    body = {"dag_run_id": run_id, **({"logical_date": None} if twin.spec.airflow3 else {})}
    if rest(twin, "POST", f"/dags/{dag_id}/dagRuns", body) is None:
        raise RuntimeError(f"could not trigger {dag_id} {run_id}")


def task_instances(twin: Twin, dag_id: str, run_id: str) -> dict[str, dict]:
    answer = rest(twin, "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances") or {"task_instances": []}
    return {t["task_id"]: t for t in answer["task_instances"]}


def wait_for_state(twin: Twin, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float = 240) -> dict:
    return wait_until(lambda: (lambda t: t if t and t.get("state") in states else None)(
        task_instances(twin, dag_id, run_id).get(task_id)), timeout, f"{dag_id}.{task_id} was not {sorted(states)}", 0.5)


def run_state(twin: Twin, dag_id: str, run_id: str, timeout: float = 600) -> str:
    def finished():
        answer = rest(twin, "GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return answer["state"] if answer and answer["state"] in ("success", "failed") else None
    try:
        return wait_until(finished, timeout, f"{dag_id} {run_id} did not finish", 2)
    except TimeoutError:
        return "unfinished"


def tries(twin: Twin, dag_id: str, run_id: str) -> dict[str, int]:
    return {task: ti["try_number"] for task, ti in task_instances(twin, dag_id, run_id).items()}


def within_retries(counted: dict[str, int], retries: int = RETRIES) -> bool:
    return bool(counted) and all(1 <= n <= retries + 1 for n in counted.values())


def task_log(twin: Twin, dag_id: str, run_id: str, task_id: str, try_number: int, timeout: float = 120) -> str:
    """A try's log as the UI shows it (the webserver reads it from the log bucket). Asked again while the API gives
    no answer: a webserver busy with other faults' runs may take longer than a request's 10 s, and a log not
    fetched is not a log that says nothing."""
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
    try:
        return json.dumps(wait_until(lambda: rest(twin, "GET", path), timeout, f"no log of {path}", every=2))
    except TimeoutError:
        return ""


# ------------------------------------------------------------------ what the twin's pods say
def pod_records(twin: Twin, dag_id: str, run_id: str, task_id: str) -> list[tuple[Path, dict]]:
    """The worker pods of a task (oldest first), with the label of the scheduler that created or adopted each."""
    found = []
    for record in sorted((twin.work / "pods").glob("*.record"), key=lambda p: p.stat().st_mtime):
        label = json.loads(record.read_text())
        if (label["key"]["dag_id"], label["key"]["run_id"], label["key"]["task_id"]) == (dag_id, run_id, task_id):
            found.append((record.with_suffix(""), label))
    return found


def scheduler_container(twin: Twin, pgid: int) -> str:
    return next(label for label, c in twin.kubelet.containers.items()
                if label.endswith("-scheduler") and c.process is not None and c.process.pid == pgid)


def restarts(twin: Twin) -> dict[str, int]:
    return {label: c.restarts for label, c in twin.kubelet.containers.items() if c.restarts}


def _run_id(fault: str) -> str:
    return f"{fault}-{int(time.time() * 1000)}"


# ------------------------------------------------------------------ the faults
def database_outage(twin: Twin, outage: float = 90) -> Finding:
    run_id = _run_id("database")
    trigger(twin, "fault_long", run_id)
    wait_for_state(twin, "fault_long", run_id, "work", {"running"})
    before = restarts(twin)
    twin.postgres.pause()
    time.sleep(outage)
    twin.postgres.resume()
    back = time.monotonic()
    state = run_state(twin, "fault_long", run_id)
    recovered = time.monotonic() - back
    counted = tries(twin, "fault_long", run_id)
    restarted = {k: v - before.get(k, 0) for k, v in restarts(twin).items() if v - before.get(k, 0)}
    return Finding("database", state == "success" and within_retries(counted),
                   f"PostgreSQL stopped {outage:.0f} s while fault_long.work ran; run {state} {recovered:.0f} s after it "
                   f"returned; tries {counted}; restarted by the kubelet: {restarted or 'none'}",
                   {"state": state, "tries": counted, "restarted": restarted, "recovered_seconds": recovered})


def scheduler_lost(twin: Twin) -> Finding:
    if twin.replicas("scheduler") < 2:
        raise ValueError("the scheduler fault needs two scheduler replicas (the prod stack's)")
    run_id = _run_id("scheduler")
    trigger(twin, "fault_long", run_id)
    wait_for_state(twin, "fault_long", run_id, "work", {"running"})
    _, label = pod_records(twin, "fault_long", run_id, "work")[-1]
    lost = scheduler_container(twin, label["scheduler_pgid"])
    host = lost[: -len("-scheduler")]  # the pod's name: its hostname (local/hostname.py)
    twin.kubelet.hold(lost)
    try:
        state = run_state(twin, "fault_long", run_id)
        counted = tries(twin, "fault_long", run_id)
        after = pod_records(twin, "fault_long", run_id, "after")
        carried_by = {str(lab["scheduler_job_id"]) for _, lab in after}
        # The running task's pod, relabelled by the scheduler that adopted it (the KubernetesExecutor's adoption).
        adopted_by = str(pod_records(twin, "fault_long", run_id, "work")[-1][1]["scheduler_job_id"])
    finally:
        released = time.time()
        twin.kubelet.release(lost)
    # Back means a new scheduler job of that pod heartbeating, not only a process: its probes see its own job only.
    # (A job's row starts with latest_heartbeat = its start; a later one is a heartbeat.)
    came_back = wait_until(lambda: twin.postgres.query(
        "SELECT id FROM job WHERE job_type = 'SchedulerJob' AND state = 'running' AND hostname = "
        f"'{host}' AND start_date > to_timestamp({released}) AND latest_heartbeat > start_date + interval '1 second'"),
        240, f"{lost} did not heartbeat again", every=2)
    other = str(label["scheduler_job_id"]) not in carried_by and bool(after)
    adopted = adopted_by != str(label["scheduler_job_id"])
    return Finding("scheduler", state == "success" and within_retries(counted) and other and bool(came_back),
                   f"{lost} (job {label['scheduler_job_id']}, which launched fault_long.work) SIGKILLed and held down; "
                   f"its running pod {'adopted by job ' + adopted_by if adopted else 'not adopted (it finished first)'}; "
                   f"run {state}; 'after' queued by job {', '.join(sorted(carried_by)) or 'none'}; tries {counted}; "
                   f"{lost} back as job {came_back[0][0]}",
                   {"state": state, "tries": counted, "lost_job": str(label["scheduler_job_id"]), "carried_by": carried_by,
                    "adopted_by": adopted_by, "back_as_job": came_back[0][0]})


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def worker_killed(twin: Twin) -> Finding:
    run_id = _run_id("worker")
    trigger(twin, "fault_long", run_id)
    wait_for_state(twin, "fault_long", run_id, "work", {"running"})
    pod, _ = pod_records(twin, "fault_long", run_id, "work")[-1]
    container = int(pod.with_name(pod.name + ".container-pid").read_text())
    # The task's own process: the deepest in the container (Airflow 2's forked task runner, Airflow 3's task process
    # under its supervisor), as the OOM killer picks the process that holds the memory.
    task_process = wait_until(lambda: (_children(container) or [None])[-1], 60, "the task process did not start", 0.5)
    time.sleep(3)  # mid-task
    os.kill(task_process, signal.SIGKILL)
    state = run_state(twin, "fault_long", run_id)
    counted = tries(twin, "fault_long", run_id)
    retried = counted.get("work", 0) == 2
    return Finding("worker", state == "success" and within_retries(counted) and retried,
                   f"fault_long.work's task process (pid {task_process}) SIGKILLed mid-task; run {state}; tries {counted}",
                   {"state": state, "tries": counted})


def _dag_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.glob("*.py")}


SYNC_FAILED = "sync failed; keeping the current files and retrying"  # docker/dag_sync.py's line for a failed pass


def s3_outage(twin: Twin, outage: float = 60) -> Finding:
    from k8s.containers import DAG_SYNC_STATE
    from local.pod_runner import read_phase

    s3 = twin.aws_services["S3"]
    pods = ("scheduler", "webserver")
    folders = {name: twin.work / name / "dags" for name in pods}
    sidecar_logs = {name: twin.work / f"{name}-dag-sync.log" for name in pods}

    def failed_passes(name: str) -> int:
        return sidecar_logs[name].read_text(errors="replace").count(SYNC_FAILED)

    before = {name: _dag_files(folder) for name, folder in folders.items()}
    failed_before = {name: failed_passes(name) for name in pods}
    run_id = _run_id("s3")
    wait_until(lambda: rest(twin, "GET", "/dags/fault_quick"), 240, "fault_quick was not parsed", 2)
    s3.down()
    began = time.monotonic()
    try:
        trigger(twin, "fault_quick", run_id)
        first = wait_for_state(twin, "fault_quick", run_id, "quick", {"up_for_retry", "failed"}, outage + 60)
        time.sleep(max(0.0, outage - (time.monotonic() - began)))
        # While S3 is still away (longer than `outage` if a sidecar has not tried yet: it passes every interval): each
        # sidecar has tried and failed, and its folder is the last good one, unchanged.
        try:
            wait_until(lambda: all(failed_passes(name) > failed_before[name] for name in pods),
                       twin.spec.dag_sync_interval_seconds + 60, "a sidecar did not try to sync while S3 was away")
        except TimeoutError:
            pass  # said by `tried`
        tried = {name: failed_passes(name) > failed_before[name] for name in pods}
        kept = {name: _dag_files(folder) == before[name] for name, folder in folders.items()}
    finally:
        s3.up()
    away = time.monotonic() - began
    returned = time.time()
    interval = twin.spec.dag_sync_interval_seconds
    # Then a pass succeeds again: the state file the sidecars rewrite after each good pass is newer than S3's return.
    synced = wait_until(lambda: all((f / DAG_SYNC_STATE).stat().st_mtime > returned for f in folders.values()),
                        interval + 60, "the sidecars did not sync again after S3 returned")
    state = run_state(twin, "fault_quick", run_id)
    counted = tries(twin, "fault_quick", run_id)
    phases = [read_phase(pod).get("reason", read_phase(pod)["phase"]) for pod, _ in pod_records(twin, "fault_quick", run_id, "quick")]
    survived = state == "success" and within_retries(counted, RETRIES + 1) and counted.get("quick", 0) >= 2
    survived = survived and all(kept.values()) and all(tried.values()) and synced and first["state"] == "up_for_retry"
    return Finding("s3", survived,
                   f"S3 unreachable {away:.0f} s; the sidecars' passes failed ({tried}) and kept the DAG folder "
                   f"({kept}), then synced again; fault_quick's first try {first['state']} (pods: {phases}); run "
                   f"{state} after S3 returned; tries {counted}",
                   {"state": state, "tries": counted, "kept": kept, "tried": tried, "pods": phases, "away_seconds": away})


def secrets_outage(twin: Twin) -> Finding:
    manager = twin.aws_services["SECRETS_MANAGER"]
    run_id = _run_id("secrets")
    wait_until(lambda: rest(twin, "GET", "/dags/fault_secret"), 240, "fault_secret was not parsed", 2)
    manager.down()
    try:
        trigger(twin, "fault_secret", run_id)
        first = wait_for_state(twin, "fault_secret", run_id, "read_greeting", {"up_for_retry", "failed"})
    finally:
        manager.up()
    state = run_state(twin, "fault_secret", run_id)
    counted = tries(twin, "fault_secret", run_id)
    said = task_log(twin, "fault_secret", run_id, "read_greeting", 1)
    named = "Unable to retrieve variable from secrets backend" in said
    return Finding("secrets", state == "success" and within_retries(counted) and named and first["state"] == "up_for_retry",
                   f"Secrets Manager unreachable; the first try {first['state']} "
                   f"({'its log names the secrets backend' if named else 'its log does not name the secrets backend: ' + (said[:600] or 'no log')}); "
                   f"run {state} after it returned; tries {counted}",
                   {"state": state, "tries": counted, "log_names_backend": named})


def import_error(twin: Twin) -> Finding:
    from k8s.spec import DAG_PREFIX

    run_id = _run_id("import")
    trigger(twin, "fault_long", run_id)
    wait_for_state(twin, "fault_long", run_id, "work", {"running"})
    key = f"{DAG_PREFIX}/fault_broken.py"
    twin.aws_client("s3").put_object(Bucket=twin.spec.dag_bucket, Key=key, Body=BROKEN_DAG.encode())
    pushed = time.monotonic()

    def listed():
        answer = rest(twin, "GET", "/importErrors") or {"import_errors": []}
        return [e for e in answer["import_errors"] if e["filename"].endswith("fault_broken.py")]
    try:
        errors = wait_until(listed, 180, "the import error was not listed", 2)
        seen = time.monotonic() - pushed
    finally:
        twin.aws_client("s3").delete_object(Bucket=twin.spec.dag_bucket, Key=key)
    state = run_state(twin, "fault_long", run_id)
    counted = tries(twin, "fault_long", run_id)
    return Finding("import-error", state == "success" and counted == {"work": 1, "after": 1} and bool(errors),
                   f"a broken DAG file pushed while fault_long ran: listed by /importErrors {seen:.0f} s later; "
                   f"the run {state}, tries {counted}",
                   {"state": state, "tries": counted, "listed_seconds": seen, "stack_trace": errors[0]["stack_trace"][-200:]})


def dag_edit(twin: Twin) -> Finding:
    """An edited DAG file, from the bucket to the scheduler's parse: the file delivered and parsed once, then changed
    (a new tag), and the time from the changed file's upload until the API shows the new tag."""
    from k8s.spec import DAG_PREFIX

    def deliver(tag: str) -> float:
        source = (f"from datetime import datetime\nfrom airflow import DAG\n\nwith DAG('fault_edited', "
                  f"start_date=datetime(2024, 1, 1), schedule=None, tags=['{tag}']):\n    pass\n")
        twin.aws_client("s3").put_object(Bucket=twin.spec.dag_bucket, Key=f"{DAG_PREFIX}/fault_edited.py", Body=source.encode())
        pushed = time.monotonic()
        wait_until(lambda: any(t["name"] == tag for t in (rest(twin, "GET", "/dags/fault_edited") or {}).get("tags") or []),
                   600, f"the DAG file with tag {tag} was not parsed", 0.5)
        return time.monotonic() - pushed

    first = deliver("first")
    seconds = deliver(f"edit-{int(time.time())}")
    interval = twin.spec.dag_sync_interval_seconds
    return Finding("dag-edit", seconds <= interval + 30,
                   f"an edited DAG file reached the scheduler's parse {seconds:.1f} s after its upload (a new file: "
                   f"{first:.1f} s); the sidecar syncs every {interval} s and the twin parses a changed file within 5 s "
                   f"(on the cluster Airflow's default min_file_process_interval, 30 s)", {"seconds": seconds, "new_file": first})


FAULTS = {
    "database": database_outage, "scheduler": scheduler_lost, "worker": worker_killed, "s3": s3_outage,
    "secrets": secrets_outage, "import-error": import_error, "dag-edit": dag_edit,
}


def fault_twin(work: Path, bin_dir: Path, stack: str = "prod") -> Twin:
    """The twin the faults run on: the stack's replicas and the fault DAGs beside the project's."""
    return Twin(work, bin_dir, web_port=free_port(), stack=stack, extra_dags=FAULT_DAGS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=90, help="seconds the database is away (default 90)")
    parser.add_argument("--s3-outage", type=float, default=60, help="seconds S3 is unreachable (default 60)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"which, comma-separated (default: {','.join(FAULTS)})")
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--work", type=Path, default=PROJECT / ".build" / "chaos")
    args = parser.parse_args(argv)
    chosen = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FAULTS))
    if unknown:
        parser.error(f"--faults: unknown {', '.join(unknown)}; offered: {', '.join(FAULTS)}")
    from local import image_env

    version = from_stack_file(PROJECT, args.stack, {"flavour": "self-managed"}).airflow.version
    bin_dir = image_env.build(PROJECT / ".venv-image" / version, version)
    shutil.rmtree(args.work, ignore_errors=True)
    twin = fault_twin(args.work, bin_dir, args.stack)
    findings: list[Finding] = []

    def stop_on(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop_on)
    options = {"database": {"outage": args.outage}, "s3": {"outage": args.s3_outage}}
    try:
        began = time.monotonic()
        twin.start()
        replicas = {c: twin.replicas(c) for c in twin.components}
        print(f"the twin is up (Airflow {version}, replicas {replicas}, {time.monotonic() - began:.0f} s); task "
              f"retries: {RETRIES}", flush=True)
        for name in chosen:
            try:
                finding = FAULTS[name](twin, **options.get(name, {}))
            except Exception as err:  # noqa: BLE001 - a fault that could not be observed is not survived
                finding = Finding(name, False, f"could not be observed: {err}")
            findings.append(finding)
            print(finding.line(), flush=True)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        twin.stop()
    survived = [f for f in findings if f.survived]
    print(f"{len(survived)} of {len(findings)} faults survived")
    return 0 if findings and len(survived) == len(findings) else 1


if __name__ == "__main__":
    sys.exit(main())
