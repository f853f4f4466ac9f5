"""components/naming.py: the names the stack derives, and the patterns that must cover them."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from components import naming


def test_every_log_group_the_stack_names_matches_its_owners_pattern():
    env = "airflow-prod"
    patterns = naming.log_group_patterns(env)
    named = {
        "mwaa": naming.mwaa_log_group_name(env, "Scheduler"),
        "eks": naming.eks_log_group_name(env),
        "rds": naming.rds_log_group_name(naming.database_identifier(env), "postgresql"),
        "vpc": naming.flow_log_group_name(env),
    }
    assert {owner: fnmatchcase(name, patterns[owner]) for owner, name in named.items()} == dict.fromkeys(named, True)
    # No pattern reaches another environment whose name starts alike.
    assert not any(fnmatchcase(naming.eks_log_group_name("airflow-prod2"), p) for p in patterns.values())


@pytest.mark.parametrize(
    "setting, region, expected",
    [
        ("none", "eu-west-1", None),
        ("bootstrap", "eu-west-1", "arn:aws:iam::123456789012:policy/pulumi-boundary-airflow-prod"),
        ("bootstrap", "us-gov-west-1", "arn:aws-us-gov:iam::123456789012:policy/pulumi-boundary-airflow-prod"),
        ("arn:aws:iam::123456789012:policy/mine", "eu-west-1", "arn:aws:iam::123456789012:policy/mine"),
    ],
)
def test_the_permissions_boundary_arn(setting, region, expected):
    assert naming.permissions_boundary_arn(setting, region=region, account="123456789012", environment="airflow-prod") == expected


def test_the_boundary_lies_outside_the_names_a_deploy_role_manages():
    assert not naming.boundary_policy_name("airflow-prod").startswith("airflow-prod-")


def test_pulumi_eks_role_pattern_follows_the_cluster_resource_name():
    assert fnmatchcase("airflow-prod-eks-eksRole-role-1a2b3c4", naming.eks_service_role_pattern("airflow-prod"))
    assert naming.aws_managed_policy_arn("cn-north-1", naming.ENHANCED_MONITORING_POLICY) == (
        "arn:aws-cn:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
