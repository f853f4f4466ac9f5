"""What the account already has, looked up before the first resource: an adopted VPC's subnets, whether the cluster
exists and who is deploying, the running database's version, the Airflow version the stack last deployed, and the
permissions boundary. What does not fit is a `ConfigError` naming the key, as bad config is; what the program needs
later (the running versions) is returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import pulumi

from components.naming import (
    airflow_migration_parameter,
    airflow_version_parameter,
    airflow_version_path,
    database_identifier,
    permissions_boundary_arn,
    upgrade_snapshot_identifier,
)
from stackconfig import ConfigError, ConfigIssue, Settings
from stackconfig.upgrades import (
    VersionChange,
    managed_issues,
    readable_version,
    self_managed_issues,
    unfinished_migration_issues,
)


@dataclass(frozen=True)
class AccountFacts:
    # The engine version AWS reports for the stack's metadata database (None before it exists, or managed).
    running_database_version: Optional[str] = None
    # The Airflow version the stack recorded after its last successful deployment, and the one it deploys now.
    airflow: VersionChange = VersionChange(None, "")

    @property
    def snapshot_before_migration(self) -> bool:
        """Self-managed: the metadata database exists and its Airflow changes, so a snapshot precedes the migration
        (also when nothing was recorded: a stack deployed before versions were recorded)."""
        return self.running_database_version is not None and self.airflow.changes


def check(settings: Settings) -> AccountFacts:
    """Every lookup the stack's settings call for, once; all problems at once."""
    issues = []
    if settings.network.existing:
        issues += check_existing_subnets(settings.network.vpc_id or "", settings.network.private_subnet_ids or [], _lookup_subnet)
    if not settings.managed and settings.cluster.admin_principal_arns:
        caller, clusters = _lookup_caller_and_clusters()
        issues += check_admin_principals(settings.cluster.admin_principal_arns, caller, settings.name in clusters)
    running = None
    if not settings.managed:
        running = running_database_version(settings.name)
        issues += check_database_version(settings.database.postgres_version, running)
    records = airflow_records(settings, _lookup_parameters)
    change = VersionChange(records.get("deployed"), settings.airflow.version or "")
    refused, warnings = check_airflow_version(settings, change, records.get("migrating"), database_exists=running is not None)
    issues += refused
    if settings.permissions_boundary != "none":
        issues += check_boundary(settings, _lookup_account(), _lookup_policy)
    if issues:
        raise ConfigError(settings.stack, issues)
    for warning in warnings:
        pulumi.log.warn(warning)
    return AccountFacts(running_database_version=running, airflow=change)


def check_airflow_version(
    settings: Settings, change: VersionChange, migrating: Optional[str], *, database_exists: bool
) -> tuple[list[ConfigIssue], list[str]]:
    """The flavour's rules for moving the running Airflow to `airflow.version` (stackconfig/upgrades.py). A recorded
    value that is not a version (edited by hand) is refused by key rather than guessed at."""
    for recorded, name in ((change.running, airflow_version_parameter), (migrating, lambda e, f: airflow_migration_parameter(e))):
        problem = readable_version(recorded, name(settings.name, settings.flavour))
        if problem:
            return [problem], []
    if settings.managed:
        return managed_issues(change), []
    if not database_exists:
        return [], []  # a new metadata database: nothing to migrate from
    if change.running is None:
        return [], [
            f"airflow.version: the metadata database exists but no deployed Airflow version is recorded (a stack "
            f"deployed before this project recorded it): {change.target} is deployed unchecked this once and "
            "recorded for the next deployment; a snapshot is taken first"
        ]
    if migrating is not None and migrating != change.running:
        return unfinished_migration_issues(
            change, migrating, upgrade_snapshot_identifier(settings.name, change.running, migrating)
        )
    # A downgrade's way back is the snapshot the upgrade from the target took.
    return self_managed_issues(change, upgrade_snapshot_identifier(settings.name, change.target, change.running))


def airflow_records(settings: Settings, lookup: Callable[[str], Mapping[str, str]]) -> dict[str, Optional[str]]:
    """What the stack recorded of its Airflow (components/shared/deployed_airflow_version.py, and the migration
    marker of components/self_managed/metadata_database.py): `deployed` and `migrating`, None when absent."""
    found = lookup(airflow_version_path(settings.name, settings.flavour))
    return {
        "deployed": found.get(airflow_version_parameter(settings.name, settings.flavour)),
        "migrating": found.get(airflow_migration_parameter(settings.name)) if not settings.managed else None,
    }


def check_existing_subnets(
    vpc_id: str, subnet_ids: list[str], lookup: Callable[[str], Mapping[str, str]]
) -> list[ConfigIssue]:
    """MWAA needs the two subnets in the configured VPC and in two different zones: looked up, not assumed."""
    issues = []
    zones = {}
    for i, subnet_id in enumerate(subnet_ids):
        key = f"network.privateSubnetIds[{i}]"
        found = lookup(subnet_id)
        if "error" in found:
            issues.append(ConfigIssue(key, subnet_id, f"a subnet that exists in aws:region (lookup: {found['error']})"))
            continue
        if found.get("vpc_id") != vpc_id:
            issues.append(ConfigIssue(key, subnet_id, f"a subnet of network.vpcId {vpc_id} (it is in {found.get('vpc_id')})"))
        zones[subnet_id] = found.get("availability_zone")
    if len(zones) == 2 and len(set(zones.values())) == 1:
        issues.append(
            ConfigIssue(
                "network.privateSubnetIds",
                subnet_ids,
                f"subnets in two different availability zones (both are in {next(iter(zones.values()))})",
            )
        )
    return issues


