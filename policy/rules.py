"""The project's security and reliability rules, as plain functions over a stack's resources: the policy pack
(policy/pack.py) runs them at `pulumi preview --policy-pack policy`, and the tests run them over the offline plans
of the shipped stacks and of deliberately bad variants (tests/policy/).

Each rule reads the resources as the engine hands them to a stack policy: each resource's properties as they will
be once the operation is done (Pulumi's deploy/step_generator.go, AnalyzeResources: "AnalyzeStack is called on the
final outputs of each resource"; wire names, camelCase), its `protect` option, and its property dependencies, through
which it finds related resources (a bucket's versioning resource depends on the bucket through its `bucket` input),
since generated names and ids are unknown in a preview. A component's properties are only its outputs: pulumi-eks's
`eks:index:Cluster` carries none of its arguments, so the EKS rules read its children (`aws:eks/cluster:Cluster`,
`aws:eks/nodeGroup:NodeGroup`), and read a component's argument only where it is there.

A value a preview cannot know (a new bucket's policy names its generated ARN) is never a violation there. The engine
runs stack policies at the end of a preview, and at the end of an update, after its changes: the gate is `pulumi
preview --policy-pack policy` before `pulumi up` (the pipeline's preview), and a value only the update learns is
reported by the next one.

A "protected stack" is one that protects a resource (`protect`: the shipped prod stack's buckets, database and
key): the rules that keep data and access tight apply to it in full.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

# What the engine sends for a value a preview cannot know (pulumi/sdk: resource.UnknownStringValue, the Python
# SDK's pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
RDS_INSTANCE = ("aws:rds/instance:Instance",)
RDS_PARAMETERS = ("aws:rds/parameterGroup:ParameterGroup",)
MWAA = ("aws:mwaa/environment:Environment",)
EKS_COMPONENT = ("eks:index:Cluster",)  # pulumi-eks; its aws:eks/cluster:Cluster child is checked where visible
EKS_CLUSTER = ("aws:eks/cluster:Cluster",)
NODE_GROUPS = ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup")
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
SUBNET = ("aws:ec2/subnet:Subnet",)
ROUTE = ("aws:ec2/route:Route",)
ROUTE_TABLE_ASSOCIATION = ("aws:ec2/routeTableAssociation:RouteTableAssociation",)
INTERNET_GATEWAY = ("aws:ec2/internetGateway:InternetGateway",)
LOG_GROUP = ("aws:cloudwatch/logGroup:LogGroup",)
KMS_KEY = ("aws:kms/key:Key",)
SNS_TOPIC = ("aws:sns/topic:Topic",)
ECR_REPOSITORY = ("aws:ecr/repository:Repository",)
IAM_POLICIES = {  # the type, and the input holding a policy document
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
K8S_SERVICE = ("kubernetes:core/v1:Service",)


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    protect: bool = False
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, *path: str, default: Any = None) -> Any:
        value: Any = self.props
        for key in path:
            if not isinstance(value, Mapping) or key not in value:
                return default
            value = value[key]
        return value


@dataclass(frozen=True)
class Violation:
    urn: Optional[str]
    message: str


class Stack:
    """The resources of one preview, with the lookups the rules share."""

    def __init__(self, resources: Iterable[Resource]):
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        # Data is protected somewhere: the stack is a protected one.
        self.protected = any(r.protect for r in self.resources)

    def of(self, types: Iterable[str]) -> list[Resource]:
        wanted = set(types)
        return [r for r in self.resources if r.type in wanted]

    def through(self, resource: Resource, prop: str, types: Iterable[str]) -> list[Resource]:
        """The resources of `types` that `resource`'s input `prop` takes its value from."""
        wanted = set(types)
        urns = resource.property_dependencies.get(prop) or ()
        return [self.by_urn[u] for u in urns if u in self.by_urn and self.by_urn[u].type in wanted]

    def attached(self, target: Resource, types: Iterable[str], prop: str) -> list[Resource]:
        """The resources of `types` whose input `prop` comes from `target` (a bucket's versioning, policy...)."""
        return [r for r in self.of(types) if target.urn in (r.property_dependencies.get(prop) or ())]


