"""Secure by default, over the four stack/flavour plans: encryption with the stack's key where it has one, a
private API endpoint or named ranges, database insight and monitoring, flow logs, access logs, encrypted log groups,
multipart uploads that cannot linger, and a private MWAA webserver that named networks can reach."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from offline import run_stack

CLUSTER = "eks:index:Cluster"
DATABASE = "aws:rds/instance:Instance"


def _key_arn(plan):
    keys = plan.of_type("aws:kms/key:Key")
    return keys[0].state["arn"] if keys else None


def _error(stack: str, config: dict) -> str:
    plan = run_stack(stack, config=config)
    assert plan.error is not None and all(r.type == "pulumi:pulumi:Stack" for r in plan.resources)
    return str(plan.error)


# ------------------------------------------------------------------------------------------- EKS


def test_kubernetes_secrets_are_encrypted_with_the_stacks_key_when_it_has_one(self_managed_plan):
    cluster = self_managed_plan.one(CLUSTER)
    assert cluster.inputs.get("encryptionConfigKeyArn") == _key_arn(self_managed_plan)
    assert (self_managed_plan.stack == "prod") == (_key_arn(self_managed_plan) is not None)


def test_the_key_admits_pulumi_eks_cluster_role_and_nothing_else_by_name(prod):
    policy = json.loads(prod.one("aws:kms/key:Key").raw_inputs["policy"])
    statement = next(s for s in policy["Statement"] if s["Sid"] == "EksClusterRoleEncryptsSecrets")
    pattern = statement["Condition"]["ArnLike"]["aws:PrincipalArn"]
    cluster = prod.one(CLUSTER)
    # pulumi-eks names its service role <cluster resource>-eksRole-role-<suffix> (nodejs/eks/servicerole.ts).
    assert fnmatchcase(f"arn:aws:iam::123456789012:role/{cluster.name}-eksRole-role-1a2b3c4", pattern)
    assert not fnmatchcase("arn:aws:iam::123456789012:role/airflow-prod-worker-1", pattern)
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalAccount": "123456789012"}
    assert set(statement["Action"]) == {"kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"}


def test_a_protected_clusters_api_ranges_are_chosen_never_defaulted(prod):
    """Unset ranges stop a protected stack; the shipped prod file chooses them explicitly (its runners' addresses
    are the user's to name), and `pulumi up` warns while they span the whole internet."""
    assert prod.one(CLUSTER).inputs["publicAccessCidrs"] == ["0.0.0.0/0"]
    assert any("cluster.publicAccessCidrs opens the Kubernetes API" in w for w in prod.warnings)
    unset = _error("prod", {"cluster": {"endpointPublicAccess": True}})
    assert "cluster.publicAccessCidrs = (not set)" in unset
    named = run_stack("prod", config={"cluster": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}})
    assert named.error is None and named.one(CLUSTER).inputs["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert named.warnings == []
    private = run_stack("prod", config={"cluster": {"endpointPublicAccess": False}})
    assert private.error is None and private.one(CLUSTER).inputs["endpointPublicAccess"] is False


def test_an_unprotected_cluster_may_keep_a_public_endpoint(dev_self_managed):
    assert dev_self_managed.one(CLUSTER).inputs["endpointPublicAccess"] is True


# ------------------------------------------------------------------------------------------- RDS


def test_a_protected_database_has_performance_insights_and_enhanced_monitoring(prod):
    db = prod.one(DATABASE).inputs
    assert db["performanceInsightsEnabled"] is True and db["performanceInsightsRetentionPeriod"] == 7
    assert db["performanceInsightsKmsKeyId"] == _key_arn(prod)
    assert db["monitoringInterval"] == 60
    role = next(r for r in prod.of_type("aws:iam/role:Role") if r.name.endswith("-monitoring-role"))
    assert db["monitoringRoleArn"] == role.state["arn"]
    trust = json.loads(role.raw_inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attached = [a for a in prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.raw_inputs["role"] == role.state["name"]]
    assert [a.raw_inputs["policyArn"] for a in attached] == ["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]


def test_an_unprotected_database_stays_cheap(dev_self_managed):
    db = dev_self_managed.one(DATABASE).inputs
    assert db["performanceInsightsEnabled"] is False and db["monitoringInterval"] == 0
    assert not [r for r in dev_self_managed.of_type("aws:iam/role:Role") if r.name.endswith("-monitoring-role")]


@pytest.mark.parametrize(
    "database, key",
    [
        ({"instanceClass": "db.t4g.small", "performanceInsights": True}, "database.performanceInsights"),
        ({"performanceInsightsRetentionDays": 30}, "database.performanceInsightsRetentionDays"),
        ({"monitoringIntervalSeconds": 45}, "database.monitoringIntervalSeconds"),
    ],
)
def test_bad_database_insight_settings_are_refused_by_key(database, key):
    assert f"{key} = " in _error("prod", {"database": database})


def test_a_small_protected_database_defaults_to_no_performance_insights():
    """RDS does not offer Performance Insights on micro and small classes: the default follows, it does not fail."""
    plan = run_stack("prod", config={"database": {"instanceClass": "db.t4g.small", "multiAz": True, "backupRetentionDays": 7}})
    assert plan.error is None and plan.one(DATABASE).inputs["performanceInsightsEnabled"] is False


# ------------------------------------------------------------------------------------------- logs


def test_protected_stacks_log_their_vpcs_traffic(plan):
    flow_logs = plan.of_type("aws:ec2/flowLog:FlowLog")
    if plan.stack == "dev":
        assert flow_logs == []
        return
    (flow,) = flow_logs
    group = next(g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs["name"] == "/aws/vpc/airflow-prod/flow-logs")
    assert flow.inputs["trafficType"] == "ALL" and flow.inputs["logDestinationType"] == "cloud-watch-logs"
    assert flow.inputs["logDestination"] == group.state["arn"] and flow.inputs["vpcId"] == plan.outputs["vpcId"]
    assert group.inputs["retentionInDays"] == 90
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.name.endswith("-flow-logs-role"))
    assert flow.inputs["iamRoleArn"] == role.state["arn"]
    assert json.loads(role.raw_inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}


def test_flow_logs_are_a_config_key():
    plan = run_stack("dev", config={"network": {"cidr": "10.20.0.0/16", "flowLogs": True, "flowLogRetentionDays": 14}})
    assert plan.error is None and len(plan.of_type("aws:ec2/flowLog:FlowLog")) == 1
    assert "network.flowLogRetentionDays = 10" in _error("dev", {"network": {"flowLogs": True, "flowLogRetentionDays": 10}})


def test_every_log_group_keeps_logs_a_while_and_uses_the_stacks_key(plan):
    key = _key_arn(plan)
    policy = json.loads(plan.one("aws:kms/key:Key").raw_inputs["policy"]) if key else None
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs.get("retentionInDays"), group.name
        assert group.inputs.get("kmsKeyId") == key, group.name
        if policy:
            # CloudWatch Logs may use the key only for the groups its policy names.
            logs = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogsForThisEnvironment")
            patterns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
            arn = f"arn:aws:logs:eu-west-1:123456789012:log-group:{group.inputs['name']}"
            assert any(fnmatchcase(arn, p) for p in patterns), group.inputs["name"]


def test_protected_stacks_keep_access_logs_of_their_buckets(plan):
    logging = plan.of_type("aws:s3/bucketLogging:BucketLogging")
    if plan.stack == "dev":
        assert logging == [] and not plan.of_type("airflowaws:index:AccessLogBucket")
        return
    target = plan.named("airflow-prod-access-logs-bucket")
    data_buckets = [b for b in plan.of_type("aws:s3/bucket:Bucket") if b is not target]
    assert sorted(entry.inputs["bucket"] for entry in logging) == sorted(b.state["bucket"] for b in data_buckets)
    assert {entry.inputs["targetBucket"] for entry in logging} == {target.state["bucket"]}
    assert len({entry.inputs["targetPrefix"] for entry in logging}) == len(logging)
    policy = json.loads(plan.named("airflow-prod-access-logs-policy").raw_inputs["policy"])
    delivery = next(s for s in policy["Statement"] if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"})
    assert delivery["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::airflow-prod-*"},
    }
    assert all(fnmatchcase(f"arn:aws:s3:::{b.state['bucket']}", delivery["Condition"]["ArnLike"]["aws:SourceArn"]) for b in data_buckets)
    # The log bucket is private like the others, and forgets.
    rules = plan.named("airflow-prod-access-logs-lifecycle").inputs["rules"]
    assert rules[0]["expiration"]["days"] == 365
    encryption = plan.named("airflow-prod-access-logs-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption == {"sseAlgorithm": "AES256"}  # S3 delivers server access logs into SSE-S3 buckets


def test_every_bucket_lifecycle_aborts_incomplete_multipart_uploads(plan):
    lifecycles = plan.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert len(lifecycles) == len(plan.of_type("aws:s3/bucket:Bucket"))
    for lifecycle in lifecycles:
        for rule in lifecycle.inputs["rules"]:
            assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1, (lifecycle.name, rule["id"])


def test_the_image_repository_and_task_logs_use_the_stacks_key_when_it_has_one(self_managed_plan):
    key = _key_arn(self_managed_plan)
    repository = self_managed_plan.one("aws:ecr/repository:Repository").inputs
    assert repository["encryptionConfigurations"] == [{"encryptionType": "KMS", **({"kmsKey": key} if key else {})}]
    # An existing repository keeps the key it was made with: ECR cannot re-encrypt one, and replacing it (with its
    # images, force_delete off in protected stacks) would fail the update.
    assert self_managed_plan.one("aws:ecr/repository:Repository").ignore_changes == ["encryptionConfigurations"]
    default = self_managed_plan.named(f"airflow-{self_managed_plan.stack}-task-logs-encryption").inputs["rules"][0]
    expected = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key} if key else {"sseAlgorithm": "AES256"}
    assert default["applyServerSideEncryptionByDefault"] == expected


# ------------------------------------------------------------------------------------------- MWAA


def test_a_private_webserver_opens_https_to_the_named_networks_only():
    plan = run_stack("prod", config={"flavour": "managed", "mwaa": {
        "environmentClass": "mw1.medium", "webserverAccessMode": "PRIVATE_ONLY", "kmsKey": "create",
        "webserverAllowedCidrs": ["10.8.0.0/16", "192.168.10.0/24"],
    }})
    assert plan.error is None, plan.error
    group = plan.named("airflow-prod-sg")
    rules = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if "cidrIpv4" in r.inputs]
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == ["10.8.0.0/16", "192.168.10.0/24"]
    assert all((r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"]) == (443, 443, "tcp") for r in rules)
    assert all(r.inputs["securityGroupId"] == group.id for r in rules)


def test_the_shipped_private_webserver_admits_only_the_environment_itself(prod_managed):
    rules = prod_managed.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [r.inputs.get("referencedSecurityGroupId") for r in rules] == [prod_managed.named("airflow-prod-sg").id]


@pytest.mark.parametrize(
    "mwaa, key",
    [
        ({"webserverAccessMode": "PUBLIC_ONLY", "webserverAllowedCidrs": ["10.8.0.0/16"]}, "mwaa.webserverAllowedCidrs"),
        ({"webserverAllowedCidrs": ["10.8.0.1/16"]}, "mwaa.webserverAllowedCidrs[0]"),
    ],
)
def test_bad_webserver_ranges_are_refused_by_key(mwaa, key):
    assert f"{key} = " in _error("dev", {"mwaa": {"environmentClass": "mw1.small", **mwaa}})


def test_an_existing_key_is_told_what_its_policy_must_admit():
    key = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    plan = run_stack("prod", config={"mwaa": {"environmentClass": "mw1.medium", "kmsKey": key}})
    assert plan.error is None, plan.error
    statements = {s["Sid"]: s for s in plan.outputs["kmsKeyPolicyStatements"]}
    assert set(statements) == {"CloudWatchLogsForThisEnvironment", "EksClusterRoleEncryptsSecrets",
                               "CloudWatchAlarmsOfThisEnvironment"}
    # The alarms' topic is encrypted with that key: CloudWatch must be admitted for this stack's alarms.
    assert plan.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"] == key
    patterns = statements["CloudWatchLogsForThisEnvironment"]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["kmsKeyId"] == key
        assert any(fnmatchcase(f"arn:aws:logs:eu-west-1:123456789012:log-group:{group.inputs['name']}", p) for p in patterns)
    assert "kmsKeyPolicyStatements" not in run_stack("prod").outputs  # the stack's own key has them already
