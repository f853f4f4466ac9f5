"""The bootstrap stack: Pulumi Cloud may deploy the application's stacks on git push, each through its own role."""

import pulumi
import pulumi_aws as aws

from bootstrap.deploy_role import DeployRole, DeployRoleArgs
from bootstrap.deployment_triggers import uv_version
from bootstrap.finish_by_hand import finish_by_hand
from bootstrap.git_push_deployment import GitPushDeployment, GitPushDeploymentArgs
from bootstrap.settings import APP_DIR, PULUMI_OIDC_URL, read

# Every problem in this stack's config, or in an application stack file it names, stops here.
bootstrap = read(pulumi.get_stack())
settings = bootstrap.settings
provider = aws.Provider(
    "aws", region=bootstrap.region, default_tags={"tags": {"managed-by": "pulumi", "project": pulumi.get_project()}}
)
on_aws = pulumi.ResourceOptions(providers=[provider])
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

# One provider per issuer URL per account: create it here, or name the one that exists.
provider_arn = settings.oidc_provider
if settings.oidc_provider == "create":
    audiences = [settings.organization.lower()] + ([f"aws:{settings.organization.lower()}"] if settings.credentials == "esc" else [])
    provider_arn = aws.iam.OpenIdConnectProvider(
        "pulumi-cloud-oidc",
        url=f"https://{PULUMI_OIDC_URL}",
        client_id_lists=audiences,
        # Every application stack's deployments depend on it.
        opts=pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(protect=True)),
    ).arn

role_arns = {}
for target in bootstrap.targets:
    role = DeployRole(
        target.stack,
        DeployRoleArgs(target, settings.organization, settings.credentials, settings.esc_project, provider_arn, account_id),
        opts=on_aws,
    )
    GitPushDeployment(target.stack, GitPushDeploymentArgs(target, settings, role.arn, uv_version(APP_DIR)))
    role_arns[target.stack] = role.arn

pulumi.export("oidcProviderArn", provider_arn)
pulumi.export("deployRoles", role_arns)
pulumi.export("finishByHand", pulumi.Output.all(**role_arns).apply(lambda arns: finish_by_hand(settings, bootstrap.targets, arns)))
