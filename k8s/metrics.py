"""Airflow's metrics on CloudWatch: every Airflow process (worker pods too) sends StatsD over UDP to the Amazon
CloudWatch agent's StatsD listener, which publishes them under the stack's own namespace with its IRSA role.

How a StatsD name becomes a CloudWatch metric (amazon-cloudwatch-agent, plugins/inputs/statsd: the default graphite
template splits the bucket on "." and joins it with `metric_separator`, "_"; the dimension `metric_type` is the
StatsD type; in a container `host` is omitted, translator/translate/agent/ruleOmitHostname.go): Airflow's
`scheduler_heartbeat` under the prefix `airflow` is `airflow_scheduler_heartbeat`, metric_type=counter. The alarms
(components/shared/alarm_definitions.py) name metrics through `cloudwatch_metric`, and the twin's capture of what
Airflow sends holds them to what it emits (tests/runtime/twin/test_metrics.py).

Only the metrics on the allow list are sent: CloudWatch bills every name and dimension set as a metric of its own,
and Airflow's per-DAG and per-task names (`dagrun.duration.success.<dag_id>`, `ti.finish.<dag>.<task>.<state>`)
would grow with the DAGs.
"""

from __future__ import annotations

import hashlib
import json
import re

from k8s import identities
from k8s.containers import (
    LEAVE_A_FAILED_NODE_SOON,
    checkov_annotations,
    container_security_context,
    labels,
    pod_security_context,
    resources,
)
from k8s.service import cluster_service
from k8s.spec import STATSD_PORT, AirflowSpec, Resources  # the agent's default StatsD address, ":8125" (ruleServiceAddress.go)

STATSD_SERVICE = "airflow-statsd"
STATSD_PREFIX = "airflow"
AGENT = "airflow-metrics"
AGENT_CONFIG_DIR = "/etc/cwagentconfig"  # where the agent reads every *.json in a container (start-amazon-cloudwatch-agent)
AGENT_CONFIG_KEY = "cwagentconfig.json"
# Amazon's image (public ECR, multi-architecture): the tag AWS's own chart pins, aws-observability/helm-charts
# charts/amazon-cloudwatch-observability/values.yaml (release 6.3.0, agent 1.300070.0).
AGENT_IMAGE = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300070.0b1586"
METRIC_SEPARATOR = "_"
# Airflow's metric names (prefix matches, `[metrics] metrics_allow_list`) the alarms and the dashboard read, and
# the few beside them that say how the scheduler and the pools are doing.
ALLOWED_METRICS = (
    "scheduler_heartbeat",
    "triggerer_heartbeat",
    "ti_failures",
    "ti_successes",
    "executor.",
    "dag_processing.import_errors",
    "dag_processing.total_parse_time",
    "scheduler.tasks.",
    "pool.",
)
# A counter's sum and a gauge's maximum per minute; an alarm reads 5-minute periods.
AGGREGATION_SECONDS = 60


def metrics_namespace(environment: str) -> str:
    """The stack's CloudWatch namespace: one per stack, so two stacks in an account never mix their metrics, and the
    agent's role may publish into this one only (cloudwatch:namespace)."""
    return f"Airflow/{environment}"


# The agent's `metric_type` dimension for a StatsD line's type (plugins/inputs/statsd/statsd.go).
STATSD_TYPES = {"c": "counter", "g": "gauge", "ms": "timing", "h": "histogram", "s": "set"}


def agent_metric_name(bucket: str) -> str:
    """The CloudWatch name the agent gives a StatsD bucket as it arrives (prefix included)."""
    return METRIC_SEPARATOR.join(bucket.split("."))


def cloudwatch_metric(statsd_name: str) -> str:
    """The CloudWatch name of what Airflow sends as `statsd_name` (without its prefix)."""
    return agent_metric_name(f"{STATSD_PREFIX}.{statsd_name}")


def statsd_host(spec: AirflowSpec) -> str:
    return f"{STATSD_SERVICE}.{spec.namespace}.svc.cluster.local"


def statsd_settings(spec: AirflowSpec) -> dict[str, str]:
    """Airflow's [metrics] options: StatsD to the agent's Service. Airflow resolves the name when a process starts;
    the Service exists before any Airflow pod (k8s/manifests.py)."""
    return {
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": statsd_host(spec),
        "AIRFLOW__METRICS__STATSD_PORT": str(STATSD_PORT),
        "AIRFLOW__METRICS__STATSD_PREFIX": STATSD_PREFIX,
        "AIRFLOW__METRICS__METRICS_ALLOW_LIST": allow_list(spec),
    }


def allow_list(spec: AirflowSpec) -> str:
    """`[metrics] metrics_allow_list` from the prefixes: Airflow 2 matches each entry at the start of a name; Airflow
    3 reads each as a regular expression found anywhere in it (airflow/_shared/observability/metrics/validators.py,
    PatternAllowListValidator), so there each is anchored and escaped, or `pool.` would let through any per-task
    name with "pool" and a character after it."""
    prefixes = dict.fromkeys((*ALLOWED_METRICS, *spec.extra_metric_prefixes))
    return ",".join(f"^{re.escape(p)}" if spec.airflow3 else p for p in prefixes)


