"""ARNs and partitions built from plain values, so policy builders stay pure."""

from __future__ import annotations


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:{partition(region)}:{service}:{region}:{account}:{resource}"


def mwaa_log_group_prefix(environment: str) -> str:
    """MWAA writes to log groups named airflow-<environment>-<Module>."""
    return f"airflow-{environment}-"


def boundary_policy_name(environment: str) -> str:
    """The permissions boundary the bootstrap creates for one environment. Outside the `<environment>-*` names the
    environment's deploy role manages, so that role cannot widen its own boundary."""
    return f"pulumi-boundary-{environment}"


def customer_policy_arn(region: str, account: str, name: str) -> str:
    return f"arn:{partition(region)}:iam::{account}:policy/{name}"
