"""The bootstrap stack's configuration, validated before anything is created, and what it learns from the
application stacks it sets up (their own `Pulumi.<stack>.yaml`, read with the application's config model)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Optional

import yaml
from pydantic import Field, ValidationError, field_validator

from stackconfig.errors import UNSET, ConfigError, ConfigIssue
from stackconfig.load import from_stack_file, issues_from, project_config
from stackconfig.settings import Settings as AppSettings
from stackconfig.section import Section

from stackconfig.project_files import PROJECT_DIR as APP_DIR
ROLE_PREFIX = "pulumi-deploy-"
PULUMI_OIDC_URL = "api.pulumi.com/oidc"
_ORG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
_OIDC_PROVIDER_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/api\.pulumi\.com/oidc$")
_BRANCH = re.compile(r"^(?!/)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]+(?<!/)$")
_AGENT_POOL = re.compile(r"^[0-9a-f-]{36}$")


class StackTrigger(Section):
    """How one application stack deploys: the branch whose pushes run `pulumi up` on it."""

    branch: str
    deploy_commits: bool = True
    # Unset: on for unprotected stacks, off for protected ones (a pull request's preview runs its unreviewed code).
    preview_pull_requests: Optional[bool] = None
    agent_pool_id: Optional[str] = None
    session_hours: int = Field(default=2, ge=1, le=12)

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not _BRANCH.match(value):
            raise ValueError("a git branch name, e.g. main or release")
        return value

    @field_validator("agent_pool_id")
    @classmethod
    def _pool(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _AGENT_POOL.match(value):
            raise ValueError("the id of a Pulumi Deployments agent pool (a UUID, Settings > Deployment runners)")
        return value


class BootstrapSettings(Section):
    organization: str
    repository: str
    vcs_provider: Literal["github", "gitlab", "bitbucket", "azure_devops"] = "github"
    repo_dir: str = ""
    oidc_provider: str = "create"
    credentials: Literal["oidc", "esc"] = "oidc"
    esc_project: str = "airflow-on-aws"
    stacks: dict[str, StackTrigger] = Field(min_length=1)

    @field_validator("organization")
    @classmethod
    def _organization(cls, value: str) -> str:
        if not _ORG.match(value):
            raise ValueError("your Pulumi organization's name, as in app.pulumi.com/<organization>")
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not _REPOSITORY.match(value):
            raise ValueError("the repository as owner/name, e.g. acme/airflow-on-aws")
        return value

    @field_validator("repo_dir")
    @classmethod
    def _repo_dir(cls, value: str) -> str:
        value = value.strip("/")
        if value.startswith(".") or "//" in value:
            raise ValueError("the folder of Pulumi.yaml inside the repository, without '..' ('' for the root)")
        return value

    @field_validator("oidc_provider")
    @classmethod
    def _oidc_provider(cls, value: str) -> str:
        if value != "create" and not _OIDC_PROVIDER_ARN.match(value):
            raise ValueError(
                "create, or the ARN of this account's existing provider for https://api.pulumi.com/oidc "
                "(arn:aws:iam::<account>:oidc-provider/api.pulumi.com/oidc)"
            )
        return value


@dataclass(frozen=True)
class TargetStack:
    """One application stack to deploy on git push: its trigger and the settings its own stack file gives."""

    stack: str
    project: str  # the application's Pulumi project name
    trigger: StackTrigger
    app: AppSettings

    @property
    def protected(self) -> bool:
        return self.app.protect_data

    def credentials(self, configured: str) -> str:
        """How this stack's deployments get AWS credentials. A protected stack always uses Pulumi Deployments' own
        token: an ESC environment's token names no operation, and whoever may open the environment (a pull
        request's workflow with an organization token, say) would hold the deploy role."""
        return "oidc" if self.protected else configured

    @property
    def previews_pull_requests(self) -> bool:
        chosen = self.trigger.preview_pull_requests
        return (not self.protected) if chosen is None else chosen

    @property
    def role_name(self) -> str:
        # Outside the stack's own name prefix, which its policy lets it manage: the role cannot edit itself.
        return f"{ROLE_PREFIX}{self.app.name}"


