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
