"""How long a DAG folder takes to reach a pod, by its size: a worker pod's init container (one archive of the
folder), a sidecar's first sync (every file, in parallel) and a sidecar's sync after one DAG is edited (one file).

moto stands in for S3 behind a proxy that adds 20 ms to every request (real S3 answers in tens of milliseconds);
the figures count requests more than bytes. Prints one line per size; no assertions.

    make bench-dag-sync
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bench.latency_proxy import LatencyProxy  # noqa: E402
from components.shared.plugins_archive import build_folder_zip  # noqa: E402
from k8s.spec import DAG_ARCHIVE_KEY, DAG_PREFIX  # noqa: E402

DELAY = 0.020
SIZES = (10, 100, 1000)
DAG = '''from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG("bench_{i}", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="only")
'''


def _dag_sync():
    spec = importlib.util.spec_from_file_location("dag_sync", PROJECT / "docker" / "dag_sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _client(endpoint: str, connections: int = 10):
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                        aws_secret_access_key="bench", config=Config(max_pool_connections=connections))


def main() -> int:
    sync = _dag_sync()
    port = _free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    direct = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: urllib.request.urlopen(f"{direct}/moto-api/").status == 200)
        seed = _client(direct)
        with LatencyProxy(direct, DELAY) as proxy, tempfile.TemporaryDirectory() as scratch:
            slow = _client(proxy.url, sync.PARALLEL)  # as dag_sync.py configures its client
            for size in SIZES:
                bucket = f"bench-{size}"
                seed.create_bucket(Bucket=bucket)
                folder = Path(scratch) / f"src-{size}"
                folder.mkdir()
                for i in range(size):
                    (folder / f"dag_{i:04d}.py").write_text(DAG.format(i=i))
                    seed.put_object(Bucket=bucket, Key=f"{DAG_PREFIX}/dag_{i:04d}.py", Body=DAG.format(i=i).encode())
                seed.put_object(Bucket=bucket, Key=DAG_ARCHIVE_KEY, Body=build_folder_zip(folder))

                worker = Path(scratch) / f"worker-{size}"
                began = time.perf_counter()
                sync.sync_worker(slow, bucket, DAG_PREFIX, DAG_ARCHIVE_KEY, worker)
                worker_seconds = time.perf_counter() - began
                assert len(list(worker.glob("*.py"))) == size

                sidecar = Path(scratch) / f"sidecar-{size}"
                began = time.perf_counter()
                sync.sync_once(slow, bucket, DAG_PREFIX, sidecar)
                first_seconds = time.perf_counter() - began
                seed.put_object(Bucket=bucket, Key=f"{DAG_PREFIX}/dag_0000.py", Body=(DAG.format(i=0) + "# edited\n").encode())
                began = time.perf_counter()
                counts = sync.sync_once(slow, bucket, DAG_PREFIX, sidecar)
                edit_seconds = time.perf_counter() - began
                assert counts["downloaded"] == 1
                print(f"dag files: {size}  worker sync: {worker_seconds:.2f} s  sidecar first sync: {first_seconds:.2f} s  "
                      f"sidecar edit sync: {edit_seconds:.2f} s  ({DELAY * 1000:.0f} ms per request)", flush=True)
    finally:
        moto.terminate()
        moto.wait(timeout=10)
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("moto did not start")


if __name__ == "__main__":
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    sys.exit(main())
