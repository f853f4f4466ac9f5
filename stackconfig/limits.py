"""Limits of the AWS services and of Airflow that stack settings must respect.

Sources: botocore's `mwaa` model (patterns, min/max) and the MWAA user guide (the values the model types as free
strings: environment classes, Airflow versions, per-class sizing). CloudWatch Logs retention values from the
PutRetentionPolicy API.
"""

from __future__ import annotations

import re
from typing import Optional

MWAA_ENVIRONMENT_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
# What MWAA runs today: botocore's model lists up to 3.0.6, the MWAA user guide ("Apache Airflow versions on Amazon
# MWAA") also 3.2.1 and 3.3.1 (../shared/reference/mwaa.md). AirflowVersion is a free string in the API.
MWAA_AIRFLOW_VERSIONS = ("2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6", "3.2.1", "3.3.1")
# WebserverAccessMode PUBLIC_AND_PRIVATE (botocore's enum has it) is offered from Airflow 3.2 (MWAA user guide).
MWAA_PUBLIC_AND_PRIVATE_FROM = (3, 2)
# What an unset airflow.version means: the 2.9 line our users asked for, on each flavour's newest 2.9 (MWAA runs
# 2.9.2; 2.9.3 is the line's last patch).
DEFAULT_AIRFLOW_VERSION = {"managed": "2.9.2", "self-managed": "2.9.3"}
# The environment's name prefixes every resource name, so it must suit the strictest of them once Pulumi adds its
# 8-character suffix: S3 bucket names (lower case, 63), RDS identifiers (no '--'), IAM role names (64). MWAA
# itself would take up to 80 characters with capitals and '_'.
ENVIRONMENT_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,30}[a-z0-9]$")
MWAA_MAX_WORKERS = 25  # the cap MWAA modules apply; the API only says >= 1
MWAA_SCHEDULERS = (2, 5)  # above mw1.micro
MWAA_WEBSERVERS = (2, 5)  # above mw1.micro
MAINTENANCE_WINDOW = re.compile(r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)$")
CONFIG_OPTION_KEY = re.compile(r"^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$")
CONFIG_OPTION_KEY_MAX = 64
CONFIG_OPTION_VALUE_MAX = 256  # CloudFormation's limit; the API does not state one
PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

KMS_KEY_ARN = re.compile(r"^arn:aws(-[a-z]+)?:kms:([a-z]{2}(-gov)?-[a-z]+-\d):(\d{12}):key/([0-9a-f-]{36}|mrk-[0-9a-f]{32})$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
AVAILABILITY_ZONE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")

# Secrets Manager secret names: 1-512 characters of these.
SECRET_NAME_CHARS = re.compile(r"^[A-Za-z0-9/_+=.@\-]+$")
SECRET_NAME_MAX = 512

# EC2 security group and rule descriptions (CreateSecurityGroup's GroupDescription, IpRange/UserIdGroupPair
# Description, the VPC security group rule resources): at most 255 characters of a-zA-Z0-9, space and
# ._-:/()#,@[]+=&;{}!$*. Anything else is InvalidParameterValue at `pulumi up`. Sources: the EC2 API reference
# (API_IpRange.html, API_CreateSecurityGroup.html) and terraform-provider-aws's validSecurityGroupRuleDescription
# (internal/service/ec2/validate.go), which the Pulumi AWS provider runs only for some of these fields.
EC2_DESCRIPTION = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}$")

TAG_KEY = re.compile(r"^[\w\s.:/=+\-@]{1,128}$", re.UNICODE)
TAG_VALUE_MAX = 256
# Tags a resource may carry: 50 for most services (the Tagging AWS Resources guide, "Tag naming limits and
# requirements"), and fewer for some types. The provider's default tags land on every taggable resource, DAG
# objects included, so the tightest type bounds the stack's tags. S3: "You can associate up to 10 tags with an
# object" (S3 user guide, tagging-managing.html); more is InvalidTag on every upload.
TAGS_MAX = 50
TAGS_MAX_BY_TYPE = {
    "aws:s3/bucketObjectv2:BucketObjectv2": 10,
    "aws:s3/bucketObject:BucketObject": 10,
}
# Tags the program adds itself to every resource.
PROJECT_TAG_KEYS = ("project", "stack", "managed-by")


def tags_max(resource_type: str) -> int:
    """How many tags AWS lets a resource of this Pulumi type carry."""
    return TAGS_MAX_BY_TYPE.get(resource_type, TAGS_MAX)


