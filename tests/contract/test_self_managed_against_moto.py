"""The self-managed stack's recorded inputs, replayed as AWS API requests against moto.

boto3 checks every request against botocore's service model (types, required members, lengths, ranges) and moto
then applies the service's own rules where it has them: subnets inside the VPC in real zones without overlaps,
RDS engine names, IAM policy syntax and managed policy ARNs. What neither checks (the node group's scaling order)
is asserted here as the EKS API documents it."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

pytestmark = pytest.mark.contract

REGION = "eu-west-1"


@pytest.fixture
def aws():
    with mock_aws():
        yield {name: boto3.client(name, region_name=REGION) for name in ("ec2", "rds", "ecr", "eks", "iam")}


@pytest.fixture
def iam():
    # AWS's managed policies loaded (slow), so that attaching a policy ARN that does not exist fails as in AWS.
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield boto3.client("iam", region_name=REGION)


def _network(plan, ec2) -> dict[str, str]:
    """Create the VPC and subnets as recorded; return recorded subnet id -> moto subnet id."""
    vpc = plan.one("aws:ec2/vpc:Vpc")
    vpc_id = ec2.create_vpc(CidrBlock=vpc.inputs["cidrBlock"])["Vpc"]["VpcId"]
    ids = {}
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        created = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=subnet.inputs["cidrBlock"], AvailabilityZone=subnet.inputs["availabilityZone"]
        )
        ids[subnet.id] = created["Subnet"]["SubnetId"]
    ids[vpc.id] = vpc_id
    return ids


def test_vpc_and_subnets_are_accepted(self_managed_plan, aws):
    ids = _network(self_managed_plan, aws["ec2"])
    subnets = aws["ec2"].describe_subnets()["Subnets"]
    assert len([s for s in subnets if s["SubnetId"] in ids.values()]) == len(self_managed_plan.of_type("aws:ec2/subnet:Subnet"))


def test_moto_refuses_a_subnet_outside_the_vpc(aws):
    vpc_id = aws["ec2"].create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError):
        aws["ec2"].create_subnet(VpcId=vpc_id, CidrBlock="10.31.0.0/19", AvailabilityZone="eu-west-1a")


def test_database_subnet_group_parameter_group_and_instance_are_accepted(self_managed_plan, aws):
    plan = self_managed_plan
    ids = _network(plan, aws["ec2"])
    rds = aws["rds"]
    group = plan.one("aws:rds/subnetGroup:SubnetGroup")
    rds.create_db_subnet_group(
        DBSubnetGroupName=group.state["name"],
        DBSubnetGroupDescription=group.inputs["description"],
        SubnetIds=[ids[s] for s in group.inputs["subnetIds"]],
    )
    params = plan.one("aws:rds/parameterGroup:ParameterGroup")
    rds.create_db_parameter_group(
        DBParameterGroupName=params.state["name"], DBParameterGroupFamily=params.inputs["family"], Description=params.inputs["description"]
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName=params.state["name"],
        Parameters=[
            {"ParameterName": p["name"], "ParameterValue": p["value"], "ApplyMethod": p["applyMethod"]} for p in params.inputs["parameters"]
        ],
    )
    sg = plan.one("aws:ec2/securityGroup:SecurityGroup")
    sg_id = aws["ec2"].create_security_group(GroupName=sg.name, Description=sg.inputs["description"], VpcId=ids[plan.one("aws:ec2/vpc:Vpc").id])["GroupId"]
    db = plan.one("aws:rds/instance:Instance")
    i = db.raw_inputs
    request = {
        "DBInstanceIdentifier": db.state["identifier"],
        "Engine": i["engine"],
        "EngineVersion": i["engineVersion"],
        "DBInstanceClass": i["instanceClass"],
        "AllocatedStorage": i["allocatedStorage"],
        "StorageType": i["storageType"],
        "StorageEncrypted": i["storageEncrypted"],
        "MultiAZ": i["multiAz"],
        "BackupRetentionPeriod": i["backupRetentionPeriod"],
        "DeletionProtection": i["deletionProtection"],
        "DBSubnetGroupName": group.state["name"],
        "DBParameterGroupName": params.state["name"],
        "VpcSecurityGroupIds": [sg_id],
        "PubliclyAccessible": i["publiclyAccessible"],
        "MasterUsername": i["username"],
        "MasterUserPassword": i["password"],
        "DBName": i["dbName"],
        "Port": i["port"],
        "EnableCloudwatchLogsExports": i["enabledCloudwatchLogsExports"],
        "CACertificateIdentifier": i["caCertIdentifier"],
        "CopyTagsToSnapshot": i["copyTagsToSnapshot"],
        "AutoMinorVersionUpgrade": i["autoMinorVersionUpgrade"],
    }
    if i["maxAllocatedStorage"]:
        request["MaxAllocatedStorage"] = i["maxAllocatedStorage"]
    created = rds.create_db_instance(**request)["DBInstance"]
    assert created["Engine"] == "postgres" and created["StorageEncrypted"] is True
    assert created["PubliclyAccessible"] is False
    assert created["DBParameterGroups"][0]["DBParameterGroupName"] == params.state["name"]
    assert created["DBSubnetGroup"]["DBSubnetGroupName"] == group.state["name"]
    # The generated password meets RDS's rules: 8-128 printable characters without '/', '@', '"' or spaces.
    password = i["password"]
    assert 8 <= len(password) <= 128 and not set(password) & set('/@" ')


def test_image_repository_and_lifecycle_policy_are_accepted(self_managed_plan, aws):
    plan = self_managed_plan
    repo = plan.one("aws:ecr/repository:Repository")
    inputs = repo.inputs
    ecr = aws["ecr"]
    ecr.create_repository(
        repositoryName=repo.state["name"],
        imageTagMutability=inputs["imageTagMutability"],
        imageTagMutabilityExclusionFilters=inputs.get("imageTagMutabilityExclusionFilters", []),
        imageScanningConfiguration={"scanOnPush": inputs["imageScanningConfiguration"]["scanOnPush"]},
        encryptionConfiguration={"encryptionType": inputs["encryptionConfigurations"][0]["encryptionType"]},
    )
    policy = plan.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"]
    ecr.put_lifecycle_policy(repositoryName=repo.state["name"], lifecyclePolicyText=policy)
    stored = ecr.get_lifecycle_policy(repositoryName=repo.state["name"])["lifecyclePolicyText"]
    assert json.loads(stored) == json.loads(policy)
    described = ecr.describe_repositories(repositoryNames=[repo.state["name"]])["repositories"][0]
    assert described["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"


def _manifest(layer: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": f"sha256:{'c' * 64}"},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": f"sha256:{layer * 64}"}],
        }
    )


def _repository_as_planned(plan, ecr) -> str:
    repo = plan.one("aws:ecr/repository:Repository")
    filters = repo.inputs.get("imageTagMutabilityExclusionFilters")
    ecr.create_repository(
        repositoryName=repo.state["name"],
        imageTagMutability=repo.inputs["imageTagMutability"],
        **({"imageTagMutabilityExclusionFilters": filters} if filters else {}),
    )
    return repo.state["name"]


def test_a_reverted_docker_change_pushes_its_earlier_tag_again(prod, aws, tmp_path):
    """git revert of a docker/ change: the earlier tag comes back, docker-build rebuilds it (a new manifest) and
    pushes it under that tag while the lifecycle policy still keeps the first push. ECR must accept it."""
    import shutil

    from components.self_managed.image_tag import image_tag
    from stackconfig.load import PROJECT_DIR

    ecr, name = aws["ecr"], _repository_as_planned(prod, aws["ecr"])
    docker = tmp_path / "docker"
    shutil.copytree(PROJECT_DIR / "docker", docker)
    version = prod.one("docker-build:index:Image").inputs["buildArgs"]["AIRFLOW_VERSION"]
    first = image_tag(docker, version)
    planned = image_tag(PROJECT_DIR / "docker", version, PROJECT_DIR / "plugins")  # the image carries plugins/
    assert prod.one("docker-build:index:Image").inputs["tags"][0].endswith(f":{planned}")
    ecr.put_image(repositoryName=name, imageTag=first, imageManifest=_manifest("a"))
    requirements = docker / "requirements.txt"
    original = requirements.read_text()
    requirements.write_text(original + "apache-airflow-providers-slack\n")
    second = image_tag(docker, version)
    ecr.put_image(repositoryName=name, imageTag=second, imageManifest=_manifest("b"))
    requirements.write_text(original)  # the revert
    assert image_tag(docker, version) == first != second
    ecr.put_image(repositoryName=name, imageTag=first, imageManifest=_manifest("d"))  # refused by an IMMUTABLE repository
    # A file mode change (another umask) changes docker-build's context, not our tag: the same push again.
    (docker / "entrypoint.sh").chmod(0o700)
    assert image_tag(docker, version) == first
    ecr.put_image(repositoryName=name, imageTag=first, imageManifest=_manifest("e"))
    images = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": first}])["imageDetails"]
    assert len(images) == 1


def test_other_tags_stay_immutable(prod, aws):
    ecr, name = aws["ecr"], _repository_as_planned(prod, aws["ecr"])
    ecr.put_image(repositoryName=name, imageTag="hand-pushed", imageManifest=_manifest("a"))
    with pytest.raises(ClientError, match="already exists"):
        ecr.put_image(repositoryName=name, imageTag="hand-pushed", imageManifest=_manifest("b"))


def _node_group_request(plan, ids) -> dict:
    nodes = plan.one("eks:index:ManagedNodeGroup").raw_inputs
    role = plan.by_urn(nodes["nodeRole"])
    return {
        "clusterName": plan.one("eks:index:Cluster").inputs["name"],
        "nodegroupName": "airflow",
        "scalingConfig": nodes["scalingConfig"],
        "subnets": [ids[s] for s in nodes["subnetIds"]],
        "nodeRole": role.state["arn"],
        "instanceTypes": nodes["instanceTypes"],
        "capacityType": nodes["capacityType"],
        "amiType": nodes["amiType"],
        "labels": nodes["labels"],
    }


def test_cluster_and_node_group_scaling_are_accepted(self_managed_plan, aws):
    plan = self_managed_plan
    ids = _network(plan, aws["ec2"])
    cluster = plan.one("eks:index:Cluster").raw_inputs
    eks = aws["eks"]
    eks.create_cluster(
        name=cluster["name"],
        version=cluster["version"],
        roleArn="arn:aws:iam::123456789012:role/eks-cluster",  # pulumi-eks creates this role itself
        resourcesVpcConfig={
            "subnetIds": [ids[s] for s in cluster["privateSubnetIds"] + cluster["publicSubnetIds"]],
            "endpointPrivateAccess": cluster["endpointPrivateAccess"],
            "endpointPublicAccess": cluster["endpointPublicAccess"],
            **({"publicAccessCidrs": cluster["publicAccessCidrs"]} if cluster["endpointPublicAccess"] else {}),
        },
        logging={"clusterLogging": [{"types": cluster["enabledClusterLogTypes"], "enabled": True}]},
        accessConfig={"authenticationMode": cluster["authenticationMode"]},
    )
    request = _node_group_request(plan, ids)
    scaling = request["scalingConfig"]
    # The EKS API's rule, which moto does not enforce.
    assert scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"]
    created = eks.create_nodegroup(**request)["nodegroup"]
    assert created["scalingConfig"] == scaling
    assert created["capacityType"] == request["capacityType"]


def test_node_launch_template_is_accepted(self_managed_plan, aws):
    template = self_managed_plan.one("aws:ec2/launchTemplate:LaunchTemplate").raw_inputs
    metadata = template["metadataOptions"]
    (disk,) = template["blockDeviceMappings"]
    data = {
        "MetadataOptions": {
            "HttpEndpoint": metadata["httpEndpoint"],
            "HttpTokens": metadata["httpTokens"],
            "HttpPutResponseHopLimit": metadata["httpPutResponseHopLimit"],
        },
        "BlockDeviceMappings": [
            {
                "DeviceName": disk["deviceName"],
                "Ebs": {
                    "VolumeSize": disk["ebs"]["volumeSize"],
                    "VolumeType": disk["ebs"]["volumeType"],
                    "Encrypted": disk["ebs"]["encrypted"] == "true",
                    "DeleteOnTermination": disk["ebs"]["deleteOnTermination"] == "true",
                },
            }
        ],
    }
    aws["ec2"].create_launch_template(LaunchTemplateName="nodes", LaunchTemplateData=data)
    version = aws["ec2"].describe_launch_template_versions(LaunchTemplateName="nodes")["LaunchTemplateVersions"][0]
    assert version["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"


def test_iam_roles_and_policies_are_accepted(self_managed_plan, iam):
    plan = self_managed_plan
    roles = {}
    for role in plan.of_type("aws:iam/role:Role"):
        roles[role.urn] = role.state["name"]
        iam.create_role(RoleName=role.state["name"], AssumeRolePolicyDocument=role.raw_inputs["assumeRolePolicy"])
    policies = plan.of_type("aws:iam/rolePolicy:RolePolicy")
    assert policies
    by_id = {plan.by_urn(urn).id: name for urn, name in roles.items()}
    for policy in policies:
        iam.put_role_policy(RoleName=by_id[policy.inputs["role"]], PolicyName=policy.name, PolicyDocument=policy.raw_inputs["policy"])
    attachments = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    for attachment in attachments:
        iam.attach_role_policy(RoleName=attachment.inputs["role"], PolicyArn=attachment.inputs["policyArn"])
    node_role = plan.named(f"airflow-{plan.stack}-node-role").state["name"]
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=node_role)["AttachedPolicies"]}
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"}


def test_moto_refuses_a_managed_policy_that_does_not_exist(iam):
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    with pytest.raises(ClientError):
        iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicyTypo")


def test_moto_refuses_a_malformed_identity_policy(aws):
    aws["iam"].create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    with pytest.raises(ClientError):
        aws["iam"].put_role_policy(
            RoleName="r",
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}),
        )
