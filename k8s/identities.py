"""The Kubernetes service accounts Airflow's pods run as. IAM roles (IRSA) trust these exact names, so the
objects that create the accounts and the roles that trust them read them from here."""

from __future__ import annotations

SCHEDULER = "airflow-scheduler"
WEBSERVER = "airflow-webserver"
TRIGGERER = "airflow-triggerer"
# Worker pods launched by the KubernetesExecutor (the pod template names this account).
WORKER = "airflow-worker"
# Airflow 3 parses DAGs in a process of its own.
DAG_PROCESSOR = "airflow-dag-processor"

AIRFLOW_SERVICE_ACCOUNTS = (SCHEDULER, WEBSERVER, TRIGGERER, WORKER)
# The CloudWatch agent that ships Airflow's StatsD metrics (k8s/metrics.py): it publishes metrics, nothing else.
METRICS = "airflow-metrics"
# The node watcher (k8s/node_readiness.py): it lists the cluster's nodes and has no AWS role.
NODE_WATCHER = "airflow-node-readiness"


def service_accounts(airflow_version: str) -> tuple[str, ...]:
    """The accounts of an Airflow version's components. The UI's keeps its name on Airflow 3 (where it runs the
    api-server), so that an upgrade rolls the same Deployment, Service and IRSA role; and the metrics agent's."""
    if airflow_version.startswith("2."):
        return (*AIRFLOW_SERVICE_ACCOUNTS, METRICS)
    return (*AIRFLOW_SERVICE_ACCOUNTS, DAG_PROCESSOR, METRICS)

# The Cluster Autoscaler runs in kube-system under this account.
AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER = "cluster-autoscaler"
