"""The Kubernetes service accounts Airflow's pods run as. IAM roles (IRSA) trust these exact names, so the
objects that create the accounts and the roles that trust them read them from here."""

from __future__ import annotations

SCHEDULER = "airflow-scheduler"
WEBSERVER = "airflow-webserver"
TRIGGERER = "airflow-triggerer"
# Worker pods launched by the KubernetesExecutor (the pod template names this account).
WORKER = "airflow-worker"

AIRFLOW_SERVICE_ACCOUNTS = (SCHEDULER, WEBSERVER, TRIGGERER, WORKER)

# The Cluster Autoscaler runs in kube-system under this account.
AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER = "cluster-autoscaler"
