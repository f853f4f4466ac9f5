"""`network`: a new VPC over two or three zones, or an existing one; flow logs for either."""

from __future__ import annotations

import ipaddress
from typing import Literal, Optional

from pydantic import model_validator
from pydantic.alias_generators import to_camel

from stackconfig import limits
from stackconfig.errors import UNSET, ConfigIssue
from stackconfig.section import Section as _Section, raise_if as _raise_if


class NetworkSettings(_Section):
    """Either a new VPC (cidr, availabilityZones, natGateways) or an existing one (vpcId, privateSubnetIds)."""

    cidr: str = "10.0.0.0/16"
    """IPv4 network, `/16` to `/24`. Changing it replaces the VPC and everything in it."""
    availability_zones: Optional[list[str]] = None
    """Unset: the Region's first 2. 2 or 3 different zones of `aws:region`. Changing it on a deployed managed stack replaces the subnets and with them the MWAA environment (MWAA's subnets are create-only), whose metadata database is lost."""
    nat_gateways: Literal["single", "perAz", "none"] = "single"
    """`single`, `perAz` (one per zone), `none` (no internet: interface endpoints for MWAA's services and Secrets
    Manager; managed flavour only, as EKS nodes need NAT)
    """
    private_subnet_cidrs: Optional[list[str]] = None
    """Unset: carved from `network.cidr`. one CIDR per zone, inside the VPC, `/28` or larger, no overlaps. Changing it on a deployed managed stack replaces the subnets and with them the MWAA environment (MWAA's subnets are create-only), whose metadata database is lost."""
    public_subnet_cidrs: Optional[list[str]] = None
    """Unset: carved from `network.cidr`. as above; unused with `natGateways: none`"""
    vpc_id: Optional[str] = None
    """Unset: (none). `vpc-...`: adopt an existing VPC instead (no new-VPC keys then)"""
    private_subnet_ids: Optional[list[str]] = None
    """Unset: (none). with `vpcId`: exactly 2 private subnets of that VPC in 2 different zones (looked up). Changing it on a deployed managed stack replaces the subnets and with them the MWAA environment (MWAA's subnets are create-only), whose metadata database is lost."""
    # VPC flow logs (all traffic) to a CloudWatch log group, for a new or an existing VPC; unset follows protectData.
    flow_logs: Optional[bool] = None
    """Unset: `protectData`. VPC flow logs (all traffic) of the new or existing VPC into the log group
    `/aws/vpc/<environmentName>/flow-logs` (encrypted with the stack's key when it has one), written through a role
    of their own
    """
    flow_log_retention_days: int = 90
    """a CloudWatch retention period for the flow log group"""

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None

    @property
    def az_count(self) -> int:
        return len(self.availability_zones) if self.availability_zones else 2

    @model_validator(mode="after")
    def _check(self) -> "NetworkSettings":
        issues: list[ConfigIssue] = []
        if self.existing:
            issues += self._check_existing()
        else:
            issues += self._check_new()
        if self.flow_log_retention_days not in limits.LOG_RETENTION_DAYS:
            issues.append(
                ConfigIssue(
                    "flowLogRetentionDays",
                    self.flow_log_retention_days,
                    f"one of CloudWatch's retention periods: {', '.join(map(str, limits.LOG_RETENTION_DAYS))}",
                )
            )
        _raise_if(issues)
        return self

    def _check_existing(self) -> list[ConfigIssue]:
        issues = []
        if not limits.VPC_ID.match(self.vpc_id or ""):
            issues.append(ConfigIssue("vpcId", self.vpc_id, "a VPC id like vpc-0123456789abcdef0"))
        ids = self.private_subnet_ids
        if ids is None:
            issues.append(ConfigIssue("privateSubnetIds", UNSET, "required with vpcId: two private subnet ids"))
        elif len(ids) != 2 or len(set(ids)) != 2:
            issues.append(
                ConfigIssue("privateSubnetIds", ids, "exactly two different private subnets (MWAA takes two)")
            )
        else:
            for i, subnet in enumerate(ids):
                if not limits.SUBNET_ID.match(subnet):
                    issues.append(ConfigIssue(f"privateSubnetIds[{i}]", subnet, "a subnet id like subnet-0abc1234"))
        for name in ("cidr", "availability_zones", "nat_gateways", "private_subnet_cidrs", "public_subnet_cidrs"):
            if self._is_set(name):
                issues.append(
                    ConfigIssue(
                        to_camel(name),
                        getattr(self, name),
                        "only for a new VPC; remove it when network.vpcId adopts an existing VPC",
                    )
                )
        return issues

    def _check_new(self) -> list[ConfigIssue]:
        issues = []
        if self.private_subnet_ids is not None:
            issues.append(
                ConfigIssue("privateSubnetIds", self.private_subnet_ids, "only with network.vpcId (an existing VPC)")
            )
        try:
            vpc = ipaddress.IPv4Network(self.cidr, strict=True)
        except ValueError as err:
            issues.append(ConfigIssue("cidr", self.cidr, f"an IPv4 network such as 10.0.0.0/16 ({err})"))
            vpc = None
        if vpc is not None and not 16 <= vpc.prefixlen <= 24:
            issues.append(ConfigIssue("cidr", self.cidr, "a prefix from /16 to /24 (room for the subnets)"))
            vpc = None
        zones = self.availability_zones
        if zones is not None:
            if not 2 <= len(zones) <= 3 or len(set(zones)) != len(zones):
                issues.append(ConfigIssue("availabilityZones", zones, "two or three different zones"))
            for i, zone in enumerate(zones):
                if not limits.AVAILABILITY_ZONE.match(zone):
                    issues.append(ConfigIssue(f"availabilityZones[{i}]", zone, "a zone name such as eu-west-1a"))
        issues += self._check_subnet_cidrs(vpc)
        return issues

    def _check_subnet_cidrs(self, vpc: Optional[ipaddress.IPv4Network]) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for field in ("private_subnet_cidrs", "public_subnet_cidrs"):
            cidrs = getattr(self, field)
            if cidrs is None:
                continue
            key = to_camel(field)
            if len(cidrs) != self.az_count:
                issues.append(ConfigIssue(key, cidrs, f"one CIDR per availability zone ({self.az_count})"))
            for i, text in enumerate(cidrs):
                item = f"{key}[{i}]"
                try:
                    net = ipaddress.IPv4Network(text, strict=True)
                except ValueError as err:
                    issues.append(ConfigIssue(item, text, f"an IPv4 network such as 10.0.0.0/19 ({err})"))
                    continue
                if net.prefixlen > 28:
                    issues.append(ConfigIssue(item, text, "a prefix of /28 or larger (AWS's smallest subnet)"))
                if vpc is not None and not net.subnet_of(vpc):
                    issues.append(ConfigIssue(item, text, f"a range inside network.cidr {vpc}"))
                for other_key, other in seen:
                    if net.overlaps(other):
                        issues.append(
                            ConfigIssue(item, text, f"a range that does not overlap network.{other_key} ({other})")
                        )
                seen.append((item, net))
        return issues

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """The private and public subnet CIDRs: as configured, or carved from the VPC range.

        The VPC range is cut into eight equal blocks: private subnets take the first ones (where the workers and
        the database live, and the addresses run out first), public subnets the last ones.
        """
        blocks = list(ipaddress.IPv4Network(self.cidr).subnets(prefixlen_diff=3))
        n = self.az_count
        private = self.private_subnet_cidrs or [str(b) for b in blocks[:n]]
        public = self.public_subnet_cidrs or [str(b) for b in blocks[4 : 4 + n]]
        return list(private), list(public)
