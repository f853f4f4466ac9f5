"""The plan as text: the component tree, each resource's type, name and key settings, and the outputs."""

from __future__ import annotations

import json
from typing import Any

import yaml

from k8s.kinds import KINDS, OBJECT_FIELDS
from offline.engine import SECRET, Plan, RecordedResource

# Inputs worth a line in the text view, by resource type; the JSON view has them all.
KEY_SETTINGS = {
    "pulumi:providers:aws": ["region", "defaultTags"],
    "aws:ec2/vpc:Vpc": ["cidrBlock"],
    "aws:ec2/subnet:Subnet": ["cidrBlock", "availabilityZone"],
    "aws:ec2/vpcEndpoint:VpcEndpoint": ["serviceName", "vpcEndpointType"],
    "aws:s3/bucket:Bucket": ["forceDestroy"],
    "aws:s3/bucketVersioning:BucketVersioning": ["versioningConfiguration"],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
        "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets",
    ],
    "aws:s3/bucketObjectv2:BucketObjectv2": ["key", "source"],
    "aws:kms/key:Key": ["enableKeyRotation"],
    "aws:cloudwatch/logGroup:LogGroup": ["name", "retentionInDays", "kmsKeyId"],
    "aws:secretsmanager/secret:Secret": ["name"],
    "aws:secretsmanager/secretVersion:SecretVersion": ["secretString"],
    "aws:mwaa/environment:Environment": [
        "name", "airflowVersion", "environmentClass", "minWorkers", "maxWorkers", "schedulers", "minWebservers",
        "maxWebservers", "webserverAccessMode", "endpointManagement", "networkConfiguration", "kmsKey",
        "requirementsS3Path", "requirementsS3ObjectVersion", "pluginsS3Path", "airflowConfigurationOptions",
    ],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ["referencedSecurityGroupId", "ipProtocol", "fromPort", "toPort"],
    "aws:iam/role:Role": ["description", "permissionsBoundary"],
    "aws:iam/policy:Policy": ["name", "description"],
    "aws:ec2/flowLog:FlowLog": ["trafficType", "logDestinationType"],
    "aws:s3/bucketLogging:BucketLogging": ["targetPrefix"],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": ["rules"],
    "eks:index:Cluster": [
        "name", "version", "authenticationMode", "createOidcProvider", "endpointPublicAccess", "publicAccessCidrs",
        "enabledClusterLogTypes", "deletionProtection", "encryptionConfigKeyArn",
    ],
    "eks:index:ManagedNodeGroup": ["instanceTypes", "capacityType", "scalingConfig", "amiType", "ignoreScalingChanges"],
    "kubernetes:helm.sh/v3:Release": ["chart", "version", "namespace"],
    "aws:rds/instance:Instance": [
        "engine", "engineVersion", "instanceClass", "allocatedStorage", "maxAllocatedStorage", "storageEncrypted",
        "publiclyAccessible", "multiAz", "backupRetentionPeriod", "deletionProtection", "skipFinalSnapshot", "password",
        "performanceInsightsEnabled", "performanceInsightsKmsKeyId", "monitoringInterval",
    ],
    "aws:rds/parameterGroup:ParameterGroup": ["family", "parameters"],
    "aws:ecr/repository:Repository": ["imageTagMutability", "imageScanningConfiguration", "encryptionConfigurations"],
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ["policy"],
    "docker-build:index:Image": ["tags", "platforms", "push"],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ["rules"],
}


def kubernetes_objects(plan: Plan) -> list[tuple[dict, RecordedResource]]:
    """The Kubernetes objects the program registers (Helm releases aside), as manifests; a Secret's values show as
    `[secret]` each."""
    found = []
    for resource in plan.resources:
        if not resource.type.startswith("kubernetes:") or resource.type.startswith(("kubernetes:helm", "pulumi:")):
            continue
        kind = resource.type.rsplit(":", 1)[1]
        obj = {"apiVersion": KINDS[kind].api_version, "kind": kind}
        obj.update({k: resource.inputs[k] for k in OBJECT_FIELDS if k in resource.inputs})
        if obj.get("stringData") == SECRET:
            obj["stringData"] = {key: SECRET for key in resource.raw_inputs["stringData"]}
        found.append((obj, resource))
    return found


def as_kubernetes_yaml(plan: Plan) -> str:
    return yaml.safe_dump_all([obj for obj, _ in kubernetes_objects(plan)], sort_keys=True)


def as_json(plan: Plan) -> str:
    return json.dumps(plan.as_json(), indent=2, sort_keys=True)


def as_text(plan: Plan) -> str:
    children: dict[str | None, list[RecordedResource]] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)
    lines = [f"Plan for stack '{plan.stack}' of project '{plan.project}' (offline: Pulumi's mock engine)", ""]

    def show(resource: RecordedResource, depth: int) -> None:
        marks = [m for m, on in (("protected", resource.protect), ("retained on destroy", resource.retain_on_delete)) if on]
        suffix = f"  [{', '.join(marks)}]" if marks else ""
        lines.append(f"{'  ' * depth}+ {resource.type}  {resource.name}{suffix}")
        for key in KEY_SETTINGS.get(resource.type, []):
            if key in resource.inputs:
                lines.append(f"{'  ' * depth}    {key}: {_short(resource.inputs[key])}")
        for child in children.get(resource.urn, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)
    created = len(plan.created)
    lines += ["", f"{created} resources to create.", "", "Outputs:"]
    lines += [f"  {key}: {_short(value)}" for key, value in sorted(plan.outputs.items())]
    if plan.warnings:
        lines += ["", "Warnings:"] + [f"  {warning}" for warning in plan.warnings]
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 160 else text[:157] + "..."
