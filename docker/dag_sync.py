"""Mirror the DAG files of s3://<bucket>/<prefix>/ into a local folder: once (a worker pod's init container) or
every N seconds (the scheduler's, webserver's and triggerer's sidecar). A DAG change reaches the cluster without
an image build.

Only changed objects are downloaded (by ETag); files gone from the bucket are removed. Each file is written to a
temporary name and renamed, so Airflow never parses half a file. Credentials come from IRSA like any boto3 call.

    python dag_sync.py --bucket B --prefix dags --dest /opt/airflow/dags [--interval 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import boto3

STATE_FILE = ".dag-sync-state.json"  # k8s/containers.py probes its age
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
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            client.download_file(bucket, prefix + relative, str(partial))
        except Exception:  # noqa: BLE001 - one unreadable object must not stop the others
            log.exception("could not download s3://%s/%s%s; keeping the current copy", bucket, prefix, relative)
            counts["failed"] += 1
            partial.unlink(missing_ok=True)
            if relative in known:
                synced[relative] = known[relative]
            continue
        os.replace(partial, target)
        synced[relative] = etag
        counts["downloaded"] += 1
    for relative in sorted(set(known) - set(remote)):
        target = _target(dest, relative)
        if target is not None:
            target.unlink(missing_ok=True)
            counts["removed"] += 1
    # Written whole or not at all: the liveness probe watches this file's age.
    partial_state = state_path.with_name(f".{state_path.name}.partial")
    partial_state.write_text(json.dumps(synced, sort_keys=True))
    os.replace(partial_state, state_path)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="dags")
    parser.add_argument("--dest", required=True, type=Path)
    parser.add_argument("--interval", type=int, default=0, help="seconds between syncs; 0 syncs once and exits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s dag-sync %(levelname)s %(message)s")
    client = boto3.client("s3")
    while True:
        try:
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
