"""DeployRole: the IAM role one application stack's deployments assume through Pulumi Cloud's OIDC, with only the
permissions that stack's `pulumi up` needs."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from bootstrap.deploy_policy import Scope, deploy_policies
from components.naming import boundary_policy_name
from components.shared.permissions_boundary import boundary_policy
from bootstrap.esc_environment import esc_environment_name
from bootstrap.settings import TargetStack
from bootstrap.trust_policy import deployments_audience, deployments_subjects, esc_audience, esc_subject, trust_policy_json


@dataclass
class DeployRoleArgs:
    target: TargetStack
    organization: str
    credentials: str  # "oidc": Deployments' own token; "esc": an ESC environment's token
    esc_project: str
    oidc_provider_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]


class DeployRole(pulumi.ComponentResource):
    def __init__(self, name: str, args: DeployRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("airflowaws:bootstrap:DeployRole", name, None, opts)
        target = args.target
        if target.credentials(args.credentials) == "esc":
            env = esc_environment_name(target.project, target.stack)
            audience, subject = esc_audience(args.organization), esc_subject(args.organization, args.esc_project, env)
        else:
            audience = deployments_audience(args.organization)
            subject = deployments_subjects(args.organization, target.project, target.stack, protected=target.protected)
        role = aws.iam.Role(
            f"{name}-role",
            name=target.role_name,
            description=f"Pulumi Deployments of {target.project}/{target.stack} (git push)",
            assume_role_policy=pulumi.Output.from_input(args.oidc_provider_arn).apply(
                lambda arn: trust_policy_json(arn, audience, subject)
            ),
            max_session_duration=target.trigger.session_hours * 3600,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Managed policies, not one inline policy: the grants outgrow IAM's 10,240 characters for a role's inline
        # policies (deploy_policies packs them under 6,144 each). How many depends on lengths only, and an account
        # id always has 12 digits, so a stand-in counts them before the real account is known.
        count = len(deploy_policies(Scope.of(target.app, target.stack, target.project, "0" * 12)))
        for index in range(count):
            policy = aws.iam.Policy(
                f"{name}-policy-{index + 1}",
                name=f"{target.role_name}-{index + 1}",
                # Name and description force a new policy in the provider, and IAM refuses a second one of the same
                # name while the first exists: neither may depend on how many parts there are.
                description=f"Pulumi Deployments of {target.project}/{target.stack}, part {index + 1}",
                policy=pulumi.Output.from_input(args.account_id).apply(
                    lambda account, i=index: json.dumps(
                        deploy_policies(Scope.of(target.app, target.stack, target.project, account))[i]
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-policy-{index + 1}-attachment",
                role=role.name,
                policy_arn=policy.arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        # What every role of the stack may ever do. Created here, by an administrator, and outside the names the
        # deploy role manages: the deploy role can neither widen it nor create a role without it.
        self.boundary_arn: pulumi.Output[str] | None = None
        if target.app.permissions_boundary == "bootstrap":
            app = target.app
            prefixes = (app.secret_prefixes.variables, app.secret_prefixes.connections)
            boundary = aws.iam.Policy(
                f"{name}-boundary",
                name=boundary_policy_name(app.name),
                description=f"Permissions boundary of every IAM role of {target.project}/{target.stack}",
                policy=pulumi.Output.from_input(args.account_id).apply(
                    lambda account: json.dumps(
                        boundary_policy(
                            environment=app.name, region=app.region, account=account, secret_prefixes=prefixes,
                            project=target.project, stack=target.stack, kms_key=app.mwaa.kms_key,
                        )
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.boundary_arn = boundary.arn
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})
