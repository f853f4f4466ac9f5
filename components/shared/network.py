"""The network Airflow runs in: a new VPC over two or three zones, or the private subnets of an existing one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import json

import pulumi
import pulumi_aws as aws

from components.naming import flow_log_group_name
from components.shared.service_role_policies import flow_log_policy, service_trust_policy
from stackconfig.network import NetworkSettings

# With no NAT, MWAA's workers reach AWS services only through these interface endpoints (S3 has a gateway endpoint
# in every case); secretsmanager is here because Airflow reads Variables and Connections from it.
INTERFACE_ENDPOINT_SERVICES = (
    "airflow.api",
    "airflow.env",
    "airflow.ops",
    "sqs",
    "logs",
    "monitoring",
    "kms",
    "ecr.api",
    "ecr.dkr",
    "secretsmanager",
)


@dataclass
class FlowLogArgs:
    """VPC flow logs (all traffic) into a log group of their own, written through a role of their own."""

    account_id: pulumi.Input[str]
    retention_days: int
    kms_key_arn: Optional[pulumi.Input[str]] = None
    permissions_boundary: Optional[pulumi.Input[str]] = None


@dataclass
class NetworkArgs:
    settings: NetworkSettings
    region: str
    # Resolved zone names; None asks AWS for the Region's first available zones.
    availability_zones: Optional[list[str]] = field(default=None)
    flow_logs: Optional[FlowLogArgs] = None


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:Network", name, None, opts)
        settings = args.settings
        if settings.existing:
            self.vpc_id = pulumi.Output.from_input(settings.vpc_id)  # type: ignore[arg-type]
            self.private_subnet_ids = [pulumi.Output.from_input(s) for s in settings.private_subnet_ids or []]
            self.public_subnet_ids = []
        else:
            self._build(name, args)
        if args.flow_logs is not None:
            self._flow_logs(name, args.region, args.flow_logs)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    def _flow_logs(self, name: str, region: str, args: FlowLogArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=flow_log_group_name(name),
            retention_in_days=args.retention_days,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )
        account = pulumi.Output.from_input(args.account_id)
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            description=f"VPC flow logs of {name}",
            assume_role_policy=account.apply(lambda a: json.dumps(service_trust_policy("vpc-flow-logs.amazonaws.com", a))),
            permissions_boundary=args.permissions_boundary,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=account.apply(
                lambda a: json.dumps(flow_log_policy(region=region, account=a, log_group=flow_log_group_name(name)))
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            tags={"Name": f"{name}-flow-logs"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

    def _zones(self, args: NetworkArgs) -> list[str]:
        if args.settings.availability_zones:
            return list(args.settings.availability_zones)
        found = aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOptions(parent=self),
        )
        return sorted(found.names or [])[: args.settings.az_count]

    def _build(self, name: str, args: NetworkArgs) -> None:
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        zones = self._zones(args)
        private_cidrs, public_cidrs = settings.subnet_cidrs()

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # interface endpoints with private DNS need both
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        self.vpc_id = vpc.id
        # The default security group of a new VPC allows all traffic between its members; take that away.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, tags={"Name": f"{name}-default"}, opts=child)

        private = [
            aws.ec2.Subnet(
                f"{name}-private-{i + 1}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                # The role tag lets Kubernetes place internal load balancers (the webserver's) here.
                tags={"Name": f"{name}-private-{zone}", "tier": "private", "kubernetes.io/role/internal-elb": "1", **_cluster_tag(name)},
                opts=child,
            )
            for i, (zone, cidr) in enumerate(zip(zones, private_cidrs))
        ]
        self.private_subnet_ids = [s.id for s in private]

        nat_ids = self._public_side(name, settings, vpc, zones, public_cidrs)

        private_tables = []
        for i, subnet in enumerate(private):
            table = aws.ec2.RouteTable(
                f"{name}-private-{i + 1}-routes", vpc_id=vpc.id, tags={"Name": f"{name}-private-{i + 1}"}, opts=child
            )
            if nat_ids:
                aws.ec2.Route(
                    f"{name}-private-{i + 1}-default",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_ids[i % len(nat_ids)],  # one NAT per zone, or the single one
                    opts=child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i + 1}-routes", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            private_tables.append(table)

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in private_tables],
            tags={"Name": f"{name}-s3"},
            opts=child,
        )
        if settings.nat_gateways == "none":
            self._interface_endpoints(name, args.region, vpc, settings.cidr)

    def _public_side(
        self, name: str, settings: NetworkSettings, vpc: aws.ec2.Vpc, zones: list[str], cidrs: list[str]
    ) -> list[pulumi.Output[str]]:
        """Public subnets, the internet gateway and the NAT gateways; none of it without NAT."""
        if settings.nat_gateways == "none":
            self.public_subnet_ids = []
            return []
        child = pulumi.ResourceOptions(parent=self)
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child)
        table = aws.ec2.RouteTable(f"{name}-public-routes", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child)
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=gateway.id,
            opts=child,
        )
        public = []
        for i, (zone, cidr) in enumerate(zip(zones, cidrs)):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{i + 1}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,  # only NAT gateways live here, with their own Elastic IPs
                tags={"Name": f"{name}-public-{zone}", "tier": "public", "kubernetes.io/role/elb": "1", **_cluster_tag(name)},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-public-{i + 1}-routes", subnet_id=subnet.id, route_table_id=table.id, opts=child)
            public.append(subnet)
        self.public_subnet_ids = [s.id for s in public]

        count = 1 if settings.nat_gateways == "single" else len(public)
        nat_ids = []
        for i in range(count):
            address = aws.ec2.Eip(f"{name}-nat-{i + 1}", domain="vpc", tags={"Name": f"{name}-nat-{i + 1}"}, opts=child)
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{i + 1}",
                allocation_id=address.id,
                subnet_id=public[i].id,
                tags={"Name": f"{name}-nat-{i + 1}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
            nat_ids.append(nat.id)
        return nat_ids

    def _interface_endpoints(self, name: str, region: str, vpc: aws.ec2.Vpc, cidr: str) -> None:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            description="HTTPS from inside the VPC to AWS service endpoints",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=[cidr], description="HTTPS from the VPC")],
            tags={"Name": f"{name}-endpoints"},
            opts=child,
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[group.id],
                tags={"Name": f"{name}-{service}"},
                opts=child,
            )


def _cluster_tag(name: str) -> dict[str, str]:
    # The self-managed flavour's EKS cluster carries the environment's name; Kubernetes' load balancer controller
    # finds the subnets it may use by this tag and the role tags.
    return {f"kubernetes.io/cluster/{name}": "shared"}
