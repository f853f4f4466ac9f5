"""A stack's monthly estimate from its plan: a line per billed thing, each a quantity times a unit price from the
table, and the assumptions that stand in for what the plan cannot know (traffic, log volume, stored data).

Pure: it reads a plan's resources (type, name, inputs) and a price table, and creates nothing. Every resource type
a plan holds is either priced by a rule below or named in NOT_BILLED with the reason; a type that is neither stops
the estimate, so a resource added to the program cannot go uncounted in silence.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Mapping, Optional, Protocol

from cost import dimensions as d
from cost.table import MissingPrice, Price, PriceTable
from k8s.metrics import AGENT as METRICS_AGENT
from stackconfig.limits import eks_standard_support_ended


class EstimateError(ValueError):
    """The plan holds something the estimate cannot price; the message says what."""


class Resource(Protocol):
    type: str
    name: str
    inputs: dict[str, Any]
    id: Optional[str]  # the provider's id (the mocks' in an offline plan), which other resources refer to


@dataclass(frozen=True)
class Assumptions:
    """What the plan cannot know. Each is a `--assume name=value` of `make cost` (ASSUME="name=value ...")."""

    hoursPerMonth: float = 730  # AWS's pricing pages' month
    natGbPerMonth: float = 100  # data through all NAT gateways together (images, PyPI, APIs outside AWS)
    logGbPerMonth: float = 10  # CloudWatch Logs ingested: Airflow's, the control plane's, the database's
    flowLogGbPerMonth: float = 5  # VPC flow log records, where the stack writes them
    # Months of ingested logs stored at once, uncompressed (an upper bound: AWS bills the compressed size); unset, the
    # log groups' mean retention (a retention over a year, or for ever, counts as 12 months).
    logStorageMonths: Optional[float] = None
    s3GbStored: float = 20  # DAGs, plugins, requirements, task logs and access logs, all buckets together
    ecrGbStored: float = 10  # the kept images' layers
    mwaaMetadataGb: float = 10  # MWAA's metadata database
    mwaaExtraWorkers: float = 0  # the average number of workers running above minWorkers
    mwaaExtraWebservers: float = 0  # the average number of web servers above minWebservers
    spotDiscount: float = 0.6  # Spot's price below On-Demand, as a fraction, for capacityType SPOT
    nlbLcuAverage: float = 1  # the web server load balancer's average capacity units
    rdsBackupExtraGb: float = 0  # backup storage beyond the free amount (the database's provisioned storage)
    customMetrics: float = 60  # the metrics agent's distinct Airflow metrics (self-managed)
    # The cluster's Kubernetes version has left EKS standard support; unset, the EKS calendar says so for the day
    # of the estimate (stackconfig/limits.py EKS_STANDARD_SUPPORT_ENDS).
    eksExtendedSupport: Optional[bool] = None

    def with_changes(self, settings: Iterable[str]) -> "Assumptions":
        """`name=value` pairs over these; an unknown name or a bad value is refused with what is allowed."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for setting in settings:
            name, sep, value = setting.partition("=")
            if not sep or name not in fields:
                raise EstimateError(
                    f"--assume {setting!r}: expected name=value with a name of {', '.join(fields)}")
            if fields[name].type in ("bool", bool, "Optional[bool]"):
                if value.lower() not in ("true", "false"):
                    raise EstimateError(f"--assume {name}={value!r}: expected true or false")
                changes[name] = value.lower() == "true"
                continue
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            if name == "hoursPerMonth":
                if not 0 < number <= 744:  # a month of 31 days
                    raise EstimateError(f"--assume {name}={value!r}: expected hours above 0 and at most 744")
            elif name == "spotDiscount":
                if not 0 <= number < 1:
                    raise EstimateError(f"--assume {name}={value!r}: expected a fraction from 0 to below 1")
            elif not (math.isfinite(number) and number >= 0):
                raise EstimateError(f"--assume {name}={value!r}: expected a finite number of at least 0")
            changes[name] = number
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Line:
    resources: tuple[str, ...]  # the plan's resource names the line is for
    item: str
    key: str
    quantity: float
    per: str
    unit_usd: Optional[float]  # None: the table has no price for the key in the region
    price: Optional[Price]  # the table's entry the unit price comes from (Spot's: its first type's)
    assumption: Optional[str] = None  # the assumption the quantity rests on, if any

    @property
    def monthly_usd(self) -> float:
        return 0.0 if self.unit_usd is None else self.quantity * self.unit_usd

    @property
    def source(self) -> str:
        return self.price.source if self.price else ""

    @property
    def kind(self) -> str:
        return self.price.kind if self.price else ""

    @property
    def date(self) -> str:
        return self.price.date if self.price else ""