def principal_identity(arn: str) -> tuple[str, str, str]:
    """(account, kind, name) of an IAM principal ARN, so that the role an STS session runs as compares equal to the
    role's own ARN: arn:aws:sts::<account>:assumed-role/<role>/<session> is arn:aws:iam::<account>:role/<path/><role>.
    """
    parts = arn.split(":", 5)
    account, resource = (parts[4], parts[5]) if len(parts) == 6 else ("", arn)
    kind, _, rest = resource.partition("/")
    if kind == "assumed-role":
        return account, "role", rest.split("/")[0]
    return account, kind, rest.rsplit("/", 1)[-1]


def check_admin_principals(principals: list[str], caller_arn: str, cluster_exists: bool) -> list[ConfigIssue]:
    """EKS makes whoever creates the cluster its admin (pulumi-eks always sets bootstrapClusterCreatorAdminPermissions:
    nodejs/eks/cluster/cluster.ts); a second access entry for the same principal fails the first `pulumi up` with
    409 ResourceInUseException. Once the cluster exists, listing the deploying principal is how it keeps its access
    (the bootstrap's finishByHand), so only a cluster still to be created is checked."""
    if cluster_exists or not caller_arn:
        return []
    caller = principal_identity(caller_arn)
    return [
        ConfigIssue(
            f"cluster.adminPrincipalArns[{i}]",
            principal,
            f"a principal other than the one running this first `pulumi up` ({caller_arn}): EKS makes the cluster's "
            "creator an admin itself, and a second access entry for it fails with 409 ResourceInUseException; "
            "remove it now and add it back once the cluster exists only if another principal created it",
        )
        for i, principal in enumerate(principals)
        if principal_identity(principal) == caller
    ]


def check_database_version(configured: str, running: Optional[str]) -> list[ConfigIssue]:
    """RDS upgrades PostgreSQL in place but never downgrades it (ModifyDBInstance: the engine version must be one of
    DescribeDBEngineVersions' ValidUpgradeTarget)."""
    if running is None or int(running.split(".")[0]) <= int(configured):
        return []
    return [
        ConfigIssue(
            "database.postgresVersion",
            configured,
            f"{running.split('.')[0]} or later: the metadata database runs PostgreSQL {running} and RDS cannot downgrade it",
        )
    ]


def running_database_version(environment: str) -> Optional[str]:
    """The engine version AWS reports for the stack's metadata database, or None before it exists."""
    import pulumi_aws as aws

    identifier = database_identifier(environment)
    found = aws.rds.get_instances(filters=[aws.rds.GetInstancesFilterArgs(name="db-instance-id", values=[identifier])])
    if identifier not in (found.instance_identifiers or []):
        return None
    return aws.rds.get_instance(db_instance_identifier=identifier).engine_version


def check_boundary(settings: Settings, account: str, lookup: Callable[[str], Optional[str]]) -> list[ConfigIssue]:
    """CreateRole fails deep inside the provider (NoSuchEntity) when the boundary does not exist: say so first."""
    arn = permissions_boundary_arn(settings.permissions_boundary, region=settings.region, account=account, environment=settings.name) or ""
    problem = lookup(arn)
    if problem is None:
        return []
    remedy = (
        "run the bootstrap first (cd bootstrap && pulumi up), which creates it"
        if settings.permissions_boundary == "bootstrap"
        else "the ARN of a policy in this account"
    )
    return [
        ConfigIssue(
            "permissionsBoundary",
            settings.permissions_boundary,
            f"a boundary that exists: {arn} cannot be read ({problem}); {remedy}, or "
            "`pulumi config set permissionsBoundary none` to deploy without one",
        )
    ]


def _lookup_account() -> str:
    import pulumi_aws as aws

    return aws.get_caller_identity().account_id


def _lookup_policy(arn: str) -> Optional[str]:
    import pulumi_aws as aws

    try:
        aws.iam.get_policy(arn=arn)
    except Exception as err:  # noqa: BLE001 - the provider's reason (missing policy, no access) is shown, not hidden
        return str(err).strip().splitlines()[-1][:200]
    return None


def _lookup_parameters(path: str) -> Mapping[str, str]:
    """The SSM parameters under a path, by name: empty, not an error, when there are none."""
    import pulumi_aws as aws

    found = aws.ssm.get_parameters_by_path(path=path)
    return dict(zip(found.names or [], found.values or []))


def _lookup_caller_and_clusters() -> tuple[str, set[str]]:
    import pulumi_aws as aws

    caller = aws.get_caller_identity().arn
    return caller, set(aws.eks.get_clusters().names or [])


def _lookup_subnet(subnet_id: str) -> Mapping[str, str]:
    import pulumi_aws as aws

    try:
        subnet = aws.ec2.get_subnet(id=subnet_id)
    except Exception as err:  # noqa: BLE001 - the provider's reason (missing subnet, no credentials) is shown, not hidden
        return {"error": str(err).strip().splitlines()[-1][:200]}
    return {"vpc_id": subnet.vpc_id, "availability_zone": subnet.availability_zone}
