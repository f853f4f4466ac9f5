"""k8s/node_readiness.py and its rights (k8s/rbac.py): the node watcher may list nodes and nothing else, has no AWS
role, and sends its count to the metrics agent's Service."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from k8s import identities
from k8s.containers import DUMB_INIT
from k8s.manifests import airflow_objects
from k8s.metrics import AGENT, statsd_host
from k8s.node_readiness import HEARTBEAT, SCRIPT, WATCHER, heartbeat_is_fresh
from k8s.rbac import node_reader_name
from k8s.spec import STATSD_PORT
from stackconfig.project_files import PROJECT_DIR
from tests.unit.test_k8s_objects import SPEC


def _objects():
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in airflow_objects(SPEC)}


def test_the_watcher_may_list_nodes_and_nothing_else():
    objects = _objects()
    role = objects[f"ClusterRole/{node_reader_name(SPEC)}"]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]
    binding = objects[f"ClusterRoleBinding/{node_reader_name(SPEC)}"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": identities.NODE_WATCHER, "namespace": SPEC.namespace}]
    # Cluster-scoped: no namespace, a name of this deployment's own.
    assert "namespace" not in role["metadata"] and SPEC.namespace in role["metadata"]["name"]
    # The only binding to its account, and the account has no AWS role.
    bound = [o for o in objects.values() if o["kind"].endswith("RoleBinding")
             and any(s["name"] == identities.NODE_WATCHER for s in o["subjects"])]
    assert bound == [binding]
    account = objects[f"ServiceAccount/{identities.NODE_WATCHER}"]
    assert "annotations" not in account["metadata"] and identities.NODE_WATCHER not in SPEC.role_arns


def test_the_watcher_runs_the_images_script_and_sends_to_the_agents_service():
    objects = _objects()
    pod = objects[f"Deployment/{WATCHER}"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == identities.NODE_WATCHER and pod["automountServiceAccountToken"] is True
    (container,) = pod["containers"]
    # Through the image's init: Python as PID 1 would ignore the SIGTERM of every rollout and drain.
    assert container["command"] == [DUMB_INIT, "--", "python", SCRIPT] and container["image"] == SPEC.image
    args = container["args"]
    assert args[args.index("--statsd-host") + 1] == statsd_host(SPEC)
    assert args[args.index("--statsd-port") + 1] == str(STATSD_PORT)
    assert f"Service/{statsd_host(SPEC).split('.')[0]}" in objects
    # Its liveness probe reads the heartbeat the script is told to touch.
    assert args[args.index("--heartbeat") + 1] == HEARTBEAT and HEARTBEAT in container["livenessProbe"]["exec"]["command"][-1]
    # The heartbeat's folder is writable on the read-only image, and does not hold its node against the autoscaler.
    (mount,) = container["volumeMounts"]
    assert HEARTBEAT.startswith(mount["mountPath"] + "/")
    template = objects[f"Deployment/{WATCHER}"]["spec"]["template"]
    assert template["metadata"]["annotations"]["cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes"] == mount["name"]
    dockerfile = (PROJECT_DIR / "docker" / "Dockerfile").read_text()
    assert f"COPY --chmod=0644 node_readiness.py {SCRIPT}" in dockerfile


def test_the_agent_still_gets_no_api_token():
    pod = _objects()["Deployment/airflow-metrics"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False


def test_the_agents_statsd_port_admits_the_watcher():
    objects = _objects()
    (rule,) = objects["NetworkPolicy/airflow-statsd-ingress"]["spec"]["ingress"]
    (source,) = rule["from"]
    watcher = objects[f"Deployment/{WATCHER}"]["spec"]["template"]["metadata"]["labels"]
    assert source["podSelector"]["matchLabels"].items() <= watcher.items()


def test_the_watcher_and_the_agent_leave_a_failed_node_within_a_minute():
    objects = _objects()
    for name in (WATCHER, AGENT):
        tolerations = {t["key"]: t for t in objects[f"Deployment/{name}"]["spec"]["template"]["spec"]["tolerations"]}
        for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            assert tolerations[taint]["effect"] == "NoExecute" and tolerations[taint]["tolerationSeconds"] <= 60


def test_the_liveness_probe_passes_on_a_fresh_heartbeat_and_fails_on_a_stale_or_missing_one(tmp_path):
    beat = tmp_path / "heartbeat"

    def probe() -> int:
        command = heartbeat_is_fresh(str(beat))
        assert command[:2] == ["python", "-c"]
        return subprocess.run([sys.executable, "-c", command[2]], timeout=30).returncode

    assert probe() == 1
    beat.touch()
    assert probe() == 0
    stale = time.time() - 4 * 60
    os.utime(beat, (stale, stale))
    assert probe() == 1
    # The container's probe is the same check on the path the script is told to touch.
    container = _objects()[f"Deployment/{WATCHER}"]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["exec"]["command"] == heartbeat_is_fresh(HEARTBEAT)
