"""docker/node_readiness.py, the node watcher (k8s/node_readiness.py), with each offered image's Kubernetes
client: it lists the nodes from an API server's answer (a NodeList as the API serves it), counts the ones not Ready
(not those the Cluster Autoscaler is removing) and how long the longest has been so, and sends the gauges the
`nodes-not-ready` and `node-watcher-silent` alarms read; an API it cannot reach sends nothing.

Not checked here: the pod's in-cluster configuration (the token at /var/run/secrets/..., which only a kubelet
mounts) and RBAC; this runs the client through a kubeconfig instead, the script's other way in."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from components.shared.alarm_definitions import self_managed_alarms
from k8s.metrics import agent_metric_name
from k8s.node_readiness import METRICS_PREFIX as NODE_METRICS_PREFIX
from local.statsd_sink import StatsdSink
from stackconfig.load import from_stack_file
from stackconfig.monitoring import MonitoringSettings
from stackconfig.project_files import PROJECT_DIR, offered_image_versions

pytestmark = pytest.mark.runtime

SCRIPT = PROJECT_DIR / "docker" / "node_readiness.py"


def _at(seconds_ago: int) -> str:
    """A time as the API writes them, `seconds_ago` before now (when the answer is made, just before it is served)."""
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node(name: str, ready: str | None, taints: list[dict] | None = None, *, registered: int = 86400,
          changed: int = 3600) -> dict:
    conditions = [{"type": "MemoryPressure", "status": "False", "lastTransitionTime": _at(registered)}]
    if ready is not None:
        conditions.append({"type": "Ready", "status": ready, "lastTransitionTime": _at(changed),
                           "reason": "KubeletReady" if ready == "True" else "NodeStatusUnknown"})
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}, "creationTimestamp": _at(registered)},
            "spec": {"providerID": f"aws:///eu-west-1a/i-{name}", **({"taints": taints} if taints else {})},
            "status": {"conditions": conditions}}


def _nodes(*items: dict) -> dict:
    return {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "42"}, "items": list(items)}


def _cluster() -> dict:
    return _nodes(
        _node("ready-1", "True"),
        _node("ready-2", "True"),
        _node("lost", "Unknown", changed=600),  # the kubelet stopped reporting ten minutes ago
        _node("joining", None, registered=30),  # registered half a minute ago, no Ready condition yet
        # Chosen by the autoscaler for removal, its instance gone an hour ago: not counted.
        _node("leaving", "Unknown", [{"key": "ToBeDeletedByClusterAutoscaler", "value": "1764000000", "effect": "NoSchedule"}],
              changed=3600),
    )


class _Api(BaseHTTPRequestHandler):
    answer: tuple[int, dict] = (200, {})
    requests: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).requests.append((self.path, self.headers.get("Authorization", "")))
        status, body = type(self).answer
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def api(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Api.requests = []
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "twin",
        "clusters": [{"name": "twin", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "watcher", "user": {"token": "the-watchers-token"}}],
        "contexts": [{"name": "twin", "context": {"cluster": "twin", "user": "watcher"}}],
    }))
    yield kubeconfig
    server.shutdown()


def _watch_once(bin_dir, kubeconfig, port, heartbeat):
    return subprocess.run(
        [str(bin_dir / "python"), str(SCRIPT), "--once", "--statsd-port", str(port), "--prefix", NODE_METRICS_PREFIX,
         "--heartbeat", str(heartbeat)],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(kubeconfig.parent), "KUBECONFIG": str(kubeconfig)},
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("version", offered_image_versions())
def test_the_watcher_sends_the_count_the_alarm_reads(version, image_envs, api, tmp_path):
    settings = from_stack_file(PROJECT_DIR, "prod")
    alarms = {a.what: a for a in self_managed_alarms(settings.name, settings.database, MonitoringSettings())}
    sink = StatsdSink()
    try:
        _Api.answer = (200, _cluster())
        done = _watch_once(image_envs[version], api, sink.port, tmp_path / "heartbeat")
        assert done.returncode == 0, done.stderr[-2000:]
        assert "2 of 4 nodes not ready" in done.stderr
        for _ in range(50):  # UDP: the lines arrive a moment after the process ends
            if len(sink.last_value) >= 3:
                break
            threading.Event().wait(0.1)
        sent = sink.names()
    finally:
        sink.close()
    # "lost" and "joining" are not Ready, "lost" for ten minutes; "leaving" is the autoscaler's and not counted.
    values = dict(sink.last_value)
    oldest = int(values.pop(f"{NODE_METRICS_PREFIX}.oldest_not_ready_seconds"))
    assert 600 <= oldest < 600 + 120
    assert values == {f"{NODE_METRICS_PREFIX}.nodes_not_ready": "2", f"{NODE_METRICS_PREFIX}.nodes": "4"}
    # What the agent makes of each gauge is an alarm's metric (k8s/metrics.py: the agent's naming), and ten minutes
    # of one node is over the alarm's threshold.
    assert all(kinds == {"g"} for kinds in sent.values())
    read = {a.metric.name: a for a in (alarms["nodes-not-ready"], alarms["node-watcher-silent"])}
    assert set(read) <= {agent_metric_name(name) for name in sent}
    assert oldest >= alarms["nodes-not-ready"].threshold
    assert all(dict(a.metric.dimensions) == {"metric_type": "gauge"} for a in read.values())
    # One list call, with the account's token, bounded in time.
    assert [path for path, _ in _Api.requests] == ["/api/v1/nodes?timeoutSeconds=30"]
    assert _Api.requests[0][1] == "Bearer the-watchers-token"
    assert (tmp_path / "heartbeat").exists()


def test_an_api_it_cannot_read_sends_nothing_and_touches_no_heartbeat(image_env_bin, api, tmp_path):
    sink = StatsdSink()
    try:
        _Api.answer = (403, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403})
        done = _watch_once(image_env_bin, api, sink.port, tmp_path / "heartbeat")
        threading.Event().wait(0.5)
        assert sink.names() == {}
    finally:
        sink.close()
    assert done.returncode == 1
    assert "could not count the nodes" in done.stderr and "403" in done.stderr
    assert not (tmp_path / "heartbeat").exists()


def test_all_nodes_ready_sends_an_age_of_zero(image_env_bin, api, tmp_path):
    sink = StatsdSink()
    try:
        _Api.answer = (200, _nodes(_node("ready-1", "True", changed=30), _node("ready-2", "True")))
        done = _watch_once(image_env_bin, api, sink.port, tmp_path / "heartbeat")
        for _ in range(50):
            if len(sink.last_value) >= 3:
                break
            threading.Event().wait(0.1)
    finally:
        sink.close()
    assert done.returncode == 0, done.stderr[-2000:]
    assert sink.last_value == {f"{NODE_METRICS_PREFIX}.oldest_not_ready_seconds": "0",
                               f"{NODE_METRICS_PREFIX}.nodes_not_ready": "0", f"{NODE_METRICS_PREFIX}.nodes": "2"}
