"""What each price in the table is: its key, what it is billed per, and where the AWS Price List keeps it.

A key (`ec2:instance:m6i.large`, `rds:postgres:db.m7g.large:multi-az`) names one On-Demand unit price. The estimator
asks the table for keys (`cost/estimate.py`); `make prices` finds each key's product in the Price List's bulk offer
file (`cost/refresh.py`) by the selector below. One fact in one place: a key's meaning and its selector live here.

The selectors read the offer files' own attribute names and values: real products of eu-west-1's offers as
terracost committed them (cycloidio/terracost mysql/testdata/2023-02-23-pricing.sql.gz: EC2, EBS, NAT, RDS, ELB,
CloudWatch), and the filters infracost's AWS resources apply to the same data (infracost/infracost
internal/resources/aws) for the rest. Usage types carry a region prefix that cannot be derived from the region's
code (`EU-NatGateway-Hours` in eu-west-1; in us-east-1 none for older meters, `USE1-` for newer ones and
`us-east-1-KMS-Keys` for KMS), so a selector names the usage type after the prefix and the refresh matches it
exactly after any one prefix: never as a substring, which would take `HighResAlarmMonitorUsage` for
`AlarmMonitorUsage` or `EU-Outposts-LCUUsage` for `LCUUsage`.

Not yet seen in a real offer file, so held to the first `make prices` (which stops on a key that finds nothing):
MWAA's web server and the Micro/XLarge/2XLarge sizes, MWAA's storage unit, and the public IPv4 unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional


class UnknownDimension(ValueError):
    """A key no selector describes."""


@dataclass(frozen=True)
class Selector:
    """Where the Price List keeps a price: the offer (service code), the product family, attributes that must match
    exactly, the usage type's suffix after its region prefix, and the unit of the On-Demand price dimension."""

    offer: str
    family: str  # "" where the offer leaves products without one (MWAA, public IPv4)
    unit: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    # The usage type after its region prefix; several where offers spell it more than one way.
    usage: Optional[str | tuple[str, ...]] = None
    # Products priced once for every region (location "Any", no regionCode) are only in the offer's all-region file.
    global_product: bool = False

    def usage_matches(self, usagetype: str, region: str) -> bool:
        if self.usage is None:
            return True
        names = (self.usage,) if isinstance(self.usage, str) else self.usage
        return any(usagetype == prefix + name for prefix in usage_prefixes(region) for name in names)

    def unit_matches(self, unit: str) -> bool:
        return unit in UNIT_SPELLINGS.get(self.unit, {self.unit})


# The usage-type prefix of each region, as offer files and Cost and Usage Reports spell it (eu-west-1's "EU-" in
# terracost's dump of its offers; af-south-1's "AFS1-" in grafana/cloudcost-exporter's recorded products; the rest
# as infracost's filters and CUR data have them). Not derivable from the code: eu-west-1 is "EU", ap-south-1 "APS3".
REGION_PREFIXES = {
    "us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2", "ca-central-1": "CAN1",
    "eu-west-1": "EU", "eu-west-2": "EUW2", "eu-west-3": "EUW3", "eu-central-1": "EUC1", "eu-north-1": "EUN1",
    "ap-northeast-1": "APN1", "ap-northeast-2": "APN2", "ap-southeast-1": "APS1", "ap-southeast-2": "APS2",
    "ap-south-1": "APS3", "sa-east-1": "SAE1", "af-south-1": "AFS1",
}


class UnknownRegion(ValueError):
    """A region whose usage-type prefix this project does not know."""


def usage_prefixes(region: str) -> tuple[str, ...]:
    """What may stand before a usage type in the region's offers: its prefix, or (KMS) the region's code; in
    us-east-1, AWS's first region, older meters carry no prefix at all. "" is a global product's (no region)."""
    if region == "":
        return ("",)
    if region not in REGION_PREFIXES:
        raise UnknownRegion(f"the usage-type prefix of {region} is not known: add it to REGION_PREFIXES in "
                            f"cost/dimensions.py (what stands before BoxUsage: in its EC2 offer file)")
    prefixes = (f"{REGION_PREFIXES[region]}-", f"{region}-")
    return ("", *prefixes) if region == "us-east-1" else prefixes


# One unit, several spellings across offers (EKS "Hours"/"Hrs"; EBS io2's "GB-month" beside the others' "GB-Mo").
UNIT_SPELLINGS = {"Hrs": {"Hrs", "Hours", "hours", "hrs"}, "GB-Mo": {"GB-Mo", "GB-Month", "GB-month"}}


@dataclass(frozen=True)
class Dimension:
    key: str
    what: str  # how an estimate's line names it
    per: str  # what one unit of quantity is: "hour", "GB-month", "GB", "month", "LCU-hour"
    selector: Selector


