"""Mirror the DAG files of s3://<bucket>/<prefix>/ into a local folder: once (a worker pod's init container) or
every N seconds (the scheduler's, webserver's and triggerer's sidecar). A DAG change reaches the cluster without
an image build.

A sidecar downloads only changed objects (by ETag), several at a time, and removes files gone from the bucket.
A worker pod, which starts with an empty folder for every task, fetches one object instead: the archive of the
whole folder that the deployment publishes beside the files (`--archive`), so its start costs the same for ten DAG
files or a thousand; without the archive it falls back to the files. Each file is written to a temporary name and
renamed, so Airflow never parses half a file. Credentials come from IRSA like any boto3 call.

    python dag_sync.py --bucket B --prefix dags --dest /opt/airflow/dags [--interval 30] [--archive KEY]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

STATE_FILE = ".dag-sync-state.json"  # k8s/containers.py probes its age
# Downloads at a time: S3 answers each request in tens of milliseconds, so a folder's files are fetched side by side
# (boto3's clients are thread-safe; botocore's pool holds 10 connections, raised to match).
PARALLEL = 16
log = logging.getLogger("dag-sync")


def _load_state(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}  # a state cut short by a kill: download everything once more


def _target(dest: Path, relative: str) -> Path | None:
    """Where an object goes, or None for a key that would leave the DAG folder (absolute, '..', empty parts)."""
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    target = dest.joinpath(*parts)
    return target if target.resolve().is_relative_to(dest.resolve()) else None


def sync_once(client, bucket: str, prefix: str, dest: Path) -> dict[str, int]:
    prefix = prefix.strip("/") + "/"
    dest.mkdir(parents=True, exist_ok=True)
    state_path = dest / STATE_FILE
    known = _load_state(state_path)
    remote: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix):]
            if relative and not relative.endswith("/"):
                remote[relative] = item["ETag"]
    counts = {"downloaded": 0, "removed": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    synced: dict[str, str] = {}
    wanted: list[tuple[str, str, Path]] = []
    for relative, etag in sorted(remote.items()):
        target = _target(dest, relative)
        if target is None:
            log.warning("skipping s3://%s/%s%s: the key leaves the DAG folder", bucket, prefix, relative)
            counts["skipped"] += 1
            continue
        if known.get(relative) == etag and target.exists():
            counts["unchanged"] += 1
            synced[relative] = etag
            continue
        wanted.append((relative, etag, target))

    # What is gone goes first: a file that became a folder (or the reverse) must not block the new one.
    for relative in sorted(set(known) - set(remote)):
        target = _target(dest, relative)
        if target is not None:
            target.unlink(missing_ok=True)
            counts["removed"] += 1

    def fetch(item: tuple[str, str, Path]) -> bool:
        relative, _, target = item
        partial = target.with_name(f".{target.name}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # One GET per file (download_file would add a HEAD and a transfer manager per call).
            partial.write_bytes(client.get_object(Bucket=bucket, Key=prefix + relative)["Body"].read())
            os.replace(partial, target)
        except Exception:  # noqa: BLE001 - one unreadable object must not stop the others
            log.exception("could not download s3://%s/%s%s; keeping the current copy", bucket, prefix, relative)
            partial.unlink(missing_ok=True)
            return False
        return True

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for (relative, etag, _), fetched in zip(wanted, pool.map(fetch, wanted)):
            if fetched:
                synced[relative] = etag
                counts["downloaded"] += 1
            else:
                counts["failed"] += 1
                if relative in known:
                    synced[relative] = known[relative]
    # Written whole or not at all: the liveness probe watches this file's age.
    partial_state = state_path.with_name(f".{state_path.name}.partial")
    partial_state.write_text(json.dumps(synced, sort_keys=True))
    os.replace(partial_state, state_path)
    return counts


def sync_worker(client, bucket: str, prefix: str, archive: str, dest: Path) -> dict[str, int]:
    """A worker pod's one sync: the folder's archive (one request), else the files (sync_once). The archive is
    written by the same deployment as the files, from the same folder (components/shared/dag_delivery.py)."""
    dest.mkdir(parents=True, exist_ok=True)
    download = dest / ".dag-archive.partial"  # on the folder's own volume, not in the container's memory
    try:
        client.download_file(bucket, archive, str(download))
        folder = zipfile.ZipFile(download)
    except (ClientError, zipfile.BadZipFile) as err:
        # Missing (NoSuchKey; AccessDenied for a role that may not list where it is, as S3 hides absent keys) or
        # unreadable: the files are the same DAGs, one request each.
        code = err.response.get("Error", {}).get("Code") if isinstance(err, ClientError) else "BadZipFile"
        if code not in ("NoSuchKey", "AccessDenied", "404", "403", "BadZipFile"):
            raise
        download.unlink(missing_ok=True)
        log.warning("no usable archive s3://%s/%s (%s): fetching the files instead", bucket, archive, code)
        return sync_once(client, bucket, prefix, dest)
    counts = {"downloaded": 0, "removed": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    synced: dict[str, str] = {}
    with folder:
        for entry in folder.infolist():
            if entry.is_dir():
                continue
            target = _target(dest, entry.filename)
            if target is None:
                log.warning("skipping %s in s3://%s/%s: it leaves the DAG folder", entry.filename, bucket, archive)
                counts["skipped"] += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            partial.write_bytes(folder.read(entry))
            os.replace(partial, target)
            synced[entry.filename] = f"archive:{entry.CRC:08x}"
            counts["downloaded"] += 1
    download.unlink(missing_ok=True)
    (dest / STATE_FILE).write_text(json.dumps(synced, sort_keys=True))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="dags")
    parser.add_argument("--dest", required=True, type=Path)
    parser.add_argument("--interval", type=int, default=0, help="seconds between syncs; 0 syncs once and exits")
    parser.add_argument("--archive", help="once only: the key of the folder's archive, fetched in place of the files")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s dag-sync %(levelname)s %(message)s")
    client = boto3.client("s3", config=Config(max_pool_connections=PARALLEL))
    while True:
        try:
            if args.archive and not args.interval:
                counts = sync_worker(client, args.bucket, args.prefix, args.archive, args.dest)
            else:
                counts = sync_once(client, args.bucket, args.prefix, args.dest)
            log.info("s3://%s/%s -> %s: %s", args.bucket, args.prefix, args.dest, counts)
            if counts["failed"] and not args.interval:
                return 1  # a worker pod must not run its task against a partial DAG folder
        except Exception:  # noqa: BLE001 - a sidecar keeps the last good copy and retries; a one-shot sync fails
            if not args.interval:
                raise
            # A failed listing (S3 or STS unavailable) keeps the last good copy; the next pass retries.
            log.exception("sync failed; keeping the current files and retrying")
        if not args.interval:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
