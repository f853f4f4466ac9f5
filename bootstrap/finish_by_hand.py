"""What the administrator still has to do after `pulumi up` of the bootstrap stack, as sentences (an output)."""

from __future__ import annotations

from bootstrap.esc_environment import esc_environment_name
from bootstrap.settings import BootstrapSettings, TargetStack


def finish_by_hand(settings: BootstrapSettings, targets: list[TargetStack], role_arns: dict[str, str]) -> list[str]:
    steps = []
    if settings.vcs_provider == "github":
        steps.append(
            f"Install the Pulumi GitHub app on {settings.repository} (Pulumi Cloud: Settings > Version control), "
            "so that pushes and pull requests reach Pulumi Deployments."
        )
    else:
        steps.append(f"Connect {settings.repository} to Pulumi Cloud ({settings.vcs_provider} integration: Settings > Version control).")
    if settings.oidc_provider != "create":
        audience = settings.organization.lower()
        steps.append(f"Make sure the existing OIDC provider {settings.oidc_provider} lists '{audience}' among its audiences.")
    for target in targets:
        stack, branch = target.stack, target.trigger.branch
        if target.app.protect_data:
            steps.append(
                f"Protect branch {branch} of {settings.repository}: require a reviewed pull request, so that merging "
                f"into it (which runs `pulumi up` on {stack}) is the approval of the promotion."
            )
        if target.credentials(settings.credentials) == "esc":
            env = esc_environment_name(target.project, stack)
            steps.append(f"Add the ESC environment to Pulumi.{stack}.yaml: `environment: [{settings.esc_project}/{env}]`.")
        if not target.app.managed:
            role = role_arns[stack]
            if role not in target.app.cluster.admin_principal_arns:
                index = len(target.app.cluster.admin_principal_arns)
                steps.append(
                    f"If the {target.app.name} cluster already exists (created by someone else), give the deploy role "
                    f"access to Kubernetes: pulumi config set --path 'cluster.adminPrincipalArns[{index}]' {role} "
                    f"--stack {stack}, run pulumi up once by hand, and commit Pulumi.{stack}.yaml."
                )
            steps.append(
                f"{stack} is self-managed: its deployments run on agent pool {target.trigger.agent_pool_id}; its "
                "runners need a Docker daemon (the Airflow image is built with BuildKit) and the AWS CLI."
            )
    return steps
