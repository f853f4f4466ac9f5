"""Count the cluster's nodes that are not Ready and send the count as a StatsD gauge to the metrics agent
(k8s/metrics.py), which publishes it into the stack's CloudWatch namespace for the `nodes-not-ready` alarm.

A node is counted when its `Ready` condition is not "True" (False: the kubelet reports itself unhealthy; Unknown:
the kubelet has stopped reporting, Kubernetes' node lifecycle controller sets it after 40 s). A node the Cluster
Autoscaler is removing (its `ToBeDeletedByClusterAutoscaler` taint) is not counted: it goes away on purpose.
A pass that cannot list the nodes sends nothing (the alarm sees no data) and is retried at the next.

    python node_readiness.py [--statsd-host 127.0.0.1] [--statsd-port 8125] [--prefix cluster] [--interval 60]
                             [--heartbeat FILE] [--once]

It sends `<prefix>.nodes_not_ready` and `<prefix>.nodes`; k8s/node_readiness.py gives the prefix and names the
alarm's metric after it.

The Kubernetes API is found as a pod finds it (its service account's token), or through KUBECONFIG where that is set.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import statsd
from kubernetes import client, config

# cluster-autoscaler/utils/taints/taints.go: ToBeDeletedTaint, set on a node it has chosen to remove.
BEING_REMOVED_TAINT = "ToBeDeletedByClusterAutoscaler"
log = logging.getLogger("node-readiness")


def is_ready(node: client.V1Node) -> bool:
    conditions = (node.status.conditions if node.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def is_being_removed(node: client.V1Node) -> bool:
    return any(t.key == BEING_REMOVED_TAINT for t in (node.spec.taints if node.spec else None) or [])


def count(nodes: list[client.V1Node]) -> tuple[int, int]:
    """(nodes not Ready, nodes) among those the autoscaler is not removing."""
    kept = [n for n in nodes if not is_being_removed(n)]
    return sum(not is_ready(n) for n in kept), len(kept)


def sample(api: client.CoreV1Api, metrics: statsd.StatsClient, heartbeat: Path | None) -> tuple[int, int]:
    not_ready, total = count(api.list_node(timeout_seconds=30).items)
    metrics.gauge("nodes_not_ready", not_ready)
    metrics.gauge("nodes", total)
    if heartbeat is not None:  # the container's liveness probe reads its age (k8s/node_readiness.py)
        heartbeat.touch()
    return not_ready, total


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
    metrics = statsd.StatsClient(args.statsd_host, args.statsd_port, prefix=args.prefix)
    last = None
    while True:
        started = time.monotonic()
        try:
            counted = sample(api, metrics, args.heartbeat)
            if counted != last:  # a line when the count changes, not one a minute
                log.info("%d of %d nodes not ready", *counted)
                last = counted
        except Exception:  # noqa: BLE001 - the API, the network: the next pass tries again
            log.exception("could not count the nodes")
            if args.once:
                return 1
        if args.once:
            return 0
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))


if __name__ == "__main__":
    sys.exit(main())
