"""GitPushDeployment: Pulumi Deployments settings that preview one application stack on pull requests and update it
on pushes to its branch, after the gate has passed."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_pulumiservice as pulumiservice

from bootstrap.deployment_triggers import BUILT_FOR_VARIABLE, built_for_json, pre_run_commands, trigger_paths
from bootstrap.esc_environment import aws_login_environment, esc_environment_name
from bootstrap.settings import BootstrapSettings, TargetStack


@dataclass
class GitPushDeploymentArgs:
    target: TargetStack
    settings: BootstrapSettings
    role_arn: pulumi.Input[str]
    uv_version: str


class GitPushDeployment(pulumi.ComponentResource):
    def __init__(self, name: str, args: GitPushDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("airflowaws:bootstrap:GitPushDeployment", name, None, opts)
        target, settings = args.target, args.settings
        trigger = target.trigger
        session = f"pulumi-deploy-{target.stack}"
        oidc = None
        if target.credentials(settings.credentials) == "esc":
            pulumiservice.Environment(
                f"{name}-aws-login",
                organization=settings.organization,
                project=settings.esc_project,
                name=esc_environment_name(target.project, target.stack),
                yaml=pulumi.Output.from_input(args.role_arn).apply(
                    lambda arn: pulumi.StringAsset(aws_login_environment(arn, session, trigger.session_hours))
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            oidc = pulumiservice.OperationContextOIDCArgs(
                aws=pulumiservice.AWSOIDCConfigurationArgs(
                    role_arn=args.role_arn, session_name=session, duration=f"{trigger.session_hours}h0m0s"
                )
            )
        self.settings = pulumiservice.DeploymentSettings(
            f"{name}-deployment-settings",
            organization=settings.organization,
            project=target.project,
            stack=target.stack,
            agent_pool_id=trigger.agent_pool_id,
            source_context=pulumiservice.DeploymentSettingsSourceContextArgs(
                git=pulumiservice.DeploymentSettingsGitSourceArgs(branch=trigger.branch, repo_dir=settings.repo_dir or None)
            ),
            vcs=pulumiservice.DeploymentSettingsVcsArgs(
                provider=settings.vcs_provider,
                repository=settings.repository,
                deploy_commits=trigger.deploy_commits,
                preview_pull_requests=target.previews_pull_requests,
                pull_request_template=False,
                paths=trigger_paths(target.stack, target.app, settings.repo_dir),
            ),
            operation_context=pulumiservice.DeploymentSettingsOperationContextArgs(
                pre_run_commands=pre_run_commands(target.stack, settings.repo_dir, args.uv_version),
                # The gate fails, saying "re-run the bootstrap", when the stack file outgrows what this was built for.
                environment_variables={
                    BUILT_FOR_VARIABLE: built_for_json(target.stack, target.app, target.project, settings.repo_dir)
                },
                options=pulumiservice.OperationContextOptionsArgs(
                    skip_install_dependencies=True, skip_intermediate_deployments=True
                ),
                oidc=oidc,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
