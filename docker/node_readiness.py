"""Watch the cluster's nodes' readiness and send it as StatsD gauges to the metrics agent (k8s/metrics.py), which
publishes them into the stack's CloudWatch namespace for the `nodes-not-ready` and `node-watcher-silent` alarms.

A node is not Ready when its `Ready` condition is not "True" (False: the kubelet reports itself unhealthy;
Unknown: the kubelet has stopped reporting, which Kubernetes' node lifecycle controller notices after its grace
period, 40-50 s). It has been so since the condition's last transition, or since it registered when it has no
Ready condition yet. A node the Cluster Autoscaler is removing (its `ToBeDeletedByClusterAutoscaler` taint) is
left out: it goes away on purpose. Each pass sends

- `<prefix>.oldest_not_ready_seconds`: how long the longest not-Ready node has been so (0 when all are Ready), which
  the alarm reads: a new node's first minute, or one node after another briefly during a rollout, never reaches it;
- `<prefix>.nodes_not_ready` and `<prefix>.nodes`: the counts (the dashboard; `nodes` stops when the watcher does).

A pass that cannot list the nodes sends nothing and is retried at the next.

    python node_readiness.py [--statsd-host 127.0.0.1] [--statsd-port 8125] [--prefix cluster] [--interval 60]
                             [--heartbeat FILE] [--once]

k8s/node_readiness.py gives the prefix and names the alarms' metrics after it.

The Kubernetes API is found as a pod finds it (its service account's token), or through KUBECONFIG where that is set.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import statsd
from kubernetes import client, config

# cluster-autoscaler/utils/taints/taints.go: ToBeDeletedTaint, set on a node it has chosen to remove.
BEING_REMOVED_TAINT = "ToBeDeletedByClusterAutoscaler"
log = logging.getLogger("node-readiness")


def not_ready_since(node: client.V1Node) -> datetime | None:
    """When the node stopped being Ready (or registered, without a Ready condition yet); None while it is Ready."""
    conditions = (node.status.conditions if node.status else None) or []
    ready = next((c for c in conditions if c.type == "Ready"), None)
    if ready is None:
        return node.metadata.creation_timestamp
    if ready.status == "True":
        return None
    return ready.last_transition_time or node.metadata.creation_timestamp


def is_being_removed(node: client.V1Node) -> bool:
    return any(t.key == BEING_REMOVED_TAINT for t in (node.spec.taints if node.spec else None) or [])


def readiness(nodes: list[client.V1Node], now: datetime) -> tuple[int, int, int]:
    """(nodes not Ready, nodes, seconds the longest not-Ready one has been so) among those the autoscaler keeps."""
    kept = [n for n in nodes if not is_being_removed(n)]
    since = [not_ready_since(n) for n in kept]
    down = [s for s in since if s is not None]
    oldest = max((int((now - s).total_seconds()) for s in down), default=0)
    return len(down), len(kept), max(oldest, 0)


def sample(api: client.CoreV1Api, statsd_host: str, statsd_port: int, prefix: str,
           heartbeat: Path | None) -> tuple[int, int, int]:
    # A client's socket waits 5 s to connect and 30 s for the answer: a black-holed endpoint (the control plane's
    # moving during a cluster upgrade) fails the pass instead of hanging it.
    nodes = api.list_node(timeout_seconds=30, _request_timeout=(5, 30)).items
    not_ready, total, oldest = readiness(nodes, datetime.now(timezone.utc))
    # Resolved at each pass (the client resolves its host once): a replaced agent Service is found again.
    metrics = statsd.StatsClient(statsd_host, statsd_port, prefix=prefix)
    metrics.gauge("oldest_not_ready_seconds", oldest)
    metrics.gauge("nodes_not_ready", not_ready)
    metrics.gauge("nodes", total)
    metrics.close()
    if heartbeat is not None:  # the container's liveness probe reads its age (k8s/node_readiness.py)
        heartbeat.touch()
    return not_ready, total, oldest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statsd-host", default="127.0.0.1")
    parser.add_argument("--statsd-port", type=int, default=8125)
    parser.add_argument("--prefix", default="cluster", help="the gauges' prefix")
    parser.add_argument("--interval", type=int, default=60, help="seconds between passes")
    parser.add_argument("--heartbeat", type=Path, help="a file touched after each pass that counted the nodes")
    parser.add_argument("--once", action="store_true", help="one pass; its failure is the exit status")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if os.environ.get("KUBECONFIG"):
        config.load_kube_config()
    else:
        config.load_incluster_config()  # the pod's service account token, re-read as the kubelet rotates it
    api = client.CoreV1Api()
    last = None
    while True:
        started = time.monotonic()
        try:
            not_ready, total, oldest = sample(api, args.statsd_host, args.statsd_port, args.prefix, args.heartbeat)
            if (not_ready, total) != last:  # a line when the counts change, not one a minute
                log.info("%d of %d nodes not ready (the longest for %d s)", not_ready, total, oldest)
                last = (not_ready, total)
        except Exception:  # noqa: BLE001 - the API, the network: the next pass tries again
            log.exception("could not count the nodes")
            if args.once:
                return 1
        if args.once:
            return 0
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
