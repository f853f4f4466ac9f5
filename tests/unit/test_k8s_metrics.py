"""k8s/metrics.py: every Airflow process sends StatsD to the CloudWatch agent's Service; the agent publishes into
the stack's namespace with its IRSA role; only Airflow's pods may reach it."""

from __future__ import annotations

import json
from dataclasses import replace

from k8s import environment, identities
from k8s.manifests import airflow_objects
from k8s.metrics import (AGENT, AGENT_CONFIG_DIR, AGENT_CONFIG_KEY, ALLOWED_METRICS, STATSD_PORT, STATSD_SERVICE,
                         agent_metric_name, cloudwatch_metric)
from k8s.pod_template import worker_pod_template
from tests.unit.test_k8s_objects import SPEC


def _objects(spec=SPEC):
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in airflow_objects(spec)}


def test_every_airflow_process_workers_included_sends_statsd_to_the_agents_service():
    objects = _objects()
    settings = objects[f"ConfigMap/{environment.config_map_name(SPEC)}"]["data"]
    assert settings["AIRFLOW__METRICS__STATSD_ON"] == "True"
    assert settings["AIRFLOW__METRICS__STATSD_HOST"] == f"{STATSD_SERVICE}.{SPEC.namespace}.svc.cluster.local"
    assert settings["AIRFLOW__METRICS__STATSD_PORT"] == str(STATSD_PORT)
    service = objects[f"Service/{STATSD_SERVICE}"]["spec"]
    assert service["ports"] == [{"name": "statsd", "port": STATSD_PORT, "targetPort": STATSD_PORT, "protocol": "UDP"}]
    agent = objects[f"Deployment/{AGENT}"]["spec"]["template"]
    assert service["selector"].items() <= agent["metadata"]["labels"].items()
    # Worker pods read the same settings ConfigMap.
    worker = worker_pod_template(SPEC)["spec"]["containers"][0]
    assert {"configMapRef": {"name": environment.config_map_name(SPEC)}} in worker["envFrom"]
    # The Service exists before any pod that resolves its name at start.
    order = list(objects)
    assert order.index(f"Service/{STATSD_SERVICE}") < order.index(next(k for k in order if k.startswith("Job/")))


def test_the_agent_publishes_into_the_stacks_namespace_in_its_region_with_irsa():
    objects = _objects()
    config = json.loads(objects[f"ConfigMap/{AGENT}"]["data"][AGENT_CONFIG_KEY])
    assert config["agent"] == {"region": SPEC.region, "omit_hostname": True}
    assert config["metrics"]["namespace"] == f"Airflow/{SPEC.environment}"
    assert config["metrics"]["metrics_collected"]["statsd"]["service_address"] == f":{STATSD_PORT}"
    pod = objects[f"Deployment/{AGENT}"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == identities.METRICS
    account = objects[f"ServiceAccount/{identities.METRICS}"]["metadata"]
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": SPEC.role_arns[identities.METRICS]}
    (container,) = pod["containers"]
    assert {"name": "RUN_WITH_IRSA", "value": "True"} in container["env"]
    assert {"name": "config", "mountPath": AGENT_CONFIG_DIR, "readOnly": True} in container["volumeMounts"]


def test_only_airflows_pods_may_send_the_agent_statsd():
    policy = _objects()["NetworkPolicy/airflow-statsd-ingress"]["spec"]
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": STATSD_PORT, "protocol": "UDP"}]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "airflow",
                                                             "app.kubernetes.io/instance": SPEC.environment}}}]


def test_only_the_allowed_metrics_are_sent_and_the_stack_may_add_prefixes():
    def allowed(spec):
        settings = _objects(spec)[f"ConfigMap/{environment.config_map_name(spec)}"]["data"]
        return settings["AIRFLOW__METRICS__METRICS_ALLOW_LIST"].split(",")

    assert allowed(SPEC) == list(ALLOWED_METRICS)
    assert allowed(replace(SPEC, extra_metric_prefixes=("dagrun.duration.", "pool."))) == [*ALLOWED_METRICS, "dagrun.duration."]
    # Airflow 3 reads each entry as a regular expression found anywhere in the name: anchored and escaped.
    import re

    airflow3 = allowed(replace(SPEC, airflow_version="3.3.2"))
    assert airflow3[ALLOWED_METRICS.index("pool.")] == r"^pool\."
    matches = [p for p in airflow3 if re.findall(p, "ti.finish.my_pool_dag.load.success")]
    assert matches == [] and any(re.findall(p, "pool.open_slots.default_pool") for p in airflow3)


def test_the_agents_scratch_volumes_do_not_hold_its_node_against_the_autoscaler():
    template = _objects()[f"Deployment/{AGENT}"]["spec"]["template"]
    volumes = {v["name"] for v in template["spec"]["volumes"] if "emptyDir" in v}
    evictable = template["metadata"]["annotations"]["cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes"]
    assert set(evictable.split(",")) == volumes


def test_statsd_names_become_the_agents_cloudwatch_names():
    assert cloudwatch_metric("scheduler_heartbeat") == "airflow_scheduler_heartbeat"
    assert cloudwatch_metric("dag_processing.import_errors") == agent_metric_name("airflow.dag_processing.import_errors")
    assert agent_metric_name("airflow.dag_processing.import_errors") == "airflow_dag_processing_import_errors"
