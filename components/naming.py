"""ARNs and partitions built from plain values, so policy builders stay pure."""

from __future__ import annotations

from typing import Optional


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


def mwaa_log_group_name(environment: str, module: str) -> str:
    return f"{mwaa_log_group_prefix(environment)}{module}"


def eks_log_group_name(cluster: str) -> str:
    """Where EKS writes the control plane's logs (EKS user guide, control-plane-logs)."""
    return f"/aws/eks/{cluster}/cluster"


def rds_log_group_name(identifier: str, export: str) -> str:
    """Where RDS exports a database log (RDS user guide, USER_LogAccess.Procedural.UploadtoCloudWatch)."""
    return f"/aws/rds/instance/{identifier}/{export}"


def flow_log_group_name(environment: str) -> str:
    return f"/aws/vpc/{environment}/flow-logs"


def log_group_patterns(environment: str) -> dict[str, str]:
    """The log groups of an environment, by who writes them: what IAM grants, key policies and boundaries name."""
    return {
        "mwaa": f"{mwaa_log_group_prefix(environment)}*",
        "eks": f"/aws/eks/{environment}/*",
        "rds": f"/aws/rds/instance/{environment}-*",
        "vpc": f"/aws/vpc/{environment}/*",
    }


def eks_cluster_resource_name(environment: str) -> str:
    """The Pulumi name of the environment's pulumi-eks Cluster (components/self_managed/kubernetes_cluster.py)."""
    return f"{environment}-eks"


def eks_service_role_pattern(environment: str) -> str:
    """The name of the cluster service role pulumi-eks creates for the environment's cluster: a ServiceRole
    `<resource name>-eksRole` whose aws.iam.Role is `<resource name>-eksRole-role`, auto-named with a suffix
    (nodejs/eks/cluster/cluster.ts, nodejs/eks/servicerole.ts)."""
    return f"{eks_cluster_resource_name(environment)}-eksRole-*"


def database_identifier(environment: str) -> str:
    """The RDS instance's identifier: fixed, so that its log groups exist before it, and it can be looked up."""
    return f"{environment}-metadata"


def upgrade_snapshot_identifier(environment: str, running: Optional[str], target: str, suffix: str = "") -> str:
    """The manual RDS snapshot taken before the migration Job moves the metadata database from `running` to
    `target` Airflow; `suffix` (drawn per upgrade) keeps a second attempt of the same upgrade, after a rollback, from
    colliding with the kept first one. RDS's rule for DBSnapshotIdentifier (CreateDBSnapshot): 1-255 letters, digits
    and hyphens, a letter first, no two hyphens in a row, no hyphen last; so dots become single hyphens. Under the
    database's identifier, where the deploy policy lets the stack create snapshots (`snapshot:<environment>-*`)."""
    old = running.replace(".", "-") if running else "unrecorded"
    name = f"{database_identifier(environment)}-airflow-{old}-to-{target.replace('.', '-')}"
    return f"{name}-{suffix}" if suffix else name


def airflow_records_prefix(environment: str) -> str:
    """The SSM path under which a stack keeps its Airflow records (the deploy policy's grant)."""
    return f"/{environment}/airflow"


def airflow_version_path(environment: str, flavour: str) -> str:
    """Where a stack's Airflow records live in SSM, per flavour (a flavour switch starts a new Airflow)."""
    return f"{airflow_records_prefix(environment)}/{flavour}"


def airflow_version_parameter(environment: str, flavour: str) -> str:
    """The SSM parameter in which a stack records the Airflow version it deployed: written once the components have
    rolled after the migration Job (self-managed) or the MWAA environment's update has finished, and read before the
    next deployment."""
    return f"{airflow_version_path(environment, flavour)}/deployed-version"


def airflow_migration_parameter(environment: str) -> str:
    """Self-managed: the version a migration is under way to, written after the snapshot and before the migration
    Job; while it differs from the deployed version, a migration started and did not finish."""
    return f"{airflow_version_path(environment, 'self-managed')}/migrating-to"


def boundary_policy_name(environment: str) -> str:
    """The permissions boundary the bootstrap creates for one environment. Outside the `<environment>-*` names the
    environment's deploy role manages, so that role cannot widen its own boundary."""
    return f"pulumi-boundary-{environment}"


def customer_policy_arn(region: str, account: str, name: str) -> str:
    return f"arn:{partition(region)}:iam::{account}:policy/{name}"


def permissions_boundary_arn(setting: str, *, region: str, account: str, environment: str) -> Optional[str]:
    """The boundary the stack's roles carry for its `permissionsBoundary` (none, bootstrap or a policy ARN)."""
    if setting == "none":
        return None
    if setting == "bootstrap":
        return customer_policy_arn(region, account, boundary_policy_name(environment))
    return setting


# AWS managed policies the stack's roles attach: the node role's (a managed node group's: join the cluster, run the
# VPC CNI, pull from ECR), pulumi-eks's cluster service role's (nodejs/eks/cluster/cluster.ts, EKS Auto Mode off),
# and the RDS Enhanced Monitoring role's.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
EKS_CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
ENHANCED_MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"


def aws_managed_policy_arn(region: str, name: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{name}"


def alarm_name(environment: str, what: str) -> str:
    """A CloudWatch alarm of the stack: `<environment>-<what>` (PutMetricAlarm: 1-255 characters)."""
    return f"{environment}-{what}"


def alarm_arn_pattern(region: str, account: str, environment: str) -> str:
    """Every alarm of the stack, for a key policy's aws:SourceArn and the deploy role's grant."""
    return arn("cloudwatch", region, account, f"alarm:{alarm_name(environment, '*')}")


def alarm_topic_name(environment: str) -> str:
    return f"{environment}-alarms"


def dashboard_name(environment: str, region: str) -> str:
    """Dashboards are global (one namespace per account, not per region): the region is in the name
    (PutDashboard: up to 255 of A-Z, a-z, 0-9, - and _)."""
    return f"{environment}-{region}"
