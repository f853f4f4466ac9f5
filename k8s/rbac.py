"""Who may do what inside the namespace: one ServiceAccount per component (IRSA roles annotate them), the
scheduler's right to run worker pods, and the webserver's right to read a running task's log from its pod; and,
outside it, the node watcher's right to list the cluster's nodes."""

from __future__ import annotations

from k8s import identities
from k8s.containers import labels
from k8s.spec import AirflowSpec

MIGRATE = "airflow-migrate"  # the migration Job's account: database only, no AWS, no Kubernetes API
POD_LAUNCHER = "airflow-pod-launcher"
LOG_READER = "airflow-log-reader"
# Which accounts talk to the Kubernetes API at all; the others get no token mounted.
USES_KUBERNETES_API = {identities.SCHEDULER, identities.WEBSERVER, identities.NODE_WATCHER}


def service_accounts(spec: AirflowSpec) -> list[dict]:
    accounts = []
    # The migration Job's and the node watcher's accounts have no AWS role (identities.service_accounts have).
    for name in (*identities.service_accounts(spec.airflow_version), MIGRATE, identities.NODE_WATCHER):
        metadata: dict = {"name": name, "namespace": spec.namespace, "labels": labels(spec, name.removeprefix("airflow-"))}
        if name in spec.role_arns:
            metadata["annotations"] = {"eks.amazonaws.com/role-arn": spec.role_arns[name]}
        accounts.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": metadata,
                "automountServiceAccountToken": name in USES_KUBERNETES_API,
            }
        )
    return accounts


def _role(spec: AirflowSpec, name: str, rules: list[dict]) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": spec.namespace, "labels": labels(spec, "rbac")},
        "rules": rules,
    }


def _binding(spec: AirflowSpec, role: str, service_account: str) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": role, "namespace": spec.namespace, "labels": labels(spec, "rbac")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        # The ServiceAccount the pods run as; a User subject would bind nobody.
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": spec.namespace}],
    }


def roles(spec: AirflowSpec) -> list[dict]:
    # What the KubernetesExecutor calls (cncf.kubernetes provider: create, watch, patch on adoption, delete; the
    # failed pod's log and events for the task's log). No pods/exec: only KubernetesPodOperator's XCom sidecar
    # execs into pods, and a scheduler that could exec into any worker pod could read every task's credentials.
    launcher = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "list", "get", "patch", "watch", "delete"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
    ]
    reader = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "get", "watch"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get", "list"]},
    ]
    return [
        _role(spec, POD_LAUNCHER, launcher),
        _binding(spec, POD_LAUNCHER, identities.SCHEDULER),
        _role(spec, LOG_READER, reader),
        _binding(spec, LOG_READER, identities.WEBSERVER),
        node_reader_role(spec),
        node_reader_binding(spec),
    ]


def node_reader_name(spec: AirflowSpec) -> str:
    # A cluster-wide name: the namespace's in it keeps two deployments of the project on one cluster apart.
    return f"{spec.namespace}-node-reader"


def node_reader_role(spec: AirflowSpec) -> dict:
    """Nodes are cluster-scoped, so only a ClusterRole grants reading them: listing them, nothing else (the node
    watcher, k8s/node_readiness.py)."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": node_reader_name(spec), "labels": labels(spec, "rbac")},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}],
    }


def node_reader_binding(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": node_reader_name(spec), "labels": labels(spec, "rbac")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": node_reader_name(spec)},
        "subjects": [{"kind": "ServiceAccount", "name": identities.NODE_WATCHER, "namespace": spec.namespace}],
    }
