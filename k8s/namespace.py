"""Airflow's namespace, under Pod Security Admission's restricted profile."""

from __future__ import annotations

from k8s.containers import labels
from k8s.spec import AirflowSpec


def namespace(spec: AirflowSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": spec.namespace,
            "labels": {
                **labels(spec, "namespace"),
                # Pod Security Admission: the restricted profile, which every pod here meets.
                "pod-security.kubernetes.io/enforce": "restricted",
            },
        },
    }
