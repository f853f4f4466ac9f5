"""Whole-stack tests: the real program with the real Pulumi.dev.yaml and Pulumi.prod.yaml under the mock engine."""

from __future__ import annotations

import json

import pytest

from offline import run_stack

ENV = "aws:mwaa/environment:Environment"
SUBNET = "aws:ec2/subnet:Subnet"


def _environment(plan):
    return plan.one(ENV)


def test_every_resource_is_inside_a_component_that_uses_the_stacks_provider(plan):
    provider = plan.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "eu-west-1"
    # Provider configuration travels as JSON text.
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    assert {"project", "stack", "managed-by"} <= set(tags)
    for resource in plan.created:
        if resource.type.startswith("aws:"):
            parent = plan.by_urn(resource.parent)
            assert parent.type.startswith("airflowaws:index:"), resource.name
            assert resource.provider and resource.provider.startswith(provider.urn), resource.name


def test_component_children_are_named_after_their_component(plan):
    for resource in plan.created:
        parent = plan.by_urn(resource.parent) if resource.parent else None
        if parent is not None and parent.type.startswith("airflowaws:"):
            assert resource.name.startswith(parent.name + "-"), (resource.name, parent.name)


def test_mwaa_runs_in_two_private_subnets_of_two_zones(managed_plan):
    env = _environment(managed_plan)
    subnet_ids = env.inputs["networkConfiguration"]["subnetIds"]
    assert len(subnet_ids) == 2
    private = sorted((r for r in managed_plan.of_type(SUBNET) if r.inputs["tags"]["tier"] == "private"), key=lambda r: r.name)
    assert len({r.inputs["availabilityZone"] for r in private[:2]}) == 2
    assert all(r.inputs["mapPublicIpOnLaunch"] is False for r in managed_plan.of_type(SUBNET))
    assert subnet_ids == managed_plan.outputs["privateSubnetIds"][:2]
    assert env.inputs["sourceBucketArn"] == f"arn:aws:s3:::{managed_plan.outputs['dagBucket']}"