# Room for the stack's own `tags`: every stack uploads DAG objects with the provider's default tags.
USER_TAGS_MAX = min(TAGS_MAX, *TAGS_MAX_BY_TYPE.values()) - len(PROJECT_TAG_KEYS)

# ----------------------------------------------------------------------------------------------- self-managed
# EKS versions that this project's Cluster Autoscaler pins (k8s/cluster_autoscaler_values.py) cover. The default is
# the newest; the older ones stay offered for the stacks that run them, since EKS upgrades one minor at a time.
EKS_VERSIONS = ("1.32", "1.33", "1.34", "1.35")
# The day each offered version leaves EKS standard support for extended support, at $0.50 more per cluster hour (the
# EKS Kubernetes release calendar, docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html, as
# endoflife.date/amazon-eks lists it: 14 months after each version's EKS release). `pulumi up` warns past it, and
# make cost adds the surcharge.
EKS_STANDARD_SUPPORT_ENDS = {"1.32": "2026-03-23", "1.33": "2026-07-29", "1.34": "2026-12-02", "1.35": "2027-03-27"}


def eks_standard_support_ended(version: str, today: str) -> Optional[str]:
    """The day `version` left EKS standard support, if it has by `today` (YYYY-MM-DD); None while it has not."""
    ends = EKS_STANDARD_SUPPORT_ENDS.get(version)
    return ends if ends is not None and today >= ends else None
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$")
# Graviton (arm64) families: m6g, c7gn, t4g, r8gd, a1, ... The image is built for linux/amd64 only.
ARM_INSTANCE_FAMILY = re.compile(r"^([a-z]+\d+g[a-z]*|a1)\.")
EKS_MAX_NODES = 450  # per managed node group
NODE_DISK_GB = (20, 16384)
# A host name as DNS (RFC 1035 section 2.3.4, RFC 1123 section 2.1) takes it: at most 253 characters, two or more
# dot-separated labels of 1-63 letters, digits and hyphens, no label starting or ending with a hyphen.
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
DNS_NAME_RULE = "a DNS name such as airflow.example.com: 2 or more labels of 1-63 letters, digits and hyphens, 253 characters at most"


def dns_name(text: str) -> bool:
    labels = text.split(".")
    return len(text) <= 253 and len(labels) >= 2 and all(_DNS_LABEL.match(label) for label in labels)


# A CronJob's schedule as Kubernetes parses it (robfig/cron's standard parser: five fields, or a macro; the
# CronJob API: "schedule"): minute 0-59, hour 0-23, day of month 1-31, month 1-12 (or JAN-DEC), day of week 0-6
# (or SUN-SAT), each `*`, a value, a range, a list, with an optional /step. The time zone is the CronJob's timeZone.
CRON_SCHEDULE_RULE = ("a cron schedule: five fields (minute hour day-of-month month day-of-week) such as '30 3 * * *', "
                      "or @yearly, @monthly, @weekly, @daily or @hourly")
_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_NAMES = (None, None, None, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
               ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))


def _cron_value(text: str, field: int) -> Optional[int]:
    names = _CRON_NAMES[field]
    if names and text.upper() in names:
        return names.index(text.upper()) + _CRON_RANGES[field][0]
    if not text.isdigit():
        return None
    low, high = _CRON_RANGES[field]
    return int(text) if low <= int(text) <= high else None


def cron_schedule(text: str) -> bool:
    if text in _CRON_MACROS:
        return True
    fields = text.split()  # as robfig/cron's strings.Fields; a macro must be the whole text
    if len(fields) != 5 or not text.isascii():
        return False
    for index, field in enumerate(fields):
        for part in field.split(","):
            span, slash, step = part.partition("/")
            if slash and not (step.isdigit() and int(step) > 0):
                return False
            if span in ("*", "?") and (span == "*" or index in (2, 4)):
                continue
            ends = span.split("-")
            values = [_cron_value(end, index) for end in ends]
            if len(ends) > 2 or None in values or (len(values) == 2 and values[0] > values[1]):
                return False
    return True


ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws(-[a-z]+)?:acm:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:certificate/[0-9a-f-]{36}$")
IAM_POLICY_ARN = re.compile(r"^arn:aws(-[a-z]+)?:iam::\d{12}:policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$")
IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)?:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