@dataclass
class Estimate:
    stack: str
    flavour: str
    region: str
    assumptions: Assumptions
    lines: list[Line] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # the keys the table lacks for the region
    # Every assumption a rule read, with the value it used (a derived default included), zero or not.
    assumptions_read: dict[str, Any] = field(default_factory=dict)

    @property
    def total_usd(self) -> float:
        """The priced lines' sum: the whole estimate only when `complete`."""
        return sum(line.monthly_usd for line in self.lines)

    @property
    def complete(self) -> bool:
        return all(line.unit_usd is not None for line in self.lines)


# What a plan may hold that AWS bills nothing for, or bills through another line. The reason is shown nowhere but
# here: it is the reviewer's answer to "why is this free?".
NOT_BILLED: Mapping[str, str] = {
    "pulumi:pulumi:Stack": "Pulumi's own", "pulumi:providers:aws": "Pulumi's own",
    "pulumi:providers:kubernetes": "Pulumi's own",
    "random:index/randomBytes:RandomBytes": "generated locally", "random:index/randomId:RandomId": "generated locally",
    "random:index/randomPassword:RandomPassword": "generated locally", "time:index/sleep:Sleep": "a wait",
    "docker-build:index:Image": "built by the deployer; its layers are ECR storage",
    "aws:ec2/vpc:Vpc": "no charge", "aws:ec2/subnet:Subnet": "no charge", "aws:ec2/routeTable:RouteTable": "no charge",
    "aws:ec2/route:Route": "no charge", "aws:ec2/routeTableAssociation:RouteTableAssociation": "no charge",
    "aws:ec2/internetGateway:InternetGateway": "no charge (traffic out is data transfer, not counted)",
    "aws:ec2/securityGroup:SecurityGroup": "no charge", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "no charge",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "no charge",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "no charge",
    "aws:ec2/launchTemplate:LaunchTemplate": "no charge; its volumes are priced with the node group",
    "aws:ec2/flowLog:FlowLog": "priced as the vended logs it writes",
    "aws:iam/role:Role": "no charge", "aws:iam/rolePolicy:RolePolicy": "no charge",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "no charge",
    "aws:kms/alias:Alias": "no charge", "aws:sns/topic:Topic": "alarm e-mails are within SNS's free tier",
    "aws:ssm/parameter:Parameter": "standard parameters are free",
    "aws:rds/parameterGroup:ParameterGroup": "no charge", "aws:rds/subnetGroup:SubnetGroup": "no charge",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "no charge",
    "aws:eks/addon:Addon": "runs on the nodes",
    "aws:secretsmanager/secretVersion:SecretVersion": "billed with its secret",
    **{f"aws:s3/{t}": "no charge; the buckets' data is priced as S3 storage" for t in (
        "bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucketLogging:BucketLogging",
        "bucketObjectv2:BucketObjectv2", "bucketOwnershipControls:BucketOwnershipControls",
        "bucketPolicy:BucketPolicy", "bucketPublicAccessBlock:BucketPublicAccessBlock",
        "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "bucketVersioning:BucketVersioning", "bucketNotification:BucketNotification")},
    **{typ: "runs on the priced nodes" for typ in (
        "kubernetes:helm.sh/v3:Release", "kubernetes:batch/v1:CronJob", "kubernetes:batch/v1:Job",
        "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:ServiceAccount", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")},
}

# What no line counts, said with every estimate.
NOT_COUNTED = (
    "data transfer out to the internet and between zones",
    "requests (S3, KMS, Secrets Manager, CloudWatch API calls) and CloudWatch Logs Insights queries",
    "the interface endpoints MWAA creates for a private web server and its database (endpointManagement SERVICE)",
    "RDS Enhanced Monitoring's log ingestion; Performance Insights' 7 days are free",
    "free tiers and credits: the table's prices are list prices from the first unit",
    "a KMS key's rotated versions: a key with rotation on costs more a month after its yearly rotations (KMS pricing)",
    "taxes, Support plans, Savings Plans and Reserved Instances",
)

# What Amazon MWAA's environment price covers; the rest is billed at the class's "additional" rates. The worker is
# AWS's word: MaxWorkers "... leaving the one worker that is included with your environment" (botocore's mwaa
# service-2.json). The schedulers and web servers are our reading, which no AWS text we could reach states: the
# price list bills "additional" ones, and an environment runs 2 of each unless told otherwise (Schedulers: "Defaults
# to 2"; MinWebservers: "Defaults to 2 for all environment sizes except mw1.micro, which defaults to 1"). mw1.micro
# runs one scheduler-worker and one web server and adds none.
MWAA_INCLUDED = {"schedulers": 2, "workers": 1, "webservers": 2}
MWAA_MICRO_INCLUDED = {"schedulers": 1, "workers": 1, "webservers": 1}

# A managed node group's volume when its launch template names no size (EKS CreateNodegroup: diskSize "Default: 20").
EKS_DEFAULT_DISK_GB = 20


class _Pricer:
    def __init__(self, table: PriceTable, region: str, assumptions: Assumptions, estimate: Estimate, today: date):
        self.table, self.region, self.a, self.estimate, self.today = table, region, assumptions, estimate, today

    def add(self, resources: Iterable[str], dimension: d.Dimension, quantity: float, *, item: str | None = None,
            usd: Callable[[Callable[[str], Price]], float] | None = None, assumption: str | None = None) -> None:
        """A line of `quantity` at the dimension's price, or at `usd(price_of)` where the unit price is made of
        several of the table's (Spot's mean); a price the table lacks leaves the line unpriced, not the estimate."""
        if assumption is not None and assumption not in self.estimate.assumptions_read:
            self.read(assumption, getattr(self.a, assumption))
        if quantity <= 0:
            return
        price: Optional[Price]
        try:
            price = self.table.price(self.region, dimension.key)
            unit = price.usd if usd is None else usd(lambda key: self.table.price(self.region, key))
        except MissingPrice as missing:
            if missing.key not in self.estimate.missing:
                self.estimate.missing.append(missing.key)
            price, unit = None, None
        self.estimate.lines.append(Line(
            resources=tuple(resources), item=item or dimension.what, key=dimension.key, quantity=quantity,
            per=dimension.per, unit_usd=unit, price=price, assumption=assumption))

    def read(self, assumption: str, value: Any) -> Any:
        self.estimate.assumptions_read[assumption] = value
        return value

    def hours(self, count: float = 1) -> float:
        return count * self.read("hoursPerMonth", self.a.hoursPerMonth)


def _of(plan: Iterable[Resource], typ: str) -> list[Resource]:
    return [r for r in plan if r.type == typ]


def _mwaa(p: _Pricer, env: Resource, _plan: list[Resource]) -> None:
    inputs = env.inputs
    klass = inputs.get("environmentClass") or "mw1.small"
    included = MWAA_MICRO_INCLUDED if klass == "mw1.micro" else MWAA_INCLUDED
    names = [env.name]
    p.add(names, d.mwaa_environment(klass), p.hours())
    schedulers = int(inputs.get("schedulers") or included["schedulers"])
    p.add(names, d.mwaa_scheduler(klass), p.hours(schedulers - included["schedulers"]),
          item=f"MWAA additional schedulers ({klass}): {schedulers} configured, {included['schedulers']} included")
    # Unset maxima: this project's default of 10 workers, MWAA's 2 web servers (1 on mw1.micro).
    _mwaa_scaled(p, names, d.mwaa_worker(klass), "Workers", included["workers"],
                 int(inputs.get("minWorkers") or 1), int(inputs.get("maxWorkers") or 10), p.a.mwaaExtraWorkers)
    minimum = int(inputs.get("minWebservers") or included["webservers"])
    _mwaa_scaled(p, names, d.mwaa_webserver(klass), "Webservers", included["webservers"],
                 minimum, int(inputs.get("maxWebservers") or included["webservers"]), p.a.mwaaExtraWebservers)
    p.add(names, d.dimension("mwaa:metadata-storage"), p.a.mwaaMetadataGb, assumption="mwaaMetadataGb")


def _mwaa_scaled(p: _Pricer, names: list[str], dim: d.Dimension, key: str, included: int, minimum: int,
                 maximum: int, average_extra: float) -> None:
    """MWAA's workers or web servers: those the minimum adds to what the environment includes, then the stated
    average above the minimum, never beyond what the maximum lets MWAA add (the value used is printed)."""
    p.add(names, dim, p.hours(minimum - included), item=f"{dim.what}: min{key} {minimum}, {included} included")
    extra = p.read(f"mwaaExtra{key}", max(0.0, min(average_extra, maximum - minimum)))
    p.add(names, dim, p.hours(extra), item=f"{dim.what} above min{key}, on average (at most max{key})")


def _node_group(p: _Pricer, group: Resource, plan: list[Resource]) -> None:
    inputs = group.inputs
    types = list(inputs.get("instanceTypes") or ["t3.medium"])
    nodes = int((inputs.get("scalingConfig") or {}).get("desiredSize") or 0)
    names = [group.name]
    if (inputs.get("capacityType") or "ON_DEMAND") == "SPOT":
        discount = p.a.spotDiscount
        p.add(names, d.ec2_instance(types[0]), p.hours(nodes),
              usd=lambda price_of: (1 - discount) * sum(price_of(d.ec2_instance(t).key).usd for t in types) / len(types),
              item=f"EC2 Spot nodes ({', '.join(types)}) x {nodes}: the types' mean On-Demand price less spotDiscount",
              assumption="spotDiscount")
    else:
        # On-Demand managed node groups launch the first type they can ("prioritized"): price that one.
        p.add(names, d.ec2_instance(types[0]), p.hours(nodes), item=f"EC2 {types[0]} nodes (On-Demand) x {nodes}")
    disk = _node_disk_gb(group, _of(plan, "aws:ec2/launchTemplate:LaunchTemplate"))
    p.add(names, d.dimension("ebs:gp3"), disk * nodes, item=f"EBS gp3 node volumes: {nodes} x {disk} GB")


def _node_disk_gb(group: Resource, launch_templates: list[Resource]) -> int:
    """The node volume's GB: the group's diskSize, its launch template's root volume, or EKS's default."""
    if group.inputs.get("diskSize"):
        return int(group.inputs["diskSize"])
    wanted = (group.inputs.get("launchTemplate") or {}).get("id")
    if wanted is None:
        return EKS_DEFAULT_DISK_GB
    template = next((t for t in launch_templates if t.id == wanted), None)
    if template is None:
        raise EstimateError(f"{group.name}: its launch template {wanted} is not in the plan")
    for mapping in template.inputs.get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") or {}
        if ebs.get("volumeSize"):
            if (ebs.get("volumeType") or "gp3") != "gp3":
                raise EstimateError(f"{template.name}: only gp3 node volumes are priced, not {ebs['volumeType']}")
            return int(ebs["volumeSize"])
    return EKS_DEFAULT_DISK_GB


def _database(p: _Pricer, db: Resource, _plan: list[Resource]) -> None:
    inputs = db.inputs
    multi_az = bool(inputs.get("multiAz"))
    storage_type = inputs.get("storageType") or "gp3"
    if inputs.get("engine") != "postgres" or storage_type != "gp3":
        raise EstimateError(f"{db.name}: only RDS PostgreSQL on gp3 is priced, not {inputs.get('engine')} on "
                            f"{storage_type}")
    p.add([db.name], d.rds_postgres(inputs["instanceClass"], multi_az), p.hours())
    gb = float(inputs.get("allocatedStorage") or 20)
    p.add([db.name], d.rds_storage(multi_az), gb, item=f"{d.rds_storage(multi_az).what}: {gb:g} GB allocated")
    p.add([db.name], d.dimension("rds:backup"), p.a.rdsBackupExtraGb, assumption="rdsBackupExtraGb")


def _load_balancers(p: _Pricer, services: list[Resource], plan: list[Resource]) -> None:
    """Services of type LoadBalancer: the NLB the AWS cloud provider makes for each."""
    for service in services:
        if (service.inputs.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        annotations = (service.inputs.get("metadata") or {}).get("annotations") or {}
        if annotations.get("service.beta.kubernetes.io/aws-load-balancer-type") != "nlb":
            raise EstimateError(f"{service.name}: only Network Load Balancers are priced")
        p.add([service.name], d.dimension("elb:nlb:hour"), p.hours())
        p.add([service.name], d.dimension("elb:nlb:lcu"), p.hours(p.a.nlbLcuAverage), assumption="nlbLcuAverage")
        if annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal") != "true":
            # Internet-facing: a public IPv4 address in each public subnet it spans (those tagged for ELB).
            zones = len([s for s in _of(plan, "aws:ec2/subnet:Subnet")
                         if (s.inputs.get("tags") or {}).get("kubernetes.io/role/elb") == "1"])
            if not zones:
                raise EstimateError(f"{service.name}: an internet-facing load balancer in a VPC whose public "
                                    f"subnets are not in the plan (network.vpcId): its addresses cannot be counted")
            p.add([service.name], d.dimension("vpc:public-ipv4:hour"), p.hours(zones),
                  item=f"the load balancer's public IPv4 addresses x {zones}")


# A rule prices every resource of its type at once: (pricer, the type's resources, the whole plan).
Rule = Callable[[_Pricer, list[Resource], list[Resource]], None]


def _names(found: list[Resource]) -> list[str]:
    return [r.name for r in found]


def _each(price_one: Callable[[_Pricer, Resource, list[Resource]], None]) -> Rule:
    def rule(p: _Pricer, found: list[Resource], plan: list[Resource]) -> None:
        for resource in found:
            price_one(p, resource, plan)
    return rule


def _per_month(key: str, what: str) -> Rule:
    def rule(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
        p.add(_names(found), d.dimension(key), len(found), item=f"{what} x {len(found)}")
    return rule


def _alarms(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
    # An alarm is billed per metric it watches: a metric math alarm for each metric in its queries (CloudWatch
    # pricing, "per alarm metric"; the Price List's unit is "Alarms" per metric).
    metrics = sum(len([q for q in alarm.inputs.get("metricQueries") or [] if q.get("metric")]) or 1 for alarm in found)
    p.add(_names(found), d.dimension("cloudwatch:alarm"), metrics,
          item=f"CloudWatch alarms x {len(found)}, watching {metrics} metrics")


def _nat_gateways(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
    p.add(_names(found), d.dimension("vpc:nat-gateway:hour"), p.hours(len(found)), item=f"NAT gateways x {len(found)}")
    p.add(_names(found), d.dimension("vpc:nat-gateway:gb"), p.a.natGbPerMonth, assumption="natGbPerMonth")


def _elastic_ips(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
    p.add(_names(found), d.dimension("vpc:public-ipv4:hour"), p.hours(len(found)),
          item=f"public IPv4 addresses (Elastic IPs) x {len(found)}")


def _endpoint(p: _Pricer, endpoint: Resource, _plan: list[Resource]) -> None:
    # Gateway endpoints (S3, DynamoDB) carry no charge; an interface endpoint is billed per zone it has a subnet in.
    if (endpoint.inputs.get("vpcEndpointType") or "Gateway") == "Interface":
        zones = len(endpoint.inputs.get("subnetIds") or []) or 1
        p.add([endpoint.name], d.dimension("vpc:interface-endpoint:hour"), p.hours(zones),
              item=f"interface endpoint {endpoint.inputs.get('serviceName')} in {zones} zones")


def _cluster(p: _Pricer, cluster: Resource, _plan: list[Resource]) -> None:
    p.add([cluster.name], d.eks_cluster(False), p.hours())
    # A version past standard support costs a surcharge per hour on top: EKS's default upgrade policy (EXTENDED)
    # keeps the cluster running on it.
    version = str(cluster.inputs.get("version") or "")
    ended = eks_standard_support_ended(version, p.today.isoformat())
    extended = p.read("eksExtendedSupport", ended is not None if p.a.eksExtendedSupport is None
                      else p.a.eksExtendedSupport)
    p.add([cluster.name], d.eks_cluster(True), p.hours() if extended else 0,
          item=f"EKS extended support surcharge: Kubernetes {version}'s standard support ended {ended}" if ended
          else f"EKS extended support surcharge (Kubernetes {version}, as assumed)")


def _log_groups(p: _Pricer, found: list[Resource], plan: list[Resource]) -> None:
    groups = _names(found)
    p.add(groups, d.dimension("cloudwatch:logs-ingest"), p.a.logGbPerMonth, assumption="logGbPerMonth")
    flow_logs = bool(_of(plan, "aws:ec2/flowLog:FlowLog"))
    if flow_logs:
        p.add(groups, d.dimension("cloudwatch:vended-logs-ingest"), p.a.flowLogGbPerMonth,
              assumption="flowLogGbPerMonth")
    months = p.a.logStorageMonths
    if months is None:
        kept = [(group.inputs.get("retentionInDays") or 365) / (365 / 12) for group in found]
        months = round(sum(min(k, 12) for k in kept) / len(kept), 2)
    stored = (p.a.logGbPerMonth + (p.a.flowLogGbPerMonth if flow_logs else 0)) * p.read("logStorageMonths", months)
    p.add(groups, d.dimension("cloudwatch:logs-storage"), stored,
          item=f"CloudWatch Logs storage: {months:g} months of what is ingested")


def _buckets(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
    p.add(_names(found), d.dimension("s3:standard"), p.a.s3GbStored,
          item=f"S3 Standard storage, the stack's {len(found)} bucket{'s' if len(found) != 1 else ''} together",
          assumption="s3GbStored")


def _repositories(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
    p.add(_names(found), d.dimension("ecr:storage"), p.a.ecrGbStored, assumption="ecrGbStored")


def _deployments(p: _Pricer, found: list[Resource], _plan: list[Resource]) -> None:
    # Deployments run on the priced nodes. The metrics agent's also publishes Airflow's StatsD metrics as CloudWatch
    # custom metrics (k8s/metrics.py); MWAA's own metrics are AWS's, not the stack's.
    agents = [r for r in found if (r.inputs.get("metadata") or {}).get("name") == METRICS_AGENT]
    p.add(_names(agents), d.dimension("cloudwatch:metric"), p.a.customMetrics if agents else 0,
          assumption="customMetrics")


RULES: Mapping[str, Rule] = {
    "aws:mwaa/environment:Environment": _each(_mwaa),
    "eks:index:Cluster": _each(_cluster),
    "eks:index:ManagedNodeGroup": _each(_node_group),
    "aws:rds/instance:Instance": _each(_database),
    "aws:ec2/natGateway:NatGateway": _nat_gateways,
    "aws:ec2/eip:Eip": _elastic_ips,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _each(_endpoint),
    "kubernetes:core/v1:Service": _load_balancers,
    "kubernetes:apps/v1:Deployment": _deployments,
    "aws:cloudwatch/logGroup:LogGroup": _log_groups,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarms,
    "aws:cloudwatch/dashboard:Dashboard": _per_month("cloudwatch:dashboard", "CloudWatch dashboards"),
    "aws:kms/key:Key": _per_month("kms:key", "KMS keys"),
    "aws:secretsmanager/secret:Secret": _per_month("secretsmanager:secret", "Secrets Manager secrets"),
    "aws:s3/bucket:Bucket": _buckets,
    "aws:ecr/repository:Repository": _repositories,
}


def estimate(resources: list[Resource], *, stack: str, flavour: str, region: str, table: PriceTable,
             assumptions: Assumptions = Assumptions(), today: Optional[date] = None) -> Estimate:
    """The plan's monthly estimate; `today` (default: the day it runs) says which calendar facts hold, such as a
    Kubernetes version's end of standard support."""
    # The project's components hold nothing billed themselves: their children are the resources priced here.
    unpriced = sorted({r.type for r in resources if not r.type.startswith("airflowaws:")} - set(NOT_BILLED) - set(RULES))
    if unpriced:
        raise EstimateError("the estimate has no rule for " + ", ".join(unpriced) +
                            ": price it in cost/estimate.py (RULES), or name it in NOT_BILLED with why it is free")
    result = Estimate(stack=stack, flavour=flavour, region=region, assumptions=assumptions)
    pricer = _Pricer(table, region, assumptions, result, today or date.today())
    for typ, rule in RULES.items():
        found = _of(resources, typ)
        if found:
            rule(pricer, found, resources)
    return result