@dataclass(frozen=True)
class Bootstrap:
    settings: BootstrapSettings
    region: str
    targets: list[TargetStack]


def parse(raw: Mapping[str, Any], *, stack: str, region: Optional[str], app_dir: Path = APP_DIR) -> Bootstrap:
    """Validate the bootstrap keys (without the project prefix); every problem is reported at once."""
    values = dict(raw)
    if isinstance(values.get("stacks"), str):
        values["stacks"] = yaml.safe_load(values["stacks"])
    issues: list[ConfigIssue] = []
    if not region:
        issues.append(ConfigIssue("aws:region", None, "the AWS region of the deploy roles' provider, e.g. eu-west-1"))
    try:
        settings = BootstrapSettings.model_validate(values)
    except ValidationError as err:
        raise ConfigError(stack, issues + list(issues_from(err, BootstrapSettings))) from None
    project = yaml.safe_load((app_dir / "Pulumi.yaml").read_text())["name"]
    targets = []
    for name, trigger in settings.stacks.items():
        key = f'stacks.{name}'
        if not (app_dir / f"Pulumi.{name}.yaml").is_file():
            issues.append(ConfigIssue(key, name, f"a stack of {project} with a Pulumi.{name}.yaml next to its Pulumi.yaml"))
            continue
        try:
            app = from_stack_file(app_dir, name)
        except ConfigError as err:
            found = "; ".join(str(issue) for issue in err.issues)
            issues.append(ConfigIssue(key, name, f"a stack whose Pulumi.{name}.yaml is valid (it has: {found})"))
            continue
        if not app.managed and trigger.agent_pool_id is None:
            # build_on_preview=False still asks the Docker daemon whether BuildKit is on, so even a preview fails on
            # a runner without one, which Pulumi's hosted runners are.
            issues.append(
                ConfigIssue(
                    f"{key}.agentPoolId",
                    UNSET,
                    f"required: {name} is self-managed, and its `pulumi preview` and `pulumi up` build the Airflow image "
                    "with Docker BuildKit, which Pulumi's hosted runners lack; the id of a customer-managed agent pool "
                    "whose runners have a Docker daemon (Pulumi Cloud: Settings > Deployment runners)",
                )
            )
        if app.permissions_boundary == "none":
            issues.append(
                ConfigIssue(
                    key,
                    name,
                    f"a stack whose Pulumi.{name}.yaml sets permissionsBoundary (bootstrap, for the boundary this "
                    "bootstrap creates, or your own policy's ARN): its deploy role may create IAM roles only under "
                    f"that boundary (cd .. && pulumi config set -s {name} permissionsBoundary bootstrap)",
                )
            )
        if app.protect_data and trigger.preview_pull_requests:
            issues.append(
                ConfigIssue(
                    f"{key}.previewPullRequests",
                    True,
                    f"false (or unset): {name} is protected (protectData true in Pulumi.{name}.yaml), and a pull "
                    "request's preview would run the pull request's unreviewed code and gate with the stack's deploy "
                    "role; its role refuses previews. Pull requests into its branch run `make gate` without credentials",
                )
            )
        targets.append(TargetStack(name, project, trigger, app))
    issues += _overlapping_names(targets)
    if issues:
        raise ConfigError(stack, issues)
    return Bootstrap(settings, region or "", targets)


def _overlapping_names(targets: list[TargetStack]) -> list[ConfigIssue]:
    """Each deploy role manages the resources named `<environment>-*`: no environment name may start another's."""
    issues = []
    for target in targets:
        for other in targets:
            if other is not target and other.app.name.startswith(f"{target.app.name}-"):
                issues.append(
                    ConfigIssue(
                        f"stacks.{target.stack}",
                        target.app.name,
                        f"an environment name that is no prefix of stack {other.stack}'s ({other.app.name}); "
                        "set environmentName in one of the stack files",
                    )
                )
    return issues


def read(stack: str) -> Bootstrap:
    """The bootstrap stack's settings, read from the config the Pulumi engine hands the program."""
    import pulumi

    return parse(project_config(), stack=stack, region=pulumi.Config("aws").get("region"))
