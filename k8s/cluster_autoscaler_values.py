"""Values for the Cluster Autoscaler's official Helm chart (kubernetes/autoscaler, chart `cluster-autoscaler`).

The autoscaler's minor version must match the cluster's; the chart's own default follows its newest release, so
the image tag is pinned per Kubernetes version here."""

from __future__ import annotations

from k8s import identities

CHART = "cluster-autoscaler"
CHART_REPOSITORY = "https://kubernetes.github.io/autoscaler"
CHART_VERSION = "9.52.1"
IMAGE_TAGS = {"1.32": "v1.32.3", "1.33": "v1.33.1", "1.34": "v1.34.0", "1.35": "v1.35.0"}


def autoscaler_values(*, cluster_name: str, region: str, role_arn: str, kubernetes_version: str) -> dict:
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        # Managed node groups carry the k8s.io/cluster-autoscaler/<cluster> tags this discovery looks for.
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"tag": IMAGE_TAGS[kubernetes_version]},
        "rbac": {
            "serviceAccount": {
                "create": True,
                "name": identities.AUTOSCALER,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            }
        },
        "extraArgs": {
            "balance-similar-node-groups": True,
            "expander": "least-waste",
            # Idle nodes go after 10 minutes; worker pods are short-lived and leave nodes empty often.
            "scale-down-unneeded-time": "10m",
            "skip-nodes-with-system-pods": False,
        },
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"memory": "600Mi"}},
        "podDisruptionBudget": {"maxUnavailable": 1},
    }
