"""The node watcher: one small pod of the Airflow image (docker/node_readiness.py) that looks at the cluster's
nodes once a minute and sends how long the longest not-Ready one has been so, and the counts, as StatsD gauges to
the metrics agent (k8s/metrics.py), which publishes them into the stack's namespace for the `nodes-not-ready` and
`node-watcher-silent` alarms.

EKS publishes its scheduler's queues but nothing about nodes; Container Insights would, through an add-on that runs
its DaemonSets on every node and bills per-node metrics and container logs, for one number. The watcher's account
may list nodes and nothing else (k8s/rbac.py, node_reader_role), and has no AWS role. A pod of its own, not a
container in the agent's: the agent does not restart with every new Airflow image.
"""

from __future__ import annotations

from k8s import identities
from k8s.containers import (
    DUMB_INIT,
    LEAVE_A_FAILED_NODE_SOON,
    checkov_annotations,
    container_security_context,
    file_is_fresh,
    labels,
    pod_security_context,
    resources,
)
from k8s.metrics import AGGREGATION_SECONDS, statsd_host
from k8s.spec import STATSD_PORT, AirflowSpec, Resources

WATCHER = identities.NODE_WATCHER  # the Deployment is named as its account
SCRIPT = "/opt/image/node_readiness.py"  # docker/Dockerfile copies it there
# Its gauges (docker/node_readiness.py), as StatsD names.
METRICS_PREFIX = "cluster"
OLDEST_NOT_READY = f"{METRICS_PREFIX}.oldest_not_ready_seconds"
NODES = f"{METRICS_PREFIX}.nodes"

RESOURCES = Resources("20m", "192Mi")  # the Kubernetes client and a list of nodes a minute
SCRATCH = "tmp"  # its /tmp on the read-only image
HEARTBEAT = "/tmp/node-readiness-heartbeat"  # touched after each pass that counted the nodes

CHECKOV_SKIPS = {
    "CKV_K8S_9": "no Service sends the watcher traffic; its liveness probe restarts it when it stops counting",
    "CKV_K8S_11": "no CPU limit: a throttled watcher misses minutes; CPU is requested, memory is limited",
    "CKV_K8S_38": "the watcher lists the cluster's nodes through the Kubernetes API: its account's token is its only "
    "right (list nodes), and the account has no AWS role",
}


def heartbeat_is_fresh(path: str = HEARTBEAT) -> list[str]:
    """Fails once the last pass that counted the nodes is three passes old (the API unreachable, the process
    stuck); two failures a minute apart restart the container, within about five minutes of its last count."""
    return file_is_fresh(path, 3 * AGGREGATION_SECONDS)


def _is_alive() -> dict:
    return {"exec": {"command": heartbeat_is_fresh()}, "initialDelaySeconds": 2 * AGGREGATION_SECONDS,
            "periodSeconds": AGGREGATION_SECONDS, "timeoutSeconds": 10, "failureThreshold": 2}


def deployment(spec: AirflowSpec) -> dict:
    """One replica: a minute without the count while a new one starts leaves the alarm's minutes uncounted, and the
    alarm waits several before it fires. It counts once a minute, the agent's aggregation."""
    selector = labels(spec, "node-readiness")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": WATCHER, "namespace": spec.namespace, "labels": selector,
                     "annotations": checkov_annotations(CHECKOV_SKIPS)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {
                    "labels": selector,
                    "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": SCRATCH},
                },
                "spec": {
                    "serviceAccountName": identities.NODE_WATCHER,
                    "automountServiceAccountToken": True,
                    "securityContext": pod_security_context(),
                    "tolerations": LEAVE_A_FAILED_NODE_SOON,
                    "containers": [{
                        "name": "node-readiness",
                        "image": spec.image,
                        "imagePullPolicy": "IfNotPresent",
                        # Not through the entrypoint: the watcher needs neither Airflow's settings nor its database.
                        "command": [DUMB_INIT, "--", "python", SCRIPT],
                        "args": ["--statsd-host", statsd_host(spec), "--statsd-port", str(STATSD_PORT),
                                 "--prefix", METRICS_PREFIX, "--interval", str(AGGREGATION_SECONDS),
                                 "--heartbeat", HEARTBEAT],
                        "resources": resources(RESOURCES),
                        "securityContext": container_security_context(),
                        "livenessProbe": _is_alive(),
                        "volumeMounts": [{"name": SCRATCH, "mountPath": "/tmp"}],
                    }],
                    "volumes": [{"name": SCRATCH, "emptyDir": {"sizeLimit": "1Mi"}}],
                },
            },
        },
    }