HOURS = "hour"


# MWAA's products have no productFamily; `type` and `size` tell them apart (infracost mwaa_environment.go; a
# us-east-1 product: size Medium, type Scheduler, usagetype USE1-Airflow-MediumScheduler, unit Hrs).
_MWAA_SIZES = {"mw1.micro": "Micro", "mw1.small": "Small", "mw1.medium": "Medium", "mw1.large": "Large",
               "mw1.xlarge": "XLarge", "mw1.2xlarge": "2XLarge"}


def _mwaa(meter: str, product_type: str, what: str) -> Callable[[str], Dimension]:
    def build(environment_class: str) -> Dimension:
        return Dimension(
            f"mwaa:{meter}:{environment_class}", f"MWAA {what} ({environment_class})", HOURS,
            Selector("AmazonMWAA", "", "Hrs", attributes={"type": product_type,
                                                          "size": _MWAA_SIZES[environment_class]}),
        )
    return build


mwaa_environment = _mwaa("environment", "Environment", "environment")
mwaa_worker = _mwaa("worker", "Worker", "additional worker")
mwaa_scheduler = _mwaa("scheduler", "Scheduler", "additional scheduler")
mwaa_webserver = _mwaa("webserver", "WebServer", "additional web server")


def ec2_instance(instance_type: str) -> Dimension:
    return Dimension(
        f"ec2:instance:{instance_type}", f"EC2 {instance_type} (Linux, On-Demand)", HOURS,
        Selector("AmazonEC2", "Compute Instance", "Hrs", attributes={
            "instanceType": instance_type, "operatingSystem": "Linux", "tenancy": "Shared",
            "preInstalledSw": "NA", "licenseModel": "No License required", "marketoption": "OnDemand",
            # "Used" is an instance that runs; the others are the unused part of a capacity reservation.
            "capacitystatus": "Used",
        }),
    )


def rds_postgres(instance_class: str, multi_az: bool) -> Dimension:
    deployment = "Multi-AZ" if multi_az else "Single-AZ"
    return Dimension(
        f"rds:postgres:{instance_class}:{deployment.lower()}", f"RDS PostgreSQL {instance_class} ({deployment})",
        HOURS,
        # deploymentOption "Multi-AZ" exactly: "Multi-AZ (readable standbys)" is the cluster deployment's.
        Selector("AmazonRDS", "Database Instance", "Hrs", attributes={
            "instanceType": instance_class, "databaseEngine": "PostgreSQL", "deploymentOption": deployment,
            "licenseModel": "No license required",
        }),
    )


def rds_storage(multi_az: bool) -> Dimension:
    deployment = "Multi-AZ" if multi_az else "Single-AZ"
    return Dimension(
        f"rds:gp3:{deployment.lower()}", f"RDS gp3 storage ({deployment})", "GB-month",
        Selector("AmazonRDS", "Database Storage", "GB-Mo", attributes={
            "volumeType": "General Purpose-GP3", "databaseEngine": "PostgreSQL", "deploymentOption": deployment,
        }),
    )


def eks_cluster(extended_support: bool) -> Dimension:
    """The control plane's hour; extended support is billed as a second line, a surcharge on top of it."""
    if extended_support:
        return Dimension("eks:cluster:extended", "EKS extended support surcharge", HOURS,
                         Selector("AmazonEKS", "Compute", "Hrs", usage="AmazonEKS-Hours:extendedSupport"))
    return Dimension("eks:cluster:standard", "EKS control plane", HOURS,
                     Selector("AmazonEKS", "Compute", "Hrs", usage="AmazonEKS-Hours:perCluster"))


