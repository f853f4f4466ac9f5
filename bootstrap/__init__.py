"""The bootstrap project: what an administrator runs once per AWS account and Pulumi organization so that the
application stacks deploy on git push (Pulumi Deployments, OIDC deploy roles, the gate)."""
