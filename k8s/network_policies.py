"""Who may connect to Airflow's pods: the webserver's port, the triggerer's log server from the webserver, and the
metrics agent's StatsD port and PgBouncer's from Airflow's pods."""

from __future__ import annotations

from k8s.containers import deployment_labels, labels
from k8s.spec import PGBOUNCER_PORT, STATSD_PORT, WEBSERVER_PORT, AirflowSpec

TRIGGERER_LOG_PORT = 8794  # [logging] trigger_log_server_port


def network_policies(spec: AirflowSpec) -> list[dict]:
    """Nothing may connect to Airflow's pods but to the webserver's port; their own traffic out is unrestricted
    (database, S3, Secrets Manager, the Kubernetes API)."""
    base = deployment_labels(spec)
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
        # The metrics agent's StatsD port, and PgBouncer's: from Airflow's own pods only.
        from_airflow_pods(spec, "airflow-statsd-ingress", "metrics", STATSD_PORT, "UDP"),
        *([from_airflow_pods(spec, "airflow-pgbouncer-ingress", "pgbouncer", PGBOUNCER_PORT, "TCP")]
          if spec.pgbouncer_replicas else []),
    ]


def from_airflow_pods(spec: AirflowSpec, name: str, component: str, port: int, protocol: str) -> dict:
    """Only the Airflow deployment's pods (any component, worker pods included) may reach `component` on `port`."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": spec.namespace, "labels": labels(spec, "network")},
        "spec": {
            "podSelector": {"matchLabels": labels(spec, component)},
            "policyTypes": ["Ingress"],
            "ingress": [{
                "from": [{"podSelector": {"matchLabels": deployment_labels(spec)}}],
                "ports": [{"port": port, "protocol": protocol}],
            }],
        },
    }
