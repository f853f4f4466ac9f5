"""Answers the mock engine gives in place of AWS: ids, ARNs and the values a provider computes.

The values have the shapes AWS returns (ids like vpc-..., ARNs in the resource's format), so that checks on the
recorded inputs (botocore's patterns, IAM linting) see realistic text. An object's version id is derived from the
uploaded file's bytes, as a new S3 version appears exactly when the content changes.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Mapping, Optional

import pulumi

ACCOUNT_ID = "123456789012"
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


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


class AwsMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str, subnets: Optional[Mapping[str, Mapping[str, str]]] = None):
        self.region = region
        # Existing subnets the account "has", for stacks that adopt a VPC: id -> {vpcId, availabilityZone}.
        self.subnets = dict(subnets or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
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
        if typ == "aws:iam/role:Role":
            role = inputs.get("name") or f"{name}-{_digest(name, length=7)}"
            return role, {**inputs, "name": role, "arn": f"arn:aws:iam::{account}:role/{role}", "uniqueId": "AROA" + _digest(name).upper()}
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
        if typ == "aws:cloudwatch/logGroup:LogGroup":
            group = inputs.get("name") or name
            return group, {**inputs, "arn": f"arn:aws:logs:{region}:{account}:log-group:{group}"}
        if typ == "aws:secretsmanager/secret:Secret":
            secret = inputs.get("name") or name
            arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-{_digest(secret, length=6)}"
            return arn, {**inputs, "arn": arn}
        resource_id = _ID_PREFIX.get(typ, f"{name}-id-") + _digest(typ, name)
        return resource_id, {**inputs, "arn": f"arn:aws:{typ.split(':')[1].split('/')[0]}:{region}:{account}:{name}"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline", "userId": "AIDAOFFLINE", "id": ACCOUNT_ID}, []
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{letter}" for letter in "abc"]
            return {"names": names, "zoneIds": [f"z{i}" for i in range(3)], "id": self.region}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:ec2/getSubnet:getSubnet":
            found = self.subnets.get(args.args.get("id", ""))
            if found is None:
                return {}, [("id", f"no subnet {args.args.get('id')} in {self.region}")]
            return {"id": args.args["id"], **found}, []
        return {}, []


def _asset_bytes(source: Any) -> bytes:
    if isinstance(source, pulumi.FileAsset):
        with open(source.path, "rb") as handle:
            return handle.read()
    if isinstance(source, pulumi.StringAsset):
        return source.text.encode()
    return repr(source).encode()
