"""`cluster` (self-managed): the EKS cluster, its managed node group, and the namespace Airflow runs in."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator

from stackconfig import limits
from stackconfig.errors import UNSET, ConfigIssue
from stackconfig.section import Section, raise_if, retention_issues as _retention, within

EksVersion = Literal[limits.EKS_VERSIONS]  # type: ignore[valid-type]
EksLogType = Literal[limits.EKS_LOG_TYPES]  # type: ignore[valid-type]


class ClusterSettings(Section):
    """The EKS cluster, its managed node group, and the namespace Airflow runs in."""

    kubernetes_version: EksVersion = "1.35"
    """`1.32`, `1.33`, `1.34`, `1.35` (the Cluster Autoscaler is pinned per version). EKS upgrades one minor at a
    time. 1.32 to 1.34 are past EKS standard support (1.34 since 2026-12-02): EKS bills extended support, $0.50 more
    per cluster hour, and `pulumi up` warns; 1.35's standard support runs to 2027-03-27"""
    # `pulumi up` talks to the API server to deploy Airflow: a private-only endpoint needs a runner inside the VPC.
    endpoint_public_access: bool = True
    """`true`: the API server is reachable from `publicAccessCidrs` (still IAM-authenticated), which `pulumi up` needs
    unless it runs inside the VPC; `false`: private endpoint only (the shipped prod stack: its runners reach the
    VPC)
    """
    public_access_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"])
    """IPv4 ranges allowed to reach the public endpoint; only with `endpointPublicAccess: true`. While `protectData` is
    true it must be set, and a `/0` range is refused: name your runners' and admins' egress ranges or make the
    endpoint private
    """
    log_types: list[EksLogType] = Field(default_factory=lambda: ["api", "audit", "authenticator"])
    """control-plane logs to CloudWatch: any of `api`, `audit`, `authenticator`, `controllerManager`, `scheduler`"""
    log_retention_days: int = 30
    """a CloudWatch retention period (as `mwaa.logRetentionDays`) for `/aws/eks/<cluster>/cluster`, which the program
    creates before the cluster so EKS does not create it without retention
    """
    # IAM users or roles (a CI role, an SSO role) given cluster-admin besides whoever creates the cluster.
    admin_principal_arns: list[str] = Field(default_factory=list)
    """IAM role or user ARNs given cluster-admin (EKS access entries) besides whoever creates the cluster (EKS makes
    the creator admin itself). Do not list the principal that runs the first `pulumi up`: EKS refuses a second entry
    for it (409 ResourceInUseException), so the program refuses it while the cluster does not exist yet (once it
    exists, the creator is no longer known to the program: adding the creator then fails in EKS with that 409). Add
    your team's SSO role, and, if someone else created the cluster, the deploy role, or only the creator can run
    `pulumi up` against the cluster
    """
    node_instance_types: list[str] = Field(default_factory=lambda: ["m6i.large"])
    """one or more x86_64 EC2 types of one size, e.g. `[m6i.large, m7i.large]` (the image is linux/amd64, so Graviton
    types are refused; the Cluster Autoscaler sizes a group by one type)
    """
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    """`ON_DEMAND`, `SPOT` (two or more instance types)"""
    min_nodes: int = 2
    """1-450"""
    desired_nodes: int = 2
    """`minNodes` to `maxNodes`; the starting size: afterwards the Cluster Autoscaler owns it and `pulumi up` leaves it
    alone
    """
    max_nodes: int = 6
    """1-450, at least `desiredNodes`: how far the Cluster Autoscaler may grow for queued worker pods"""
    node_disk_size_gb: int = 50
    """20-16384 GiB per node: an encrypted gp3 root volume. Nodes allow IMDSv2 only with one network hop, so pods
    cannot use the node's role; they get AWS access through IRSA
    """
    namespace: str = "airflow"
    """the Kubernetes namespace Airflow runs in (IRSA roles trust its service accounts); a DNS label, not `kube-*`"""

    @model_validator(mode="after")
    def _check(self) -> "ClusterSettings":
        issues: list[ConfigIssue] = []
        issues += self._check_nodes()
        issues += self._check_endpoint()
        if not limits.K8S_NAME.match(self.namespace) or self.namespace.startswith("kube-"):
            issues.append(
                ConfigIssue("namespace", self.namespace, "a Kubernetes name: 1-63 lower-case letters, digits and '-', not kube-*")
            )
        if len(set(self.log_types)) != len(self.log_types):
            issues.append(ConfigIssue("logTypes", self.log_types, "each log type once"))
        issues += _retention("logRetentionDays", self.log_retention_days)
        for i, principal in enumerate(self.admin_principal_arns):
            if not limits.IAM_PRINCIPAL_ARN.match(principal):
                issues.append(
                    ConfigIssue(
                        f"adminPrincipalArns[{i}]",
                        principal,
                        "an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins",
                    )
                )
        raise_if(issues)
        return self

    def _check_nodes(self) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        types = self.node_instance_types
        if not types or len(set(types)) != len(types):
            issues.append(ConfigIssue("nodeInstanceTypes", types, "one or more different EC2 instance types"))
        if self.capacity_type == "SPOT" and len(types) < 2:
            issues.append(
                ConfigIssue("nodeInstanceTypes", types, "two or more types with capacityType SPOT, so that Spot capacity is found")
            )
        sizes = {name.split(".", 1)[-1] for name in types}
        if len(sizes) > 1:
            issues.append(
                ConfigIssue(
                    "nodeInstanceTypes",
                    types,
                    "types of one size (e.g. m6i.large and m7i.large): the Cluster Autoscaler sizes a node group by one type",
                )
            )
        for i, name in enumerate(types):
            if not limits.EC2_INSTANCE_TYPE.match(name):
                issues.append(ConfigIssue(f"nodeInstanceTypes[{i}]", name, "an EC2 instance type such as m6i.large"))
            elif limits.ARM_INSTANCE_FAMILY.match(name):
                issues.append(
                    ConfigIssue(f"nodeInstanceTypes[{i}]", name, "an x86_64 instance type: the Airflow image is built for linux/amd64")
                )
        bounds = (1, limits.EKS_MAX_NODES)
        issues += within("minNodes", self.min_nodes, bounds)
        issues += within("maxNodes", self.max_nodes, bounds)
        if not issues and not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            issues.append(
                ConfigIssue(
                    "desiredNodes",
                    self.desired_nodes,
                    f"from cluster.minNodes ({self.min_nodes}) to cluster.maxNodes ({self.max_nodes})",
                )
            )
        issues += within("nodeDiskSizeGb", self.node_disk_size_gb, limits.NODE_DISK_GB, " GiB")
        return issues

    def check_protected(self) -> list[ConfigIssue]:
        """A protected stack's API server is never open to the whole internet by default: the ranges are chosen."""
        if not self.endpoint_public_access:
            return []
        if not self._is_set("public_access_cidrs"):
            return [
                ConfigIssue(
                    "cluster.publicAccessCidrs",
                    UNSET,
                    "set while protectData is true: the IPv4 ranges of the runners and people who reach the Kubernetes "
                    "API (pulumi config set --path 'cluster.publicAccessCidrs[0]' 203.0.113.0/24), or "
                    "cluster.endpointPublicAccess false for a private endpoint",
                )
            ]
        return []

    @property
    def open_to_the_internet(self) -> bool:
        return self.endpoint_public_access and any(text.endswith("/0") for text in self.public_access_cidrs)

    def _check_endpoint(self) -> list[ConfigIssue]:
        issues = []
        if not self.public_access_cidrs:
            issues.append(ConfigIssue("publicAccessCidrs", [], "one or more IPv4 ranges, e.g. [203.0.113.0/24]"))
        for i, text in enumerate(self.public_access_cidrs):
            try:
                ipaddress.IPv4Network(text, strict=True)
            except ValueError as err:
                issues.append(ConfigIssue(f"publicAccessCidrs[{i}]", text, f"an IPv4 range such as 203.0.113.0/24 ({err})"))
        if not self.endpoint_public_access and self._is_set("public_access_cidrs"):
            issues.append(
                ConfigIssue("publicAccessCidrs", self.public_access_cidrs, "only with cluster.endpointPublicAccess true")
            )
        return issues