def test_every_bucket_is_versioned_private_encrypted_and_tls_only(plan):
    buckets = plan.of_type("aws:s3/bucket:Bucket")
    # The DAG bucket, the task-log bucket (self-managed), the access-log bucket (protected stacks).
    assert len(buckets) == (1 if plan.outputs["flavour"] == "managed" else 2) + (plan.stack == "prod")
    for bucket in buckets:
        base = bucket.name.removesuffix("-bucket")
        versioning = plan.named(f"{base}-versioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        block = plan.named(f"{base}-public-access")
        assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
        encryption = plan.named(f"{base}-encryption")
        assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")
        policy = json.loads(plan.named(f"{base}-policy").inputs["policy"])
        deny = policy["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # Destroy keeps the data of a protected stack.
        protected = plan.stack == "prod"
        assert (bucket.protect, bucket.retain_on_delete, bucket.inputs["forceDestroy"]) == (protected, protected, not protected)


def test_security_group_references_itself_for_all_traffic(managed_plan):
    group = managed_plan.named(f"airflow-{managed_plan.stack}-sg")
    rule = managed_plan.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["ipProtocol"] == "-1"
    assert rule.inputs["securityGroupId"] == rule.inputs["referencedSecurityGroupId"]
    assert _environment(managed_plan).inputs["networkConfiguration"]["securityGroupIds"] == [rule.inputs["securityGroupId"]]
    assert group.urn in rule.dependencies


def test_five_log_groups_with_retention_exist_before_the_environment(managed_plan):
    groups = [g for g in managed_plan.of_type("aws:cloudwatch/logGroup:LogGroup") if not g.inputs["name"].startswith("/aws/vpc/")]
    names = sorted(g.inputs["name"] for g in groups)
    env_name = _environment(managed_plan).inputs["name"]
    assert names == sorted(f"airflow-{env_name}-{m}" for m in ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker"))
    expected = {"dev": 14, "prod": 90}[managed_plan.stack]
    assert {g.inputs["retentionInDays"] for g in groups} == {expected}
    env = _environment(managed_plan)
    assert {g.urn for g in groups} <= set(env.dependencies)


def test_environment_carries_the_secrets_backend_options(managed_plan):
    options = _environment(managed_plan).raw_inputs["airflowConfigurationOptions"]
    assert options["secrets.backend"].endswith("SecretsManagerBackend")
    kwargs = json.loads(options["secrets.backend_kwargs"])
    assert kwargs["variables_prefix"] == f"airflow-{managed_plan.stack}/variables"
    assert kwargs["connections_prefix"] == f"airflow-{managed_plan.stack}/connections"
    assert managed_plan.outputs["secretsBackend"] == {k: options[k] for k in ("secrets.backend", "secrets.backend_kwargs")}
    # Secret in what the managed_plan prints, as in Pulumi's state.
    assert _environment(managed_plan).inputs["airflowConfigurationOptions"] == "[secret]"


def test_environment_reads_requirements_and_plugins_by_object_version(managed_plan):
    env = _environment(managed_plan)
    objects = {o.inputs["key"]: o for o in managed_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert env.inputs["requirementsS3Path"] == "requirements.txt" and "requirements.txt" in objects
    assert env.inputs["pluginsS3Path"] == "plugins.zip" and "plugins.zip" in objects
    assert env.inputs["requirementsS3ObjectVersion"] and env.inputs["pluginsS3ObjectVersion"]
    assert objects["requirements.txt"].urn in env.dependencies
    assert env.inputs["dagS3Path"] == "dags"


def test_dev_is_the_cheap_flavour(dev):
    env = _environment(dev)
    assert env.inputs["environmentClass"] == "mw1.micro"
    assert (env.inputs["minWorkers"], env.inputs["maxWorkers"], env.inputs["schedulers"]) == (1, 1, 1)
    assert len(dev.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert not dev.of_type("aws:kms/key:Key")
    bucket = dev.one("aws:s3/bucket:Bucket")
    assert not bucket.protect and bucket.inputs["forceDestroy"] is True


def test_prod_as_managed_is_sized_protected_private_and_encrypted(prod_managed):
    prod = prod_managed
    env = _environment(prod)
    assert env.inputs["schedulers"] >= 2 and env.inputs["maxWorkers"] > env.inputs["minWorkers"] >= 2
    assert env.inputs["webserverAccessMode"] == "PRIVATE_ONLY"
    assert len(prod.of_type("aws:ec2/natGateway:NatGateway")) == 3
    key = prod.one("aws:kms/key:Key")
    assert key.protect and key.retain_on_delete and key.inputs["enableKeyRotation"] is True
    key_arn = env.inputs["kmsKey"]
    assert key_arn.startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert {g.inputs["kmsKeyId"] for g in prod.of_type("aws:cloudwatch/logGroup:LogGroup")} == {key_arn}
    bucket = prod.named("airflow-prod-bucket")
    assert bucket.protect and bucket.retain_on_delete and bucket.inputs["forceDestroy"] is False
    encryption = prod.named("airflow-prod-encryption")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key_arn


def test_managed_stack_outputs(managed_plan):
    outputs = managed_plan.outputs
    assert outputs["flavour"] == "managed"
    assert outputs["webserverUrl"].startswith("https://")
    assert outputs["environmentArn"].startswith("arn:aws:airflow:eu-west-1:")
    assert set(outputs["logGroups"]) == {"DAGProcessing", "Scheduler", "Task", "WebServer", "Worker"}
    for key in ("dagBucket", "executionRoleArn", "securityGroupId", "vpcId"):
        assert outputs[key]


def test_no_nat_means_a_private_vpc_with_interface_endpoints():
    plan = run_stack("dev", config={"network": {"cidr": "10.20.0.0/16", "natGateways": "none"}})
    assert plan.error is None
    assert not plan.of_type("aws:ec2/natGateway:NatGateway") and not plan.of_type("aws:ec2/internetGateway:InternetGateway")
    services = {e.inputs["serviceName"].split("eu-west-1.")[1] for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"s3", "sqs", "logs", "monitoring", "kms", "airflow.api", "airflow.env", "airflow.ops", "secretsmanager"} <= services


def test_existing_vpc_is_adopted_without_creating_a_network():
    subnets = {
        "subnet-0aaaaaaaaaaaaaaaa": {"vpcId": "vpc-0123456789abcdef0", "availabilityZone": "eu-west-1a"},
        "subnet-0bbbbbbbbbbbbbbbb": {"vpcId": "vpc-0123456789abcdef0", "availabilityZone": "eu-west-1b"},
    }
    network = {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": sorted(subnets)}
    plan = run_stack("prod", config={"flavour": "managed", "network": network}, subnets=subnets)
    assert plan.error is None
    assert not plan.of_type("aws:ec2/vpc:Vpc") and not plan.of_type(SUBNET)
    assert _environment(plan).inputs["networkConfiguration"]["subnetIds"] == sorted(subnets)


@pytest.mark.parametrize("mode", ["PRIVATE_ONLY", "PUBLIC_ONLY"])
def test_customer_endpoint_management_creates_the_endpoints_mwaa_waits_for(mode):
    plan = run_stack("prod", config={"flavour": "managed", "mwaa": {"environmentClass": "mw1.small", "endpointManagement": "CUSTOMER", "webserverAccessMode": mode}})
    assert plan.error is None
    names = {e.name for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint") if "vpce-svc" in e.inputs["serviceName"]}
    expected = {"airflow-prod-database-endpoint"} | ({"airflow-prod-webserver-endpoint"} if mode == "PRIVATE_ONLY" else set())
    assert names == expected


def test_seeded_variables_and_connections_are_secrets_under_the_prefixes():
    plan = run_stack(
        "dev",
        secret_config={
            "airflow": {
                "variables": {"greeting": "hello"},
                "connections": {"warehouse": "postgres://user:pw@db.example.com:5432/analytics"},
            }
        },
    )
    assert plan.error is None
    names = sorted(s.inputs["name"] for s in plan.of_type("aws:secretsmanager/secret:Secret"))
    assert names == ["airflow-dev/connections/warehouse", "airflow-dev/variables/greeting"]
    versions = plan.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert {v.inputs["secretString"] for v in versions} == {"[secret]"}
    assert sorted(v.raw_inputs["secretString"] for v in versions) == ["hello", "postgres://user:pw@db.example.com:5432/analytics"]
    # Unprotected dev frees the secret names at once on destroy.
    assert {s.inputs["recoveryWindowInDays"] for s in plan.of_type("aws:secretsmanager/secret:Secret")} == {0}
    # Nothing secret leaks into the plan's text.
    assert "pw@db" not in json.dumps(plan.as_json())