def agent_config(spec: AirflowSpec) -> dict:
    """The agent's configuration: StatsD only. With IRSA the agent learns no region from instance metadata, so it is
    given (translator/translate/agent/ruleRegion.go: "Region info is missing for mode: withIRSA")."""
    return {
        "agent": {"region": spec.region, "omit_hostname": True},
        "metrics": {
            "namespace": metrics_namespace(spec.environment),
            "metrics_collected": {
                "statsd": {
                    "service_address": f":{STATSD_PORT}",
                    "metrics_collection_interval": 10,
                    "metrics_aggregation_interval": AGGREGATION_SECONDS,
                    "metric_separator": METRIC_SEPARATOR,
                }
            },
        },
    }


def agent_config_map(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": AGENT, "namespace": spec.namespace, "labels": labels(spec, "metrics")},
        "data": {AGENT_CONFIG_KEY: json.dumps(agent_config(spec), indent=2, sort_keys=True)},
    }


def statsd_service(spec: AirflowSpec) -> dict:
    return cluster_service(spec, STATSD_SERVICE, "metrics", "statsd", STATSD_PORT, "UDP")


AGENT_CHECKOV_SKIPS = {
    "CKV_K8S_8": "the agent's image has no shell and its only listener is StatsD over UDP: there is nothing a "
    "liveness probe could ask; an agent that cannot listen exits (plugins/inputs/statsd) and is restarted",
    "CKV_K8S_9": "no Service sends the agent TCP traffic to be ready for; StatsD over UDP is fire-and-forget",
    "CKV_K8S_11": "no CPU limit, as for Airflow's pods: a throttled agent drops StatsD packets",
    "CKV_K8S_43": "Amazon's published tag is pinned (AGENT_IMAGE); its digest cannot be resolved where the program is "
    "built without a registry",
}


def agent_deployment(spec: AirflowSpec) -> dict:
    """One agent: Airflow's StatsD packets to a missing agent are lost for the minute a new one takes to start, and
    the scheduler-heartbeat alarm waits ten minutes before it fires."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": AGENT, "namespace": spec.namespace, "labels": labels(spec, "metrics"),
            "annotations": checkov_annotations(AGENT_CHECKOV_SKIPS),
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels(spec, "metrics")},
            "template": {
                "metadata": {
                    "labels": labels(spec, "metrics"),
                    # A new configuration rolls the agent: it reads the file once, at start. Its scratch volumes do
                    # not keep the Cluster Autoscaler from draining its node.
                    "annotations": {"checksum/config": hashlib.sha256(
                                        json.dumps(agent_config(spec), sort_keys=True).encode()).hexdigest(),
                                    "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes": ",".join(AGENT_WRITABLE)},
                },
                "spec": {
                    "serviceAccountName": identities.METRICS,
                    # IRSA's token is mounted by EKS's pod identity webhook; the agent never calls the Kubernetes API.
                    "automountServiceAccountToken": False,
                    # The image (FROM scratch) names no user and never switches to one in a container; it needs root
                    # for nothing a StatsD listener on 8125 does.
                    "securityContext": pod_security_context(AGENT_UID, AGENT_UID),
                    "tolerations": LEAVE_A_FAILED_NODE_SOON,
                    "containers": [{
                        "name": "cloudwatch-agent",
                        "image": AGENT_IMAGE,
                        # A tag, not a digest: the node checks it against the registry at each start.
                        "imagePullPolicy": "Always",
                        # Credentials from IRSA's web identity, without probing instance metadata (the nodes' IMDS
                        # answers no pod: hop limit 1): translator/util/sdkutil.go DetectAgentMode.
                        "env": [{"name": "RUN_WITH_IRSA", "value": "True"}],
                        "ports": [{"name": "statsd", "containerPort": STATSD_PORT, "protocol": "UDP"}],
                        "resources": resources(Resources("100m", "256Mi")),
                        "securityContext": container_security_context(AGENT_UID),
                        "volumeMounts": [
                            {"name": "config", "mountPath": AGENT_CONFIG_DIR, "readOnly": True},
                            *({"name": name, "mountPath": path} for name, path in AGENT_WRITABLE.items()),
                        ],
                    }],
                    "volumes": [
                        {"name": "config", "configMap": {"name": AGENT}},
                        *({"name": name, "emptyDir": {"sizeLimit": "64Mi"}} for name in AGENT_WRITABLE),
                    ],
                },
            },
        },
    }


AGENT_UID = 10001
# Where the agent writes on a read-only image (amazon-cloudwatch-agent: translator/cmdutil/translatorutil.go writes
# the translated configuration into etc, without which it exits; cmd/start-amazon-cloudwatch-agent/path.go its pid
# file into var). The image's etc holds only a commented-out common-config.toml, which a container never reads.
# In a container the agent logs to stderr (translator/translate/agent/ruleLogFile.go).
AGENT_WRITABLE = {
    "agent-etc": "/opt/aws/amazon-cloudwatch-agent/etc",
    "agent-var": "/opt/aws/amazon-cloudwatch-agent/var",
    "tmp": "/tmp",
}