def known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def missing(value: Any) -> bool:
    """Unset: None in a plan, "" in the outputs of a resource that exists (the provider's state)."""
    return value is None or value == ""


def _mapping(value: Any) -> Mapping:
    """A nested object, or {} where it is unset or unknown (an unknown object arrives as the sentinel string)."""
    return value if isinstance(value, Mapping) else {}


def _document(value: Any) -> Optional[dict]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value != UNKNOWN:
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _listed(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# ---------------------------------------------------------------------------------------------------- S3 buckets
def bucket_versioned(stack: Stack) -> Iterator[Violation]:
    for bucket in stack.of(BUCKET):
        inline = bucket.get("versioning", "enabled")
        statuses = [v.get("versioningConfiguration", "status") for v in stack.attached(bucket, VERSIONING, "bucket")]
        if inline is True or "Enabled" in statuses or any(not known(s) for s in statuses):
            continue
        yield Violation(bucket.urn, f"bucket {bucket.name} is not versioned: an overwritten or deleted DAG, "
                        "requirements file or log cannot be brought back (a BucketVersioning with status Enabled)")


def bucket_private(stack: Stack) -> Iterator[Violation]:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in stack.of(BUCKET):
        blocks = stack.attached(bucket, PUBLIC_ACCESS_BLOCK, "bucket")
        if any(all(b.get(f) is True or not known(b.get(f, default=False)) for f in flags) for b in blocks):
            continue
        yield Violation(bucket.urn, f"bucket {bucket.name} does not block public access: a BucketPublicAccessBlock "
                        f"with {', '.join(flags)} all true")


def bucket_encrypted(stack: Stack) -> Iterator[Violation]:
    for bucket in stack.of(BUCKET):
        rules = [rule for c in stack.attached(bucket, ENCRYPTION, "bucket") for rule in _listed(c.get("rules"))]
        inline = bucket.get("serverSideEncryptionConfiguration")
        if rules or inline:
            continue
        yield Violation(bucket.urn, f"bucket {bucket.name} names no default encryption: a "
                        "BucketServerSideEncryptionConfiguration (aws:kms with the stack's key, or AES256)")


def _log_targets(stack: Stack) -> set[str]:
    """Buckets that receive S3 server access logs: S3 delivers them only to a bucket whose default encryption is
    SSE-S3 (S3 user guide, enable-server-access-logging: SSE-KMS is not supported on the target bucket)."""
    return {u for logging in stack.of(BUCKET_LOGGING) for u in logging.property_dependencies.get("targetBucket") or ()}


def bucket_customer_key(stack: Stack) -> Iterator[Violation]:
    if not stack.protected:
        return
    targets = _log_targets(stack)
    for bucket in stack.of(BUCKET):
        if bucket.urn in targets:
            continue
        rules = [rule for c in stack.attached(bucket, ENCRYPTION, "bucket") for rule in _listed(c.get("rules"))]
        if any(r == UNKNOWN or _mapping(r).get("applyServerSideEncryptionByDefault") == UNKNOWN for r in rules):
            continue
        defaults = [_mapping(_mapping(r).get("applyServerSideEncryptionByDefault")) for r in rules]
        if any(d.get("sseAlgorithm") in ("aws:kms", "aws:kms:dsse", UNKNOWN) and known(d.get("kmsMasterKeyId"))
               for d in defaults):
            continue
        yield Violation(bucket.urn, f"bucket {bucket.name} of a protected stack is not encrypted with a "
                        "customer-managed key (aws:kms with kmsMasterKeyId)")


def bucket_tls_only(stack: Stack) -> Iterator[Violation]:
    for bucket in stack.of(BUCKET):
        documents = [_document(p.get("policy")) for p in stack.attached(bucket, BUCKET_POLICY, "bucket")]
        if any(d is None for d in documents) and documents:
            continue  # unknown in this preview
        if any(_denies_plain_http(d) for d in documents if d):
            continue
        yield Violation(bucket.urn, f"bucket {bucket.name} accepts requests without TLS: its policy needs a Deny "
                        "of s3:* where aws:SecureTransport is false")


def _denies_plain_http(document: Mapping) -> bool:
    for statement in _listed(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Deny":
            continue
        actions = _listed(statement.get("Action"))
        condition = statement.get("Condition") or {}
        insecure = (condition.get("Bool") or {}).get("aws:SecureTransport")
        if ("s3:*" in actions or "*" in actions) and str(insecure).lower() == "false":
            return True
    return False


# ---------------------------------------------------------------------------------------------------- RDS
def database_encrypted(stack: Stack) -> Iterator[Violation]:
    for db in stack.of(RDS_INSTANCE):
        if db.get("storageEncrypted") is not True and known(db.get("storageEncrypted")):
            yield Violation(db.urn, f"database {db.name} is not encrypted at rest (storageEncrypted: true); RDS "
                            "cannot encrypt an existing instance, only a restored copy")


def database_private(stack: Stack) -> Iterator[Violation]:
    for db in stack.of(RDS_INSTANCE):
        if db.get("publiclyAccessible") is True:
            yield Violation(db.urn, f"database {db.name} is publicly accessible (publiclyAccessible: true)")


def database_tls(stack: Stack) -> Iterator[Violation]:
    """`rds.force_ssl`: RDS for PostgreSQL 15 and later default it to 1, earlier versions to 0 (RDS user guide,
    PostgreSQL.Concepts.General.SSL)."""
    for db in stack.of(RDS_INSTANCE):
        if db.get("engine") not in ("postgres", None):
            continue
        groups = stack.through(db, "parameterGroupName", RDS_PARAMETERS)
        values = {p.get("name"): p.get("value") for g in groups for p in _listed(g.get("parameters")) if isinstance(p, Mapping)}
        force = values.get("rds.force_ssl")
        major = str(db.get("engineVersion") or "").split(".")[0]
        default_on = major.isdigit() and int(major) >= 15
        if force == "1" or (force is None and default_on) or (force is not None and not known(force)):
            continue
        yield Violation(db.urn, f"database {db.name} accepts connections without TLS: set rds.force_ssl to 1 in its "
                        "parameter group (the default below PostgreSQL 15 is 0)")


def database_backed_up(stack: Stack) -> Iterator[Violation]:
    for db in stack.of(RDS_INSTANCE):
        retention = db.get("backupRetentionPeriod")
        if known(retention) and int(retention) < 1:
            yield Violation(db.urn, f"database {db.name} keeps no automated backups (backupRetentionPeriod 0): no "
                            "point-in-time restore")
        if stack.protected and db.get("skipFinalSnapshot") is True:
            yield Violation(db.urn, f"database {db.name} of a protected stack is deleted without a final snapshot "
                            "(skipFinalSnapshot: true)")


def database_deletion_protected(stack: Stack) -> Iterator[Violation]:
    if not stack.protected:
        return
    for db in stack.of(RDS_INSTANCE):
        if db.get("deletionProtection") is not True and known(db.get("deletionProtection")):
            yield Violation(db.urn, f"database {db.name} of a protected stack has no deletion protection")


def database_backups_a_week(stack: Stack) -> Iterator[Violation]:
    if not stack.protected:
        return
    for db in stack.of(RDS_INSTANCE):
        retention = db.get("backupRetentionPeriod")
        if known(retention) and int(retention) < 7:
            yield Violation(db.urn, f"database {db.name} of a protected stack keeps {retention} day(s) of backups; "
                            "a week or more lets a problem found late still be undone")


# ---------------------------------------------------------------------------------------------------- EKS
def _public_subnets(stack: Stack) -> set[str]:
    """Subnets whose route table sends traffic to an internet gateway: the definition of a public subnet (VPC user
    guide, "Subnets for your VPC")."""
    to_internet = {t for route in stack.of(ROUTE) if stack.through(route, "gatewayId", INTERNET_GATEWAY)
                   for t in route.property_dependencies.get("routeTableId") or ()}
    return {s for a in stack.of(ROUTE_TABLE_ASSOCIATION)
            if set(a.property_dependencies.get("routeTableId") or ()) & to_internet
            for s in a.property_dependencies.get("subnetId") or ()}


def nodes_private(stack: Stack) -> Iterator[Violation]:
    public = _public_subnets(stack)
    subnets_by_id = {str(s.get("id")): s for s in stack.of(SUBNET) if known(s.get("id"))}
    for group in stack.of(NODE_GROUPS):
        # Through the property dependencies where the engine has them, else by the subnet ids a node group's
        # outputs name (pulumi-eks's child node group takes plain ids from its component).
        subnets = stack.through(group, "subnetIds", SUBNET) or [
            subnets_by_id[str(i)] for i in _listed(group.get("subnetIds")) if str(i) in subnets_by_id]
        exposed = [s.name for s in subnets if s.urn in public or s.get("mapPublicIpOnLaunch") is True]
        if exposed:
            yield Violation(group.urn, f"node group {group.name} places nodes in public subnets ({', '.join(exposed)}): "
                            "nodes belong in private subnets, behind NAT")
    for cluster in stack.of(EKS_COMPONENT):
        if cluster.get("nodeAssociatePublicIpAddress") is True:
            yield Violation(cluster.urn, f"cluster {cluster.name} gives its nodes public IP addresses")


def cluster_secrets_encrypted(stack: Stack) -> Iterator[Violation]:
    """EKS encrypts Kubernetes API data with an AWS-owned key by default on Kubernetes 1.28 and later (EKS user
    guide, envelope-encryption); a protected stack's Secrets use its own key, which it can audit and revoke."""
    if not stack.protected:
        return
    for cluster in stack.of(EKS_COMPONENT):
        if "encryptionConfigKeyArn" in cluster.props and missing(cluster.get("encryptionConfigKeyArn")):
            yield Violation(cluster.urn, f"cluster {cluster.name} of a protected stack does not encrypt Secrets with "
                            "the stack's key (encryptionConfigKeyArn)")
    for cluster in stack.of(EKS_CLUSTER):
        config = cluster.get("encryptionConfig")
        if config == UNKNOWN:
            continue
        configured = [r for c in _listed(config) for r in _listed(_mapping(c).get("resources"))]
        if UNKNOWN not in configured and "secrets" not in configured:
            yield Violation(cluster.urn, f"cluster {cluster.name} of a protected stack does not encrypt Secrets with "
                            "a customer-managed key (encryptionConfig resources [secrets])")


def cluster_endpoint_restricted(stack: Stack) -> Iterator[Violation]:
    sources = [(c, c.props) for c in stack.of(EKS_COMPONENT) if "endpointPublicAccess" in c.props]
    sources += [(c, _mapping(c.get("vpcConfig"))) for c in stack.of(EKS_CLUSTER)]
    for cluster, settings in sources:
        public = settings.get("endpointPublicAccess", True)
        cidrs = settings.get("publicAccessCidrs", ["0.0.0.0/0"])
        if public is True and cidrs != UNKNOWN and any(str(c).endswith("/0") for c in _listed(cidrs)):
            yield Violation(cluster.urn, f"cluster {cluster.name}'s API server is reachable from the whole internet "
                            "(IAM still authenticates): name the runners' and admins' ranges "
                            "(cluster.publicAccessCidrs) or make it private (cluster.endpointPublicAccess false)")


def nodes_imdsv2(stack: Stack) -> Iterator[Violation]:
    for template in stack.of(LAUNCH_TEMPLATE):
        options = template.get("metadataOptions")
        if options == UNKNOWN:
            continue
        options = _mapping(options)
        tokens, hops = options.get("httpTokens"), options.get("httpPutResponseHopLimit")
        if options.get("httpEndpoint") == "disabled":
            continue
        if tokens != UNKNOWN and tokens != "required":
            yield Violation(template.urn, f"launch template {template.name} allows IMDSv1 (metadataOptions.httpTokens "
                            "must be required)")
        if hops != UNKNOWN and (missing(hops) or int(hops) > 1):
            yield Violation(template.urn, f"launch template {template.name} lets pods reach the node's instance "
                            "metadata and its role (metadataOptions.httpPutResponseHopLimit must be 1)")
    for group in stack.of(NODE_GROUPS):
        if "launchTemplate" in group.props and not _mapping(group.get("launchTemplate")) \
                and group.get("launchTemplate") != UNKNOWN:
            yield Violation(group.urn, f"node group {group.name} has no launch template: EKS's default one allows "
                            "pods to reach the node's instance metadata")


# ---------------------------------------------------------------------------------------------------- the rest
def log_groups_retained(stack: Stack) -> Iterator[Violation]:
    for group in stack.of(LOG_GROUP):
        days = group.get("retentionInDays")
        if not known(days) and days is not None:
            continue
        if not days:
            yield Violation(group.urn, f"log group {group.name} keeps its logs for ever (retentionInDays unset): "
                            "set a retention")
        elif stack.protected and missing(group.get("kmsKeyId")):
            yield Violation(group.urn, f"log group {group.name} of a protected stack is not encrypted with the "
                            "stack's key (kmsKeyId)")


def keys_rotated(stack: Stack) -> Iterator[Violation]:
    for key in stack.of(KMS_KEY):
        symmetric = key.get("customerMasterKeySpec", default="SYMMETRIC_DEFAULT") in ("SYMMETRIC_DEFAULT", None)
        if symmetric and key.get("enableKeyRotation") not in (True, UNKNOWN):
            yield Violation(key.urn, f"key {key.name} is not rotated yearly (enableKeyRotation: true)")


def topics_encrypted(stack: Stack) -> Iterator[Violation]:
    if not stack.protected:
        return
    for topic in stack.of(SNS_TOPIC):
        if missing(topic.get("kmsMasterKeyId")):
            yield Violation(topic.urn, f"topic {topic.name} of a protected stack is not encrypted (kmsMasterKeyId)")


def images_scanned_and_immutable(stack: Stack) -> Iterator[Violation]:
    for repository in stack.of(ECR_REPOSITORY):
        scanning = repository.get("imageScanningConfiguration")
        if scanning != UNKNOWN and _mapping(scanning).get("scanOnPush") not in (True, UNKNOWN):
            yield Violation(repository.urn, f"repository {repository.name} does not scan images on push")
        mutability = repository.get("imageTagMutability") or "MUTABLE"
        if mutability != UNKNOWN and not str(mutability).startswith("IMMUTABLE"):
            yield Violation(repository.urn, f"repository {repository.name} lets a tag be pushed again over another "
                            "image (imageTagMutability IMMUTABLE)")


def mwaa_private_and_own_key(stack: Stack) -> Iterator[Violation]:
    if not stack.protected:
        return
    for environment in stack.of(MWAA):
        if environment.get("webserverAccessMode") != "PRIVATE_ONLY" and known(environment.get("webserverAccessMode")):
            yield Violation(environment.urn, f"environment {environment.name} of a protected stack serves its UI on "
                            "the internet (webserverAccessMode must be PRIVATE_ONLY)")
        if missing(environment.get("kmsKey")):
            yield Violation(environment.urn, f"environment {environment.name} of a protected stack is encrypted with "
                            "an AWS-owned key (kmsKey: the stack's key)")
    for service in stack.of(K8S_SERVICE):
        if UNKNOWN in (service.get("metadata"), service.get("spec"), service.get("metadata", "annotations")):
            continue
        spec = _mapping(service.get("spec"))
        annotations = _mapping(_mapping(service.get("metadata")).get("annotations"))
        if spec.get("type") != "LoadBalancer":
            continue
        internal = (annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal") == "true"
                    or annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme") == "internal")
        if not internal:
            yield Violation(service.urn, f"Service {service.name} of a protected stack puts a load balancer on the "
                            "internet")


def mwaa_options_lower_case(stack: Stack) -> Iterator[Violation]:
    """MWAA takes `section.option` keys in lower case only (MWAA user guide, configuring-env-variables)."""
    for environment in stack.of(MWAA):
        options = environment.get("airflowConfigurationOptions")
        if not isinstance(options, Mapping):
            continue
        upper = sorted(k for k in options if k != k.lower())
        if upper:
            yield Violation(environment.urn, f"environment {environment.name}'s Airflow options must be lower case: "
                            f"{', '.join(upper)}")


@lru_cache(maxsize=1)
def _iam_actions() -> dict[str, dict[str, dict]]:
    """Every IAM action with its access level and resource types: parliament's copy of AWS's Service
    Authorization Reference."""
    import warnings

    with warnings.catch_warnings():  # parliament imports pkg_resources, which warns that it is deprecated
        warnings.simplefilter("ignore")
        import parliament
    return {s["prefix"]: {p["privilege"].lower(): p for p in s["privileges"]} for s in parliament.iam_definition}


def _writes_scoped_to_resources(action: str) -> list[str]:
    """The actions `action` (wildcards expanded) that change something and can be scoped to a resource: "*" is
    needed only by actions that name no resource type."""
    service, _, name = action.partition(":")
    privileges = _iam_actions().get(service.lower(), {})
    pattern = name.lower()
    if "*" in pattern or "?" in pattern:
        from fnmatch import fnmatchcase

        matches = [p for key, p in privileges.items() if fnmatchcase(key, pattern)]
    else:
        matches = [privileges[pattern]] if pattern in privileges else []
    return [f"{service}:{p['privilege']}" for p in matches
            if p["access_level"] not in ("Read", "List") and any(t["resource_type"] for t in p["resource_types"])]


def iam_no_wildcard_writes(stack: Stack) -> Iterator[Violation]:
    documents: list[tuple[Resource, Any]] = []
    for resource in stack.resources:
        if resource.type in IAM_POLICIES:
            documents.append((resource, resource.get(IAM_POLICIES[resource.type])))
        elif resource.type == "aws:iam/role:Role":
            documents += [(resource, inline.get("policy")) for inline in _listed(resource.get("inlinePolicies"))
                          if isinstance(inline, Mapping)]
    for resource, raw in documents:
        document = _document(raw)
        if document is None:
            continue
        for statement in _listed(document.get("Statement")):
            if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow" or _scoped(statement):
                continue
            if "*" not in _listed(statement.get("Resource")) and "NotResource" not in statement:
                continue
            if "NotAction" in statement or any(str(a).split(":")[0] == "*" for a in _listed(statement.get("Action"))):
                broad = ["every action" if "NotAction" not in statement else "every action but a few (NotAction)"]
            else:
                broad = sorted({w for action in _listed(statement.get("Action"))
                                for w in _writes_scoped_to_resources(str(action))})
            if broad:
                sid = statement.get("Sid") or "a statement"
                shown = ", ".join(broad[:5]) + (f" and {len(broad) - 5} more" if len(broad) > 5 else "")
                yield Violation(resource.urn, f"{resource.name}: {sid} allows {shown} on every resource (\"*\"); "
                                "name the resources, or add a condition on them")


# Condition keys that say how or from where a request comes, not which resources it touches: they leave "*" broad.
_NOT_SCOPING = {"aws:securetransport", "aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:multifactorauthpresent",
                "aws:multifactorauthage", "aws:currenttime", "aws:epochtime", "aws:requestedregion", "aws:useragent",
                "aws:viaawsservice", "aws:principaltype"}


def _scoped(statement: Mapping) -> bool:
    """A condition on something else than the request's origin (a namespace, a tag, a service, an ARN) narrows
    what "*" may touch."""
    keys = {str(k).lower() for operator in _mapping(statement.get("Condition")).values() for k in _mapping(operator)}
    return bool(keys - _NOT_SCOPING)


@dataclass(frozen=True)
class Rule:
    name: str  # the policy's name, as `pulumi preview` prints it and a relaxation names it
    description: str
    mandatory: bool
    check: Callable[[Stack], Iterator[Violation]]

    def violations(self, stack: Stack) -> list[Violation]:
        return list(self.check(stack))


RULES: tuple[Rule, ...] = (
    Rule("s3-bucket-versioned", "S3 buckets are versioned.", True, bucket_versioned),
    Rule("s3-bucket-private", "S3 buckets block every form of public access.", True, bucket_private),
    Rule("s3-bucket-encrypted", "S3 buckets name their default encryption.", True, bucket_encrypted),
    Rule("s3-bucket-customer-key", "A protected stack's buckets use a customer-managed KMS key (access-log buckets, "
         "which S3 allows SSE-S3 only, excepted).", True, bucket_customer_key),
    Rule("s3-bucket-tls-only", "S3 buckets refuse requests without TLS.", True, bucket_tls_only),
    Rule("rds-encrypted", "The metadata database is encrypted at rest.", True, database_encrypted),
    Rule("rds-private", "The metadata database is not publicly accessible.", True, database_private),
    Rule("rds-tls-required", "The metadata database refuses connections without TLS.", True, database_tls),
    Rule("rds-backed-up", "The metadata database keeps automated backups, and a protected stack's a final "
         "snapshot.", True, database_backed_up),
    Rule("rds-deletion-protected", "A protected stack's database has deletion protection.", True,
         database_deletion_protected),
    Rule("rds-backups-a-week", "A protected stack's database keeps a week of backups or more.", False,
         database_backups_a_week),
    Rule("eks-private-nodes", "EKS nodes run in private subnets without public addresses.", True, nodes_private),
    Rule("eks-secrets-customer-key", "A protected stack's EKS Secrets are encrypted with its own key.", True,
         cluster_secrets_encrypted),
    Rule("eks-endpoint-restricted", "The EKS API server is not open to the whole internet.", False,
         cluster_endpoint_restricted),
    Rule("nodes-imdsv2", "Nodes require IMDSv2 and keep their instance metadata from pods (hop limit 1).", True,
         nodes_imdsv2),
    Rule("log-groups-retained", "Log groups have a retention, and a protected stack's its key.", True,
         log_groups_retained),
    Rule("kms-keys-rotated", "KMS keys are rotated yearly.", True, keys_rotated),
    Rule("sns-topics-encrypted", "A protected stack's alarm topics are encrypted.", True, topics_encrypted),
    Rule("ecr-images-scanned-immutable", "Image repositories scan on push and keep tags immutable.", False,
         images_scanned_and_immutable),
    Rule("webserver-private-in-protected-stacks", "A protected stack's Airflow UI is private (MWAA PRIVATE_ONLY, "
         "an internal load balancer) and MWAA uses the stack's key.", True, mwaa_private_and_own_key),
    Rule("mwaa-options-lower-case", "MWAA's Airflow configuration options are in lower case.", True,
         mwaa_options_lower_case),
    Rule("iam-no-wildcard-writes", "IAM policies grant no write action on every resource where the action can be "
         "scoped to one.", True, iam_no_wildcard_writes),
)
