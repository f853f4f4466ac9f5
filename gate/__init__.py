"""The deployment gate: what must hold before `pulumi up` may change a stack (`make gate STACK=<name>`).

Pulumi Deployments runs it as a pre-run command, so a DAG that does not import, a plugin that fails, or a requirement
that conflicts with Airflow's constraints stops the deployment before anything changes."""
