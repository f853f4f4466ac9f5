"""Whole-stack tests of the self-managed flavour: Pulumi.prod.yaml as it is, and Pulumi.dev.yaml switched to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.self_managed.image_tag import image_tag
from k8s import identities
from k8s.cluster_autoscaler_values import IMAGE_TAGS
from offline import run_stack
from offline.engine import SECRET

PROJECT_DIR = Path(__file__).resolve().parents[2]
CLUSTER = "eks:index:Cluster"
NODES = "eks:index:ManagedNodeGroup"
DATABASE = "aws:rds/instance:Instance"


def test_the_flavours_build_different_runtimes(managed_plan, self_managed_plan):
    assert not managed_plan.of_type(CLUSTER) and not managed_plan.of_type(DATABASE)
    assert managed_plan.of_type("aws:mwaa/environment:Environment")
    assert not self_managed_plan.of_type("aws:mwaa/environment:Environment")
    assert not any(g.inputs["name"].startswith("airflow-") for g in self_managed_plan.of_type("aws:cloudwatch/logGroup:LogGroup"))
    # Both share the network, the DAG bucket and the secrets prefixes.
    for plan in (managed_plan, self_managed_plan):
        assert plan.of_type("aws:ec2/vpc:Vpc") and plan.named(f"airflow-{plan.stack}-bucket")


def test_cluster_uses_api_auth_irsa_private_nodes_and_the_stacks_provider(self_managed_plan):
    plan = self_managed_plan
    cluster = plan.one(CLUSTER)
    inputs = cluster.inputs
    assert inputs["authenticationMode"] == "API" and inputs["createOidcProvider"] is True
    assert inputs["skipDefaultNodeGroup"] is True and inputs["nodeAssociatePublicIpAddress"] is False
    assert inputs["privateSubnetIds"] == plan.outputs["privateSubnetIds"]
    assert inputs["endpointPrivateAccess"] is True
    assert inputs["version"] in IMAGE_TAGS
    assert set(inputs["enabledClusterLogTypes"]) >= {"api", "audit", "authenticator"}
    assert inputs["deletionProtection"] is (plan.stack == "prod")
    aws_provider = plan.one("pulumi:providers:aws")
    assert cluster.providers["aws"].startswith(aws_provider.urn)
    assert plan.one(NODES).providers["aws"].startswith(aws_provider.urn)


def test_node_group_scales_in_private_subnets_and_leaves_desired_size_to_the_autoscaler(self_managed_plan):
    plan = self_managed_plan
    nodes = plan.one(NODES).inputs
    scaling = nodes["scalingConfig"]
    assert 1 <= scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"]
    assert nodes["subnetIds"] == plan.outputs["privateSubnetIds"]
    assert nodes["ignoreScalingChanges"] is True
    assert nodes["amiType"] == "AL2023_x86_64_STANDARD"
    assert nodes["cluster"] == plan.one(CLUSTER).urn
    role = plan.by_urn(nodes["nodeRole"])
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.id
    }
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"}


def test_prod_runs_at_least_two_nodes_across_three_zones(prod):
    nodes = prod.one(NODES).inputs
    assert nodes["scalingConfig"]["minSize"] >= 2
    subnets = {s.id: s for s in prod.of_type("aws:ec2/subnet:Subnet")}
    zones = {subnets[i].inputs["availabilityZone"] for i in nodes["subnetIds"]}
    assert len(zones) == 3
    assert prod.one(NODES).inputs["capacityType"] == "ON_DEMAND"


def test_autoscaler_release_runs_under_its_own_irsa_role(self_managed_plan):
    plan = self_managed_plan
    release = plan.one("kubernetes:helm.sh/v3:Release")
    k8s_provider = plan.one("pulumi:providers:kubernetes")
    assert release.provider.startswith(k8s_provider.urn)
    assert k8s_provider.inputs["kubeconfig"] == SECRET
    values = release.inputs["values"]
    assert release.inputs["namespace"] == "kube-system" and release.inputs["chart"] == "cluster-autoscaler"
    assert values["autoDiscovery"]["clusterName"] == plan.one(CLUSTER).inputs["name"]
    assert values["image"]["tag"].startswith("v" + plan.one(CLUSTER).inputs["version"] + ".")
    role = plan.named(f"airflow-{plan.stack}-autoscaler-role")
    annotation = values["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert annotation == role.state["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    issuer = plan.one(CLUSTER).state["oidcIssuer"]
    assert trust["Condition"]["StringEquals"][f"{issuer}:sub"] == "system:serviceaccount:kube-system:cluster-autoscaler"
    policy = json.loads(plan.named(f"airflow-{plan.stack}-autoscaler-policy").inputs["policy"])
    resize = next(s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"])
    assert resize["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/airflow-{plan.stack}": "owned"}}


def test_database_is_private_encrypted_tls_only_and_reachable_from_the_cluster_only(self_managed_plan):
    plan = self_managed_plan
    db = plan.one(DATABASE)
    inputs = db.inputs
    assert inputs["engine"] == "postgres" and inputs["engineVersion"] == "16"
    assert inputs["storageEncrypted"] is True and inputs["publiclyAccessible"] is False
    assert inputs["password"] == SECRET
    group = plan.one("aws:rds/subnetGroup:SubnetGroup")
    assert group.inputs["subnetIds"] == plan.outputs["privateSubnetIds"]
    params = plan.one("aws:rds/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == "postgres16"
    assert {p["name"]: p["value"] for p in params.inputs["parameters"]}["rds.force_ssl"] == "1"
    assert inputs["parameterGroupName"] == params.state["name"]
    rules = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r.name.endswith("-from-cluster")]
    assert len(rules) == 1
    rule = rules[0].inputs
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (5432, 5432, "tcp")
    assert rule["referencedSecurityGroupId"] == plan.one(CLUSTER).state["clusterSecurityGroupId"]
    assert rule["referencedSecurityGroupId"] != plan.one(CLUSTER).state["nodeSecurityGroupId"]
    assert "cidrIpv4" not in rule
    assert inputs["vpcSecurityGroupIds"] == [rule["securityGroupId"]]


def test_prod_database_is_multi_az_backed_up_protected_and_snapshotted(prod, dev_self_managed):
    db = prod.one(DATABASE)
    assert db.inputs["multiAz"] is True and db.inputs["backupRetentionPeriod"] >= 7
    assert db.inputs["deletionProtection"] is True and db.inputs["skipFinalSnapshot"] is False
    suffix = prod.one("random:index/randomId:RandomId").state["hex"]
    assert db.inputs["finalSnapshotIdentifier"] == f"{db.inputs['identifier']}-final-{suffix}"
    assert db.protect and db.retain_on_delete
    dev_db = dev_self_managed.one(DATABASE)
    assert dev_db.inputs["multiAz"] is False and dev_db.inputs["skipFinalSnapshot"] is True
    assert not dev_db.protect and dev_db.inputs["deletionProtection"] is False


def test_generated_secrets_never_appear_in_plain_text(self_managed_plan):
    plan = self_managed_plan
    password = plan.named(f"airflow-{plan.stack}-password").state["result"]
    assert plan.one(DATABASE).raw_inputs["password"] == password
    generated = [r.state["result"] for r in plan.of_type("random:index/randomPassword:RandomPassword")]
    generated += [r.state["base64"] for r in plan.of_type("random:index/randomBytes:RandomBytes")]
    assert len(generated) == 4  # database, webserver secret key, admin password, fernet key
    printed = json.dumps(plan.as_json())
    for value in generated:
        assert value[:12] not in printed
    assert plan.outputs["adminPassword"] == SECRET


def test_registry_keeps_immutable_scanned_encrypted_images(self_managed_plan):
    plan = self_managed_plan
    repo = plan.one("aws:ecr/repository:Repository").inputs
    # Immutable but for the tags this program pushes (a revert pushes an earlier tag again).
    assert repo["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    version = plan.one("docker-build:index:Image").inputs["buildArgs"]["AIRFLOW_VERSION"]
    assert repo["imageTagMutabilityExclusionFilters"] == [{"filter": f"{version}-*", "filterType": "WILDCARD"}]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    policy = json.loads(plan.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])
    expected = {"prod": 30, "dev": 10}[plan.stack]
    assert policy["rules"][0]["selection"]["countNumber"] == expected


def test_image_is_built_from_docker_for_amd64_and_tagged_by_content(self_managed_plan):
    plan = self_managed_plan
    image = plan.one("docker-build:index:Image").inputs
    # Unset airflow.version on EKS: the 2.9 line's last patch; the image carries plugins/.
    tag = image_tag(PROJECT_DIR / "docker", "2.9.3", PROJECT_DIR / "plugins")
    url = plan.outputs["imageRepository"]
    assert image["tags"] == [f"{url}:{tag}"]
    assert image["platforms"] == ["linux/amd64"] and image["push"] is True and image["buildOnPreview"] is False
    assert image["context"]["location"] == "docker" and image["dockerfile"]["location"] == "docker/Dockerfile"
    assert image["buildArgs"] == {"AIRFLOW_VERSION": "2.9.3"}
    assert image["registries"][0]["password"] == SECRET
    assert plan.outputs["image"].startswith(f"{url}:{tag}@sha256:")


def test_task_log_bucket_expires_logs_after_the_configured_days(self_managed_plan):
    plan = self_managed_plan
    lifecycle = plan.named(f"airflow-{plan.stack}-task-logs-lifecycle")
    rule = lifecycle.inputs["rules"][0]
    assert rule["expiration"]["days"] == {"prod": 365, "dev": 30}[plan.stack]
    assert plan.outputs["taskLogBucket"] == plan.named(f"airflow-{plan.stack}-task-logs-bucket").state["bucket"]


def _role_for(plan, service_account):
    component = service_account.removeprefix("airflow-")
    return plan.named(f"airflow-{plan.stack}-{component}")


def test_each_airflow_component_role_trusts_exactly_its_service_account(self_managed_plan):
    plan = self_managed_plan
    issuer = plan.one(CLUSTER).state["oidcIssuer"]
    provider_arn = plan.one(CLUSTER).state["oidcProviderArn"]
    roles = plan.outputs["serviceAccountRoles"]
    accounts = identities.service_accounts(plan.outputs["airflowVersion"])
    assert set(roles) == set(accounts) and identities.METRICS in accounts
    for service_account in accounts:
        role = _role_for(plan, service_account)
        assert roles[service_account] == role.state["arn"]
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Federated": provider_arn}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:airflow:{service_account}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }
        }


def _actions_on(policy: dict, resource: str) -> set[str]:
    actions: set[str] = set()
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if resource in resources:
            acts = statement["Action"]
            actions |= set(acts if isinstance(acts, list) else [acts])
    return actions


def test_component_roles_get_what_the_component_does(self_managed_plan):
    plan = self_managed_plan
    dag_arn = plan.named(f"airflow-{plan.stack}-bucket").state["arn"]
    log_arn = plan.named(f"airflow-{plan.stack}-task-logs-bucket").state["arn"]
    policies = {
        sa: json.loads(plan.named(f"{_role_for(plan, sa).name}-policy").inputs["policy"])
        for sa in identities.AIRFLOW_SERVICE_ACCOUNTS
    }
    assert _actions_on(policies[identities.WORKER], f"{log_arn}/*") == {"s3:GetObject", "s3:PutObject"}
    # The metrics agent publishes metrics into the stack's namespace, and does nothing else.
    (publish,) = json.loads(plan.named(f"{_role_for(plan, identities.METRICS).name}-policy").inputs["policy"])["Statement"]
    assert publish["Action"] == "cloudwatch:PutMetricData"
    assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": f"Airflow/airflow-{plan.stack}"}}
    assert _actions_on(policies[identities.WEBSERVER], f"{log_arn}/*") == {"s3:GetObject"}
    assert _actions_on(policies[identities.SCHEDULER], f"{log_arn}/*") == {"s3:GetObject", "s3:PutObject"}
    for sa in (identities.SCHEDULER, identities.WORKER, identities.TRIGGERER):
        assert _actions_on(policies[sa], f"{dag_arn}/dags/*") == {"s3:GetObject"}
        secrets = next(s for s in policies[sa]["Statement"] if s["Sid"] == "ReadAirflowSecrets")
        assert all(f":secret:airflow-{plan.stack}/" in r for r in secrets["Resource"])
    assert not any("secretsmanager:ListSecrets" in json.dumps(p) for p in policies.values())


def test_self_managed_outputs(self_managed_plan):
    outputs = self_managed_plan.outputs
    assert outputs["flavour"] == "self-managed"
    assert outputs["kubeconfig"] == SECRET
    assert outputs["databasePort"] == 5432 and outputs["databaseName"] == "airflow"
    assert outputs["databaseEndpoint"].endswith(".rds.amazonaws.com")
    assert outputs["clusterName"] == f"airflow-{self_managed_plan.stack}"
    for key in ("dagBucket", "taskLogBucket", "imageRepository", "image", "vpcId"):
        assert outputs[key]


def test_self_managed_delivers_dag_files_only_and_their_archive():
    """No requirements, plugins or startup script (the image carries them): the DAG files, and the folder as one
    archive for worker pods, built from the same files."""
    import io
    import zipfile

    from k8s.spec import DAG_ARCHIVE_KEY

    plan = run_stack("dev", config={"flavour": "self-managed"})
    objects = {o.inputs["key"]: o for o in plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    files = {key for key in objects if key != DAG_ARCHIVE_KEY}
    assert files and all(key.startswith("dags/") for key in files)
    source = objects[DAG_ARCHIVE_KEY].raw_inputs["source"]
    archived = zipfile.ZipFile(io.BytesIO((PROJECT_DIR / source["asset"]).read_bytes())).namelist()
    assert sorted(f"dags/{name}" for name in archived) == sorted(files)
    managed = run_stack("dev")
    assert DAG_ARCHIVE_KEY not in {o.inputs["key"] for o in managed.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}


def test_the_stacks_key_survives_a_flavour_switch_and_the_irsa_roles_may_use_it(prod, prod_managed):
    # The same key (same URN) in both flavours: switching never deletes it or strands what it encrypted.
    assert prod.one("aws:kms/key:Key").urn == prod_managed.one("aws:kms/key:Key").urn
    key_arn = prod.one("aws:kms/key:Key").state["arn"]
    encryption = prod.named("airflow-prod-encryption").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption["kmsMasterKeyId"] == key_arn
    worker = json.loads(prod.named("airflow-prod-worker-policy").inputs["policy"])
    decrypt = next(s for s in worker["Statement"] if s["Sid"] == "DecryptWithStackKey")
    # The worker writes task logs into a bucket encrypted with the key: it needs a data key too.
    assert decrypt["Resource"] == key_arn and decrypt["Action"] == ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    assert sorted(decrypt["Condition"]["StringLike"]["kms:ViaService"]) == [
        "s3.eu-west-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com"
    ]
    webserver = json.loads(prod.named("airflow-prod-webserver-policy").inputs["policy"])
    web_decrypt = next(s for s in webserver["Statement"] if s["Sid"] == "DecryptWithStackKey")
    assert "kms:Encrypt" not in json.dumps(web_decrypt) and web_decrypt["Resource"] == key_arn


def test_aws_log_groups_exist_with_retention_before_the_cluster_and_database(self_managed_plan):
    plan = self_managed_plan
    groups = {g.inputs["name"]: g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    cluster, db = plan.one(CLUSTER), plan.one(DATABASE)
    identifier = db.inputs["identifier"]
    expected = {f"/aws/eks/{cluster.inputs['name']}/cluster"} | {f"/aws/rds/instance/{identifier}/{e}" for e in ("postgresql", "upgrade")}
    groups.pop(f"/aws/vpc/{cluster.inputs['name']}/flow-logs", None)  # the network's (tests/stack/test_security_defaults.py)
    assert set(groups) == expected
    retention = {"prod": 90, "dev": 30}[plan.stack]
    assert {g.inputs["retentionInDays"] for g in groups.values()} == {retention}
    assert groups[f"/aws/eks/{cluster.inputs['name']}/cluster"].urn in cluster.dependencies
    assert {groups[f"/aws/rds/instance/{identifier}/{e}"].urn for e in ("postgresql", "upgrade")} <= set(db.dependencies)


def test_nodes_block_pods_from_the_instance_metadata_and_encrypt_their_disks(self_managed_plan):
    plan = self_managed_plan
    template = plan.one("aws:ec2/launchTemplate:LaunchTemplate")
    metadata = template.inputs["metadataOptions"]
    assert (metadata["httpTokens"], metadata["httpPutResponseHopLimit"]) == ("required", 1)
    (disk,) = template.inputs["blockDeviceMappings"]
    assert disk["ebs"]["encrypted"] == "true" and disk["ebs"]["volumeType"] == "gp3"
    assert disk["ebs"]["volumeSize"] == {"prod": 100, "dev": 50}[plan.stack]
    nodes = plan.one(NODES).inputs
    assert nodes["launchTemplate"]["id"] == template.id
    assert nodes["version"] == plan.one(CLUSTER).inputs["version"]
    assert "diskSize" not in nodes


def test_admin_principals_get_cluster_admin_access_entries():
    principal = "arn:aws:iam::123456789012:role/pulumi-deploy"
    plan = run_stack("prod", config={"cluster": {"endpointPublicAccess": False, "adminPrincipalArns": [principal]}})
    assert plan.error is None
    entries = plan.one(CLUSTER).inputs["accessEntries"]
    (entry,) = entries.values()
    assert entry["principalArn"] == principal
    (policy,) = entry["accessPolicies"].values()
    assert policy["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert policy["accessScope"] == {"type": "cluster"}


DEPLOY_ROLE = "arn:aws:iam::123456789012:role/pulumi-deploy-airflow-prod"
DEPLOY_SESSION = "arn:aws:sts::123456789012:assumed-role/pulumi-deploy-airflow-prod/pulumi-deploy-prod"


def test_the_principal_creating_the_cluster_may_not_be_listed_as_an_admin_too():
    # EKS makes the creator admin itself; a second entry for it fails with 409 ResourceInUseException.
    plan = run_stack("prod", config={"cluster": {"endpointPublicAccess": False, "adminPrincipalArns": [DEPLOY_ROLE]}}, caller_arn=DEPLOY_SESSION)
    assert plan.error is not None and not plan.created[1:]
    message = str(plan.error)
    assert "cluster.adminPrincipalArns[0]" in message and DEPLOY_ROLE in message and "409" in message


def test_once_the_cluster_exists_the_deploying_principal_keeps_its_listed_access():
    # Created by someone else earlier: the deploy role's entry is how it reaches Kubernetes (finishByHand).
    plan = run_stack(
        "prod", config={"cluster": {"endpointPublicAccess": False, "adminPrincipalArns": [DEPLOY_ROLE]}}, caller_arn=DEPLOY_SESSION,
        clusters=("airflow-prod",),
    )
    assert plan.error is None
    (entry,) = plan.one(CLUSTER).inputs["accessEntries"].values()
    assert entry["principalArn"] == DEPLOY_ROLE


@pytest.mark.parametrize(
    "principal, caller, same",
    [
        (DEPLOY_ROLE, DEPLOY_SESSION, True),
        ("arn:aws:iam::123456789012:role/ci/pulumi-deploy-airflow-prod", DEPLOY_SESSION, True),  # a role with a path
        ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice", True),
        (DEPLOY_ROLE, "arn:aws:sts::210987654321:assumed-role/pulumi-deploy-airflow-prod/x", False),  # other account
        ("arn:aws:iam::123456789012:role/platform-admins", DEPLOY_SESSION, False),
    ],
)
def test_principal_identity_compares_a_session_with_its_role(principal, caller, same):
    from components.preflight import principal_identity

    assert (principal_identity(principal) == principal_identity(caller)) is same


def _database_transition(before: str, after: str, protect_stack: str = "prod"):
    """The plans of `pulumi up` at postgresVersion `before` (instance not yet there), then at `after` with the
    instance running `before`."""
    first = run_stack(protect_stack, config={"database": {"postgresVersion": before}})
    second = run_stack(
        protect_stack,
        config={"database": {"postgresVersion": after}},
        databases={"airflow-prod-metadata" if protect_stack == "prod" else "airflow-dev-metadata": f"{before}.4"},
    )
    return first, second


def test_a_major_upgrade_of_a_protected_database_applies_at_once():
    """The parameter group's family is its major version: a new major replaces the group. Pulumi creates the new
    one, points the instance at it, then deletes the old one, which RDS refuses while the instance still uses it
    (InvalidDBParameterGroupState): the instance must take the change now, not in the maintenance window."""
    first, second = _database_transition("15", "16")
    assert first.error is None and second.error is None, second.error
    old, new = (p.one("aws:rds/parameterGroup:ParameterGroup") for p in (first, second))
    assert old.urn == new.urn and (old.inputs["family"], new.inputs["family"]) == ("postgres15", "postgres16")
    assert not new.retain_on_delete  # the replaced group is deleted, not left behind
    instance = second.one("aws:rds/instance:Instance")
    assert instance.inputs["engineVersion"] == "16" and instance.inputs["allowMajorVersionUpgrade"] is True
    # The delete of the old group succeeds only if the instance has already moved to the new one.
    assert instance.inputs["applyImmediately"] is True
    # Backups on: RDS snapshots the instance before a major upgrade.
    assert instance.inputs["backupRetentionPeriod"] >= 1


def test_protected_changes_other_than_a_major_upgrade_wait_for_the_maintenance_window():
    plan = run_stack("prod", databases={"airflow-prod-metadata": "16.4"})
    assert plan.error is None
    assert plan.one("aws:rds/instance:Instance").inputs["applyImmediately"] is False


def test_a_downgrade_is_refused_before_anything_is_created():
    plan = run_stack("prod", config={"database": {"postgresVersion": "15"}}, databases={"airflow-prod-metadata": "16.4"})
    assert plan.error is not None and not plan.created[1:]
    assert "database.postgresVersion" in str(plan.error) and "cannot downgrade" in str(plan.error)


def _pulumi_eks_addons(cluster_inputs: dict) -> set[str]:
    """The add-ons pulumi-eks 4.x creates itself, by its own rules (nodejs/eks/cluster/cluster.ts): the VPC CNI
    unless useDefaultVpcCni or Auto Mode; kube-proxy unless disabled or Auto Mode; CoreDNS only with its default
    node group, Fargate or Auto Mode, or when explicitly enabled."""
    auto = (cluster_inputs.get("autoMode") or {}).get("enabled", False)
    found = set()
    if not cluster_inputs.get("useDefaultVpcCni", auto):
        found.add("vpc-cni")
    if (cluster_inputs.get("kubeProxyAddonOptions") or {}).get("enabled", not auto):
        found.add("kube-proxy")
    coredns = cluster_inputs.get("corednsAddonOptions") or {}
    placed = cluster_inputs.get("fargate") or not cluster_inputs.get("skipDefaultNodeGroup") or auto
    if coredns.get("enabled") is True or (placed and coredns.get("enabled", True)):
        found.add("coredns")
    return found


def test_each_default_add_on_is_managed_exactly_once(self_managed_plan):
    """VPC CNI, kube-proxy and CoreDNS each have one owner (pulumi-eks or this program), so all three follow the
    cluster's upgrades and none is fought over."""
    plan = self_managed_plan
    ours = [a.inputs["addonName"] for a in plan.of_type("aws:eks/addon:Addon")]
    theirs = _pulumi_eks_addons(plan.one(CLUSTER).inputs)
    assert sorted(ours + sorted(theirs)) == ["coredns", "kube-proxy", "vpc-cni"]