# Airflow 2.9 supports PostgreSQL 12-16; RDS still offers 13 and later in standard support.
POSTGRES_VERSIONS = ("13", "14", "15", "16")
_BURSTABLE = ("micro", "small", "medium", "large", "xlarge", "2xlarge")
_GENERAL = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
# The sizes each RDS for PostgreSQL family offers (per the RDS instance class tables); 24xlarge and 32xlarge
# exist only in some families.
RDS_INSTANCE_SIZES = {
    "t3": _BURSTABLE,
    "t4g": ("micro", "small", "medium", "large", "xlarge", "2xlarge"),
    "m5": _GENERAL + ("24xlarge",),
    "m5d": _GENERAL + ("24xlarge",),
    "m6g": _GENERAL,
    "m6gd": _GENERAL,
    "m6i": _GENERAL + ("24xlarge", "32xlarge"),
    "m7g": _GENERAL,
    "m7i": _GENERAL + ("24xlarge", "48xlarge"),
    "m8g": _GENERAL + ("24xlarge", "48xlarge"),
    "r5": _GENERAL + ("24xlarge",),
    "r5d": _GENERAL + ("24xlarge",),
    "r6g": _GENERAL,
    "r6gd": _GENERAL,
    "r6i": _GENERAL + ("24xlarge", "32xlarge"),
    "r7g": _GENERAL,
    "r7i": _GENERAL + ("24xlarge", "48xlarge"),
    "r8g": _GENERAL + ("24xlarge", "48xlarge"),
}
# Memory of an RDS instance class, in GiB: the burstable classes by size; the general-purpose (m) classes 4 GiB per
# vCPU, the memory-optimised (r) 8 (RDS user guide, "Hardware specifications for DB instance classes").
_BURSTABLE_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64,
          "24xlarge": 96, "32xlarge": 128, "48xlarge": 192}
# RDS for PostgreSQL's default max_connections: LEAST({DBInstanceClassMemory/9531392}, 5000) (RDS user guide,
# "Maximum number of database connections"). DBInstanceClassMemory is the class's memory less what RDS keeps for
# itself, which AWS does not publish; values read from instances (`show max_connections`: 2 GiB 198, 4 GiB 413,
# 8 GiB 856) put it at 0.24-0.4 GiB. The estimate keeps 0.35 GiB or 6%, whichever is more, so it stays at or
# below RDS's figure (2 GiB: 185, 4 GiB: 411, 8 GiB: 847) and an alarm on a share of it fires before the limit.
RDS_BYTES_PER_CONNECTION = 9531392
RDS_MAX_CONNECTIONS_CAP = 5000
_RDS_RESERVED_GIB, _RDS_RESERVED_SHARE = 0.35, 0.06


def rds_instance_memory_gib(instance_class: str) -> int:
    """The memory of a class that RDS_INSTANCE_SIZES offers, e.g. db.t4g.medium: 4, db.r6g.large: 16."""
    family, size = instance_class.split(".")[1:3]
    if family.startswith("t"):
        return _BURSTABLE_MEMORY_GIB[size]
    return _VCPUS[size] * (8 if family.startswith("r") else 4)


def rds_max_connections_estimate(instance_class: str) -> int:
    """An estimate at or below RDS's default max_connections for the class (above)."""
    memory = rds_instance_memory_gib(instance_class)
    usable = memory - max(_RDS_RESERVED_GIB, memory * _RDS_RESERVED_SHARE)
    return min(int(usable * 1024**3 // RDS_BYTES_PER_CONNECTION), RDS_MAX_CONNECTIONS_CAP)


RDS_GP3_STORAGE_GB = (20, 65536)
RDS_BACKUP_DAYS = (1, 35)
# Performance Insights retention: 7 days (free), a whole number of months as 31-day months, or 731 (RDS API,
# CreateDBInstance PerformanceInsightsRetentionPeriod; terraform-provider-aws validates 7, 731 or a multiple of 31).
RDS_PI_RETENTION_DAYS = (7, *(31 * m for m in range(1, 24)), 731)
# Performance Insights is not offered on the smallest burstable classes (RDS user guide,
# USER_PerfInsights.Overview.Engines: not db.t2/t3/t4g micro and small).
RDS_PI_UNSUPPORTED = re.compile(r"^db\.t[234]g?\.(micro|small)$")
# Enhanced Monitoring intervals (CreateDBInstance MonitoringInterval); 0 turns it off.
RDS_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
PROTECTED_MIN_BACKUP_DAYS = 7
ECR_KEEP_IMAGES = (1, 10000)
S3_EXPIRY_DAYS = (1, 3650)
