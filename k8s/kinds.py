"""The Kubernetes kinds the Airflow deployment is made of: each kind's API group and the top-level fields its
objects carry beside metadata. The wiring (components/self_managed/airflow_on_kubernetes.py) builds a
pulumi-kubernetes resource from them and the offline renderer turns a resource back into a manifest, from this one
table."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    api_version: str  # as in a manifest: "v1", "apps/v1", "rbac.authorization.k8s.io/v1"
    fields: tuple[str, ...]  # the object's top-level fields beside apiVersion, kind and metadata

    @property
    def sdk_module(self) -> tuple[str, str]:
        """Where pulumi_kubernetes has the kind's class: (group module, version), e.g. ("rbac", "v1")."""
        group, _, version = self.api_version.rpartition("/")
        return (group.split(".")[0] or "core", version)


KINDS: dict[str, Kind] = {
    "Namespace": Kind("v1", ()),
    "ServiceAccount": Kind("v1", ("automountServiceAccountToken",)),
    "Role": Kind("rbac.authorization.k8s.io/v1", ("rules",)),
    "RoleBinding": Kind("rbac.authorization.k8s.io/v1", ("roleRef", "subjects")),
    "ClusterRole": Kind("rbac.authorization.k8s.io/v1", ("rules",)),
    "ClusterRoleBinding": Kind("rbac.authorization.k8s.io/v1", ("roleRef", "subjects")),
    "ConfigMap": Kind("v1", ("data",)),
    "Secret": Kind("v1", ("type", "stringData")),
    "Job": Kind("batch/v1", ("spec",)),
    "CronJob": Kind("batch/v1", ("spec",)),
    "Deployment": Kind("apps/v1", ("spec",)),
    "Service": Kind("v1", ("spec",)),
    "PodDisruptionBudget": Kind("policy/v1", ("spec",)),
    "NetworkPolicy": Kind("networking.k8s.io/v1", ("spec",)),
}

OBJECT_FIELDS = ("metadata", *dict.fromkeys(f for kind in KINDS.values() for f in kind.fields))


def snake(field: str) -> str:
    """A manifest field as the pulumi-kubernetes argument: roleRef -> role_ref."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", field).lower()
