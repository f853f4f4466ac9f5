"""Answers the mock engine gives in place of AWS: ids, ARNs and the values a provider computes.

The values have the shapes AWS returns (ids like vpc-..., ARNs in the resource's format), so that checks on the
recorded inputs (botocore's patterns, IAM linting) see realistic text. An object's version id is derived from the
uploaded file's bytes, as a new S3 version appears exactly when the content changes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any, Mapping, Optional

import pulumi

ACCOUNT_ID = "123456789012"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:user/offline"
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
}


# RDS names a subnet group `subgrp` and a parameter group `pg` in its ARNs.
_RDS_ARN_KIND = {"aws:rds/subnetGroup:SubnetGroup": "subgrp", "aws:rds/parameterGroup:ParameterGroup": "pg"}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class AwsMocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        region: str,
        subnets: Optional[Mapping[str, Mapping[str, str]]] = None,
        caller_arn: str = CALLER_ARN,
        clusters: tuple[str, ...] = (),
        databases: Optional[Mapping[str, str]] = None,
        changing: tuple[str, ...] = (),
        missing_policies: tuple[str, ...] = (),
        parameters: Optional[Mapping[str, str]] = None,
    ):
        self.region = region
        # SSM parameters that exist: name -> value (the Airflow version a stack recorded).
        self.parameters = dict(parameters or {})
        # Existing subnets the account "has", for stacks that adopt a VPC: id -> {vpcId, availabilityZone}.
        self.subnets = dict(subnets or {})
        # Who runs `pulumi up`, and the EKS clusters that already exist in the region.
        self.caller_arn = caller_arn
        self.clusters = list(clusters)
        # RDS instances that exist: identifier -> engine version.
        self.databases = dict(databases or {})
        # Resource types a preview shows as changing: their computed outputs are unknown.
        self.changing = set(changing)
        # Customer managed policies (ARNs) the account does not have; every other one exists.
        self.missing_policies = set(missing_policies)
        # The transforms each resource was registered with, by (type, name): the engine would run them on the
        # resource and on a remote component's children, which the mocks never see.
        self.transforms: dict[tuple[str, str], list] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        if args.transforms:
            self.transforms[(args.typ, args.name)] = list(args.transforms)
        resource_id, state = self._new_resource(args)
        if args.typ in self.changing:
            # In a preview, the engine knows only the inputs of a resource it will update; missing outputs are unknown.
            state = {key: value for key, value in state.items() if key in args.inputs}
        return resource_id, state

    def _new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        inputs = dict(args.inputs)
        name = args.name
        typ = args.typ
        state: dict[str, Any] = {}
        region, account = self.region, ACCOUNT_ID

        if typ.startswith("pulumi:providers:"):
            return f"{name}-provider-id", inputs
        if typ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{name}-{_digest(name, length=7)}"
            state = {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region}
            return bucket, {**inputs, **state}
        if typ == "aws:s3/bucketObjectv2:BucketObjectv2":
            source = inputs.get("source")
            content = _asset_bytes(source)
            state = {"versionId": _digest(name, hashlib.sha256(content).hexdigest(), length=32), "etag": hashlib.md5(content).hexdigest()}
            return f"{inputs.get('bucket')}/{inputs.get('key')}", {**inputs, **state}
        if typ == "kubernetes:core/v1:Service" and (inputs.get("spec") or {}).get("type") == "LoadBalancer":
            # What the AWS cloud controller gives a Service of type LoadBalancer: a load balancer's DNS name.
            lb = f"{_digest(name, length=32)}-{_digest(name, 'id', length=16)}.elb.{region}.amazonaws.com"
            state = {"status": {"loadBalancer": {"ingress": [{"hostname": lb}]}}}
        if typ == "aws:iam/role:Role":
            role = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            return role, {**inputs, "name": role, "arn": f"arn:aws:iam::{account}:role/{role}", "uniqueId": "AROA" + _digest(name).upper()}
        if typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            issuer = inputs["url"].removeprefix("https://")
            return f"arn:aws:iam::{account}:oidc-provider/{issuer}", {**inputs, "arn": f"arn:aws:iam::{account}:oidc-provider/{issuer}"}
        if typ == "aws:kms/key:Key":
            key_id = str(uuid.UUID(hashlib.md5(name.encode()).hexdigest()))
            return key_id, {**inputs, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}
        if typ == "aws:mwaa/environment:Environment":
            env = inputs["name"]
            state = {
                "arn": f"arn:aws:airflow:{region}:{account}:environment/{env}",
                "webserverUrl": f"{uuid.UUID(hashlib.md5(env.encode()).hexdigest())}-vpce.c2.{region}.airflow.amazonaws.com",
                "status": "AVAILABLE",
                "serviceRoleArn": f"arn:aws:iam::{account}:role/aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA",
                "databaseVpcEndpointService": f"com.amazonaws.vpce.{region}.vpce-svc-{_digest(env, 'db')}",
                "webserverVpcEndpointService": f"com.amazonaws.vpce.{region}.vpce-svc-{_digest(env, 'web')}",
            }
            return env, {**inputs, **state}
        if typ == "eks:index:Cluster":
            return f"{name}-id", {**inputs, **_eks_cluster(inputs.get("name") or name, region, account)}
        if typ == "eks:index:ManagedNodeGroup":
            return f"{name}-id", inputs
        if typ == "aws:rds/instance:Instance":
            identifier = inputs.get("identifier") or f"{name}-{_digest(name, length=7)}"
            address = f"{identifier}.c{_digest(name, length=12)}.{region}.rds.amazonaws.com"
            state = {
                "identifier": identifier,
                "address": address,
                "endpoint": f"{address}:{int(inputs.get('port', 5432))}",
                "port": inputs.get("port", 5432),
                "arn": f"arn:aws:rds:{region}:{account}:db:{identifier}",
                "engineVersionActual": f"{inputs.get('engineVersion')}.4",
            }
            return identifier, {**inputs, **state}
        if typ in ("aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup"):
            group = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            return group, {**inputs, "name": group, "arn": f"arn:aws:rds:{region}:{account}:{_RDS_ARN_KIND[typ]}:{group}"}
        if typ == "aws:ecr/repository:Repository":
            repo = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            state = {
                "name": repo,
                "arn": f"arn:aws:ecr:{region}:{account}:repository/{repo}",
                "registryId": account,
                "repositoryUrl": f"{account}.dkr.ecr.{region}.amazonaws.com/{repo}",
            }
            return repo, {**inputs, **state}
        if typ == "docker-build:index:Image":
            tag = (inputs.get("tags") or [f"{name}:latest"])[0]
            digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
            return f"{name}-id", {**inputs, "digest": digest, "ref": f"{tag}@{digest}"}
        if typ == "random:index/randomId:RandomId":
            hex_ = _digest(name, length=2 * int(inputs.get("byteLength", 4)))
            return f"{name}-id", {**inputs, "hex": hex_, "dec": str(int(hex_, 16)), "b64Url": hex_}
        if typ == "random:index/randomBytes:RandomBytes":
            raw = hashlib.sha256(name.encode()).digest()[: int(inputs.get("length", 32))]
            return f"{name}-id", {**inputs, "base64": base64.b64encode(raw).decode(), "hex": raw.hex()}
        if typ == "random:index/randomPassword:RandomPassword":
            # Deterministic stand-in; the real one comes from the provider and is a secret.
            return f"{name}-id", {**inputs, "result": "offline-" + _digest(name, length=32)}
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            group = inputs.get("name") or name
            return group, {**inputs, "arn": f"arn:aws:logs:{region}:{account}:log-group:{group}"}
        if typ == "aws:secretsmanager/secret:Secret":
            secret = inputs.get("name") or name
            arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-{_digest(secret, length=6)}"
            return arn, {**inputs, "arn": arn}
        resource_id = _ID_PREFIX.get(typ, f"{name}-id-") + _digest(typ, name)
        return resource_id, {**inputs, **state, "arn": f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{account}:{name}"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": self.caller_arn, "userId": "AIDAOFFLINE", "id": ACCOUNT_ID}, []
        if token == "aws:rds/getInstances:getInstances":
            wanted = {v for f in args.args.get("filters", []) if f["name"] == "db-instance-id" for v in f["values"]}
            found = [i for i in self.databases if i in wanted]
            return {"instanceIdentifiers": found, "instanceArns": [], "id": self.region}, []
        if token == "aws:rds/getInstance:getInstance":
            identifier = args.args["dbInstanceIdentifier"]
            return {"dbInstanceIdentifier": identifier, "engineVersion": self.databases[identifier], "id": identifier}, []
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            minor = int(str(args.args.get("kubernetesVersion", "1.0")).split(".")[1])
            return {"addonName": args.args["addonName"], "version": f"v1.11.{minor - 30}-eksbuild.1", "id": args.args["addonName"]}, []
        if token == "aws:eks/getClusters:getClusters":
            return {"names": self.clusters, "id": self.region}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{letter}" for letter in "abc"]
            return {"names": names, "zoneIds": [f"z{i}" for i in range(3)], "id": self.region}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            registry = args.args.get("registryId") or ACCOUNT_ID
            return {
                "userName": "AWS",
                "password": "offline-ecr-token",
                "authorizationToken": "offline",
                "proxyEndpoint": f"https://{registry}.dkr.ecr.{self.region}.amazonaws.com",
                "id": self.region,
            }, []
        if token == "aws:iam/getPolicy:getPolicy":
            arn = args.args.get("arn", "")
            if arn in self.missing_policies:
                return {}, [("arn", f"reading IAM Policy ({arn}): NoSuchEntity: Policy {arn} does not exist")]
            return {"arn": arn, "name": arn.rsplit("/", 1)[-1], "policy": "{}", "id": arn}, []
        if token == "aws:ssm/getParametersByPath:getParametersByPath":
            path = args.args["path"].rstrip("/") + "/"
            found = {name: value for name, value in sorted(self.parameters.items()) if name.startswith(path)}
            return {"path": args.args["path"], "names": list(found), "values": list(found.values()),
                    "types": ["String"] * len(found), "arns": [], "id": args.args["path"]}, []
        if token == "aws:ec2/getSubnet:getSubnet":
            found = self.subnets.get(args.args.get("id", ""))
            if found is None:
                return {}, [("id", f"no subnet {args.args.get('id')} in {self.region}")]
            return {"id": args.args["id"], **found}, []
        return {}, []


def _eks_cluster(cluster: str, region: str, account: str) -> dict:
    """The outputs of pulumi-eks's Cluster component that the program reads (its children stay invisible)."""
    issuer = f"oidc.eks.{region}.amazonaws.com/id/{_digest(cluster, length=32).upper()}"
    endpoint = f"https://{_digest(cluster, 'endpoint', length=32).upper()}.gr7.{region}.eks.amazonaws.com"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": "T0ZGTElORQ=="}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        "current-context": cluster,
        "users": [
            {
                "name": cluster,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster, "--output", "json"],
                    }
                },
            }
        ],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "oidcIssuer": issuer,
        "oidcProviderUrl": f"https://{issuer}",
        "oidcProviderArn": f"arn:aws:iam::{account}:oidc-provider/{issuer}",
        "clusterSecurityGroupId": "sg-" + _digest(cluster, "cluster-sg"),
        # pulumi-eks's own node group's group: not what managed nodes use (they run in the cluster's group).
        "nodeSecurityGroupId": "sg-" + _digest(cluster, "node-sg"),
    }


def _asset_bytes(source: Any) -> bytes:
    if isinstance(source, pulumi.FileAsset):
        with open(source.path, "rb") as handle:
            return handle.read()
    if isinstance(source, pulumi.StringAsset):
        return source.text.encode()
    return repr(source).encode()
