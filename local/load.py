"""`make load`: many DAG runs at once on the twin, and what came of them. Delivers --dag-files DAG files (each DAG:
--tasks tasks side by side), triggers --runs runs spread over them, waits for every run, then prints the runs
completed, the tasks lost (a task instance of a finished run that did not succeed; must be 0), the tries beyond the
first, the scheduling latency (a task instance queued to running, p50/p95) and the throughput. Every task is a
worker pod (init container, then `airflow tasks run` or Airflow 3's workload), as on the cluster, at the twin's
parallelism (Airflow's [core] parallelism per scheduler, 4 on this machine, times the schedulers).

    make load [RUNS=200] [DAG_FILES=50] [TASKS=3]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from local.chaos import rest, unpause, wait_until
from local.twin import Twin, free_port
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR as PROJECT

PREFIX = "load_"


def load_dags(files: int, tasks: int) -> dict[str, str]:
    """`files` DAG files, each one DAG of `tasks` independent quick tasks; runs of one DAG may overlap."""
    source = '''from datetime import datetime

from airflow.decorators import dag, task


@dag(dag_id="{dag_id}", start_date=datetime(2024, 1, 1), schedule=None, catchup=False, max_active_runs=16)
def load():
    for index in range({tasks}):
        @task(task_id=f"part_{{index}}")
        def part(index=index):
            return index

        part()


load()
'''
    return {f"{PREFIX}{i:02d}.py": source.format(dag_id=f"{PREFIX}{i:02d}", tasks=tasks) for i in range(files)}


@dataclass
class LoadResult:
    runs: int
    completed: int
    failed: int
    unfinished: int
    tasks: int
    lost: int
    extra_tries: int
    latency_p50: float
    latency_p95: float
    seconds: float
    tasks_per_minute: float
    parallelism: int
    # What each unfinished run's unfinished task instances were at the end (their state, try, host, the scheduler
    # job that queued them), so that a run which never finishes says where it stopped.
    stuck: tuple[str, ...] = ()

    def lines(self, files: int, tasks: int) -> list[str]:
        return [
            f"load: {self.runs} runs of {files} DAG files ({tasks} parallel tasks each, {self.tasks} task instances), "
            f"worker parallelism {self.parallelism}",
            f"runs completed: {self.completed} of {self.runs} ({self.failed} failed, {self.unfinished} unfinished)  "
            f"tasks lost: {self.lost}  tries beyond the first: {self.extra_tries}",
            f"scheduling latency (queued to running): p50 {self.latency_p50:.1f} s  p95 {self.latency_p95:.1f} s",
            f"throughput: {self.tasks_per_minute:.0f} tasks per minute ({self.runs} runs in {self.seconds:.0f} s)",
            *(f"unfinished: {line}" for line in self.stuck),
        ]


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


# How long a run may take before the rest count as unfinished: an hour, or 12 s of the machine per task (a worker
# pod costs about 4 s of CPU on this 2-core machine, and the schedulers and probes share it), if longer.
SECONDS_PER_TASK = 12


def default_timeout(runs: int, tasks: int) -> float:
    return max(3600.0, runs * tasks * SECONDS_PER_TASK)


def run_load(twin: Twin, runs: int, files: int, timeout: float = 3600) -> LoadResult:
    dag_ids = [f"{PREFIX}{i:02d}" for i in range(files)]
    wait_until(lambda: all(rest(twin, "GET", f"/dags/{d}") for d in dag_ids), 300, "the load DAGs were not parsed", 2)
    for dag_id in dag_ids:
        unpause(twin, dag_id)
    began = time.time()
    for n in range(runs):
        dag_id = dag_ids[n % files]
        body = {"dag_run_id": f"load-{n:04d}", **({"logical_date": None} if twin.spec.airflow3 else {})}
        if rest(twin, "POST", f"/dags/{dag_id}/dagRuns", body) is None:
            raise RuntimeError(f"could not trigger {dag_id} load-{n:04d}")

    def states() -> dict[str, int]:
        rows = twin.postgres.query(f"select state, count(*) from dag_run where dag_id like '{PREFIX}%' group by state")
        return {state: int(count) for state, count in rows}

    deadline = time.time() + timeout
    while time.time() < deadline:
        counted = states()
        if counted.get("success", 0) + counted.get("failed", 0) >= runs:
            break
        time.sleep(3)
    counted = states()
    rows = twin.postgres.query(
        "select ti.state, ti.try_number, extract(epoch from ti.queued_dttm), extract(epoch from ti.start_date), "
        "extract(epoch from ti.end_date), dr.state from task_instance ti join dag_run dr on dr.dag_id = ti.dag_id "
        f"and dr.run_id = ti.run_id where ti.dag_id like '{PREFIX}%'")
    latencies = [float(started) - float(queued) for _, _, queued, started, _, _ in rows if queued and started]
    ends = [float(end) for *_, end, _ in rows if end]
    finished_runs = [r for r in rows if r[5] in ("success", "failed")]
    lost = sum(1 for state, *_ in finished_runs if state != "success")
    # Airflow 3 counts the first try as 1 once it starts, as Airflow 2 does.
    extra = sum(max(0, int(tries) - 1) for _, tries, *_ in rows if tries)
    seconds = (max(ends) - began) if ends else time.time() - began
    stuck = twin.postgres.query(
        "select ti.dag_id, ti.run_id, ti.task_id, coalesce(ti.state, 'none'), ti.try_number, coalesce(ti.hostname, ''), "
        "coalesce(ti.queued_by_job_id::text, ''), coalesce(ti.external_executor_id, ''), dr.state "
        "from task_instance ti join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id "
        f"where ti.dag_id like '{PREFIX}%' and dr.state not in ('success', 'failed') "
        "and coalesce(ti.state, '') <> 'success' order by ti.dag_id, ti.run_id, ti.task_id")
    return LoadResult(
        runs=runs, completed=counted.get("success", 0), failed=counted.get("failed", 0),
        unfinished=runs - counted.get("success", 0) - counted.get("failed", 0), tasks=len(rows), lost=lost,
        extra_tries=extra, latency_p50=_percentile(latencies, 0.50), latency_p95=_percentile(latencies, 0.95),
        seconds=seconds, tasks_per_minute=len(ends) / seconds * 60 if seconds > 0 else 0.0,
        parallelism=int(twin.launched["scheduler-scheduler"][1]["AIRFLOW__CORE__PARALLELISM"]) * twin.replicas("scheduler"),
        stuck=tuple(" ".join(f"{k}={v}" for k, v in zip(
            ("dag", "run", "task", "state", "try", "host", "queued_by_job", "external_id", "run_state"), row))
            for row in stuck),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--dag-files", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=3, help="parallel tasks per DAG (default 3)")
    parser.add_argument("--stack", default="prod", help="whose settings and replicas (default prod: 2 schedulers)")
    parser.add_argument("--work", type=Path, default=PROJECT / ".build" / "load")
    parser.add_argument("--timeout", type=float, help="seconds to wait for the runs (default: an hour, or 12 s per "
                        "task if longer)")
    args = parser.parse_args(argv)
    for name in ("runs", "dag_files", "tasks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    from local import image_env

    version = from_stack_file(PROJECT, args.stack, {"flavour": "self-managed"}).airflow.version
    bin_dir = image_env.build(PROJECT / ".venv-image" / version, version)
    shutil.rmtree(args.work, ignore_errors=True)
    twin = Twin(args.work, bin_dir, web_port=free_port(), stack=args.stack,
                extra_dags=load_dags(args.dag_files, args.tasks))

    def stop_on(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop_on)
    try:
        twin.start()
        print(f"the twin is up (Airflow {version}, {twin.replicas('scheduler')} schedulers); triggering {args.runs} runs",
              flush=True)
        result = run_load(twin, args.runs, args.dag_files, args.timeout or default_timeout(args.runs, args.tasks))
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        twin.stop()
    print("\n".join(result.lines(args.dag_files, args.tasks)))
    return 0 if result.completed == args.runs and result.lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
