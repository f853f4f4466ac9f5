"""Who may connect to Airflow's pods: the webserver's port, the triggerer's log server from the webserver, and the
metrics agent's StatsD port from Airflow's pods."""

from __future__ import annotations

from k8s.containers import labels
from k8s.metrics import statsd_network_policy
from k8s.spec import WEBSERVER_PORT, AirflowSpec

TRIGGERER_LOG_PORT = 8794  # [logging] trigger_log_server_port


def network_policies(spec: AirflowSpec) -> list[dict]:
    """Nothing may connect to Airflow's pods but to the webserver's port; their own traffic out is unrestricted
    (database, S3, Secrets Manager, the Kubernetes API)."""
    base = {"app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": spec.environment}
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "airflow-deny-ingress", "namespace": spec.namespace, "labels": labels(spec, "network")},
            "spec": {"podSelector": {"matchLabels": base}, "policyTypes": ["Ingress"], "ingress": []},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "airflow-webserver-ingress", "namespace": spec.namespace, "labels": labels(spec, "network")},
            "spec": {
                "podSelector": {"matchLabels": labels(spec, "webserver")},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": [{"port": WEBSERVER_PORT, "protocol": "TCP"}]}],
            },
        },
        {
            # The webserver reads a deferred task's log from the triggerer's log server.
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "airflow-triggerer-logs", "namespace": spec.namespace, "labels": labels(spec, "network")},
            "spec": {
                "podSelector": {"matchLabels": labels(spec, "triggerer")},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": labels(spec, "webserver")}}],
                        "ports": [{"port": TRIGGERER_LOG_PORT, "protocol": "TCP"}],
                    }
                ],
            },
        },
        statsd_network_policy(spec),
    ]