_FIXED: dict[str, Dimension] = {d.key: d for d in (
    Dimension("mwaa:metadata-storage", "MWAA metadata database storage", "GB-month",
              Selector("AmazonMWAA", "", "GB-Mo", usage="Airflow-StandardDatabaseStorage")),
    Dimension("ebs:gp3", "EBS gp3 volume", "GB-month",
              Selector("AmazonEC2", "Storage", "GB-Mo", attributes={"volumeApiName": "gp3"})),
    Dimension("vpc:nat-gateway:hour", "NAT gateway", HOURS,
              Selector("AmazonEC2", "NAT Gateway", "Hrs", usage="NatGateway-Hours")),
    Dimension("vpc:nat-gateway:gb", "NAT gateway data processed", "GB",
              Selector("AmazonEC2", "NAT Gateway", "GB", usage="NatGateway-Bytes")),
    Dimension("vpc:public-ipv4:hour", "public IPv4 address (in use)", HOURS,
              # Not EC2's older ElasticIP:* products, which price idle addresses only.
              Selector("AmazonVPC", "", "Hrs", usage="PublicIPv4:InUseAddress")),
    Dimension("vpc:interface-endpoint:hour", "interface VPC endpoint, per zone", HOURS,
              Selector("AmazonVPC", "VpcEndpoint", "Hrs", usage="VpcEndpoint-Hours")),
    Dimension("elb:nlb:hour", "Network Load Balancer", HOURS,
              Selector("AWSELB", "Load Balancer-Network", "Hrs", usage="LoadBalancerUsage")),
    Dimension("elb:nlb:lcu", "Network Load Balancer capacity units", "LCU-hour",
              Selector("AWSELB", "Load Balancer-Network", "LCU-Hrs", usage="LCUUsage")),
    Dimension("rds:backup", "RDS backup storage beyond the free amount", "GB-month",
              Selector("AmazonRDS", "Storage Snapshot", "GB-Mo", usage="RDS:ChargedBackupUsage")),
    Dimension("cloudwatch:logs-ingest", "CloudWatch Logs ingestion", "GB",
              Selector("AmazonCloudWatch", "Data Payload", "GB", usage="DataProcessing-Bytes")),
    Dimension("cloudwatch:vended-logs-ingest", "CloudWatch Logs ingestion, vended (VPC flow logs)", "GB",
              Selector("AmazonCloudWatch", "Data Payload", "GB", usage="VendedLog-Bytes")),
    Dimension("cloudwatch:logs-storage", "CloudWatch Logs storage", "GB-month",
              Selector("AmazonCloudWatch", "Storage Snapshot", "GB-Mo", usage="TimedStorage-ByteHrs")),
    Dimension("cloudwatch:alarm", "CloudWatch alarm (standard resolution)", "month",
              Selector("AmazonCloudWatch", "Alarm", "Alarms", usage="CW:AlarmMonitorUsage")),
    Dimension("cloudwatch:dashboard", "CloudWatch dashboard", "month",
              Selector("AmazonCloudWatch", "Dashboard", "Dashboards", usage="DashboardsUsageHour",
                       global_product=True)),
    Dimension("cloudwatch:metric", "CloudWatch custom metric", "month",
              Selector("AmazonCloudWatch", "Metric", "Metrics", usage="CW:MetricMonitorUsage")),
    Dimension("kms:key", "KMS customer managed key", "month",
              Selector("awskms", "Encryption Key", "Keys", usage="KMS-Keys")),
    Dimension("secretsmanager:secret", "Secrets Manager secret", "month",
              # Cost and Usage Reports spell it "-Secrets"; a 2026 ap-southeast-1 offer extract "-Secret".
              Selector("AWSSecretsManager", "Secret", "Secrets",
                       usage=("AWSSecretsManager-Secrets", "AWSSecretsManager-Secret"))),
    Dimension("s3:standard", "S3 Standard storage", "GB-month",
              Selector("AmazonS3", "Storage", "GB-Mo", attributes={"volumeType": "Standard",
                                                                   "storageClass": "General Purpose"},
                       usage="TimedStorage-ByteHrs")),
    Dimension("ecr:storage", "ECR image storage", "GB-month",
              Selector("AmazonECR", "EC2 Container Registry", "GB-Mo", usage="TimedStorage-ByteHrs")),
)}

# Keys with an argument: the key's fixed start, and how the rest of it rebuilds the dimension.
_PARAMETERISED: dict[str, Callable[[list[str]], Dimension]] = {
    "mwaa:environment": lambda rest: mwaa_environment(rest[0]),
    "mwaa:worker": lambda rest: mwaa_worker(rest[0]),
    "mwaa:scheduler": lambda rest: mwaa_scheduler(rest[0]),
    "mwaa:webserver": lambda rest: mwaa_webserver(rest[0]),
    "ec2:instance": lambda rest: ec2_instance(rest[0]),
    "rds:postgres": lambda rest: rds_postgres(rest[0], {"multi-az": True, "single-az": False}[rest[1]]),
    "rds:gp3": lambda rest: rds_storage({"multi-az": True, "single-az": False}[rest[0]]),
    "eks:cluster": lambda rest: eks_cluster({"extended": True, "standard": False}[rest[0]]),
}


def dimension(key: str) -> Dimension:
    """The dimension a table key names, or UnknownDimension."""
    if key in _FIXED:
        return _FIXED[key]
    parts = key.split(":")
    build = _PARAMETERISED.get(":".join(parts[:2]))
    if build is not None:
        try:
            built = build(parts[2:])
        except (IndexError, KeyError):
            built = None
        if built is not None and built.key == key:
            return built
    raise UnknownDimension(f"{key!r} names no price this project knows (cost/dimensions.py)")
