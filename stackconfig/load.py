"""Reading the stack's configuration into `Settings`, or one `ConfigError` that lists every problem.

`parse` is pure (tests call it directly); `from_pulumi` reads what the Pulumi engine passes the program.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from pydantic import BaseModel, ValidationError

from stackconfig.errors import UNSET, ConfigError, ConfigIssue, ConfigIssues
from stackconfig.model import Settings
from stackconfig.stack_files import read_stack_config

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Keys that hold objects and are set with `pulumi config set --path <key>.<field> <value>`.
OBJECT_KEYS = tuple(
    field.alias or name
    for name, field in Settings.model_fields.items()
    if name == "tags" or (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel))
)
_INTERNAL = ("stack", "project", "region", "secretKeys", "secret_keys")


def parse(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project: str,
    region: Optional[str],
    secret_keys: Iterable[str] = (),
    project_dir: Optional[Path] = PROJECT_DIR,
) -> Settings:
    """Validate the project's config keys (without the project prefix) as the CLI passes them."""
    issues: list[ConfigIssue] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _INTERNAL:
            issues.append(ConfigIssue(key, value, "not a configuration key of this project"))
        elif key in OBJECT_KEYS and isinstance(value, str):
            try:
                values[key] = json.loads(value)
            except ValueError:
                issues.append(
                    ConfigIssue(key, value, f"an object; set its fields with pulumi config set --path '{key}.<field>' <value>")
                )
        else:
            values[key] = value
    for key in OBJECT_KEYS:
        if key in values and not isinstance(values[key], dict):
            issues.append(
                ConfigIssue(key, values.pop(key), f"an object; set its fields with pulumi config set --path '{key}.<field>' <value>")
            )
    context = {"project_dir": project_dir}
    internal = {"stack": stack, "project": project, "region": region or "", "secretKeys": frozenset(secret_keys)}
    try:
        settings = Settings.model_validate({**values, **internal}, context=context)
    except ValidationError as err:
        issues += list(issues_from(err, Settings))
        settings = None
    if issues or settings is None:
        raise ConfigError(stack, issues)
    return settings


def project_config() -> dict[str, Any]:
    """The running project's config keys (without the project prefix) as the Pulumi engine hands them over."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    prefix = f"{pulumi.get_project()}:"
    everything = {**(runtime_config.get_config_env() or {}), **runtime_config.CONFIG.get()}
    return {key[len(prefix) :]: value for key, value in everything.items() if key.startswith(prefix)}


def from_pulumi(project_dir: Path = PROJECT_DIR) -> Settings:
    """The settings of the stack being deployed, read from the config the Pulumi engine hands the program.

    File settings (dagsDir, requirementsFile, ...) are relative to project_dir, the program's folder."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    project, stack = pulumi.get_project(), pulumi.get_stack()
    raw = project_config()
    secret = {key for key in raw if runtime_config.is_config_secret(f"{project}:{key}")}
    region = pulumi.Config("aws").get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    settings = parse(raw, stack=stack, project=project, region=region, secret_keys=secret, project_dir=project_dir)
    issues = []
    if settings.network.existing:
        issues += check_existing_subnets(settings.network.vpc_id or "", settings.network.private_subnet_ids or [], _lookup_subnet)
    if not settings.managed and settings.cluster.admin_principal_arns:
        caller, clusters = _lookup_caller_and_clusters()
        issues += check_admin_principals(settings.cluster.admin_principal_arns, caller, settings.name in clusters)
    if not settings.managed:
        issues += check_database_version(settings.database.postgres_version, running_database_version(settings.name))
    if settings.permissions_boundary != "none":
        issues += check_boundary(settings, _lookup_account(), _lookup_policy)
    if issues:
        raise ConfigError(stack, issues)
    return settings


def from_stack_file(project_dir: Path, stack: str, overrides: Optional[Mapping[str, Any]] = None) -> Settings:
    """The settings `Pulumi.<stack>.yaml` gives, read without the Pulumi CLI (for the gate, the bootstrap project and
    the twin). `secure:` values cannot be decrypted here and stand in as placeholders; no AWS lookups are made."""
    config = read_stack_config(project_dir, stack)
    prefix = f"{config.project}:"
    raw = {key[len(prefix) :]: value for key, value in config.values.items() if key.startswith(prefix)}
    raw.update(overrides or {})
    secret = [key[len(prefix) :] for key in config.secret_keys]
    region = config.values.get("aws:region")
    return parse(raw, stack=stack, project=config.project, region=region, secret_keys=secret, project_dir=project_dir)


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

    from stackconfig.self_managed import database_identifier

    identifier = database_identifier(environment)
    found = aws.rds.get_instances(filters=[aws.rds.GetInstancesFilterArgs(name="db-instance-id", values=[identifier])])
    if identifier not in (found.instance_identifiers or []):
        return None
    return aws.rds.get_instance(db_instance_identifier=identifier).engine_version


def check_boundary(settings: Settings, account: str, lookup: Callable[[str], Optional[str]]) -> list[ConfigIssue]:
    """CreateRole fails deep inside the provider (NoSuchEntity) when the boundary does not exist: say so first."""
    arn = settings.boundary_arn(account) or ""
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


def issues_from(err: ValidationError, root: type[BaseModel]) -> Iterable[ConfigIssue]:
    """pydantic's errors for a model of config keys (`root`), phrased with the keys as typed."""
    top_level = frozenset(field.alias or name for name, field in root.model_fields.items())
    for item in err.errors(include_url=False):
        loc = item["loc"]
        error = (item.get("ctx") or {}).get("error")
        if isinstance(error, ConfigIssues):
            base = _key(loc)
            for issue in error.issues:
                yield ConfigIssue(_join(base, issue.key, top_level), issue.value, issue.allowed)
            continue
        value = item.get("input", UNSET) if item["type"] != "missing" else UNSET
        if item["type"] == "extra_forbidden":
            yield ConfigIssue(_key(loc), value, f"not a known key; known here: {', '.join(_known_keys(loc[:-1], root))}")
        else:
            yield ConfigIssue(_key(loc), value, _phrase(item["msg"]))


def _join(base: str, key: str, top_level: frozenset[str]) -> str:
    if not base or key.startswith("aws:") or key.split(".")[0] in top_level:
        return key
    return f"{base}.{key}"


def _key(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif "." in str(part) or " " in str(part):
            text += f'."{part}"' if text else f'"{part}"'
        else:
            text += f".{part}" if text else str(part)
    return text


def _known_keys(loc: tuple[Any, ...], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in loc:
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return []
        model = field.annotation
    return [f.alias or n for n, f in model.model_fields.items() if n not in _INTERNAL]


def _phrase(message: str) -> str:
    # pydantic says "Input should be 'a' or 'b'"; our readers set config, they do not send input.
    return message.replace("Input should be", "should be").replace("Value error, ", "")