def test_coredns_is_created_after_the_nodes_at_the_clusters_version(self_managed_plan):
    plan = self_managed_plan
    (coredns,) = plan.of_type("aws:eks/addon:Addon")
    assert coredns.inputs["addonName"] == "coredns" and coredns.inputs["clusterName"] == plan.outputs["clusterName"]
    assert plan.one("eks:index:ManagedNodeGroup").urn in coredns.dependencies
    assert coredns.inputs["addonVersion"].endswith("-eksbuild.1")
    assert (coredns.inputs["resolveConflictsOnCreate"], coredns.inputs["preserve"]) == ("OVERWRITE", True)


def test_a_kubernetes_version_past_eks_standard_support_warns_of_its_price(stack_plans):
    """1.34 left EKS standard support on 2026-12-02 (stackconfig/limits.py): a stack that keeps it is told what EKS
    bills and how to move on. The shipped files run the default, which must still be in standard support: when
    this fails on the second check, the default has aged and a newer version is due."""
    from datetime import date

    from stackconfig.limits import EKS_STANDARD_SUPPORT_ENDS

    import yaml

    stack_file = Path(__file__).resolve().parents[2] / "Pulumi.prod.yaml"
    cluster = yaml.safe_load(stack_file.read_text())["config"]["airflow-on-aws:cluster"]
    old = run_stack("prod", config={"cluster": {**cluster, "kubernetesVersion": "1.34"}})
    assert old.error is None
    assert any("cluster.kubernetesVersion 1.34 left EKS standard support on 2026-12-02: EKS bills extended support, "
               "$0.50 more per cluster hour" in w for w in old.warnings), old.warnings
    shipped = stack_plans["prod"].one("eks:index:Cluster").inputs["version"]
    assert date.today().isoformat() < EKS_STANDARD_SUPPORT_ENDS[shipped], (
        f"Kubernetes {shipped}, the shipped default, left EKS standard support on {EKS_STANDARD_SUPPORT_ENDS[shipped]}")
    assert not [w for w in stack_plans["prod"].warnings if "left EKS standard support" in w]
