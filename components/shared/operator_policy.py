"""What an operator needs to run `airflow-stack` against this stack, as an IAM policy the stack exports
(`operatorPolicy`): attach it to the role people or CI use."""

from __future__ import annotations

from components.naming import arn

# The Airflow role REST calls through InvokeRestApi act as (MWAA maps it to Airflow's RBAC role of that name).
REST_API_ROLE = "Op"


def operator_policy(*, managed: bool, region: str, account: str, environment: str) -> dict:
    if managed:
        environment_arn = arn("airflow", region, account, f"environment/{environment}")
        statements = [
            {
                "Sid": "RunAirflowCliCommands",
                "Effect": "Allow",
                "Action": ["airflow:GetEnvironment", "airflow:CreateCliToken"],
                "Resource": environment_arn,
            },
            {
                # REST calls, and `airflow-stack login` to the UI, act as this Airflow role.
                "Sid": "CallAirflowRestApiAndOpenTheUi",
                "Effect": "Allow",
                "Action": ["airflow:InvokeRestApi", "airflow:CreateWebLoginToken"],
                "Resource": arn("airflow", region, account, f"role/{environment}/{REST_API_ROLE}"),
            },
        ]
    else:
        # Kubernetes rights come from the cluster's access entries (cluster.adminPrincipalArns); IAM only lets
        # the operator find the cluster and get a token for it.
        statements = [
            {
                "Sid": "ReachTheCluster",
                "Effect": "Allow",
                "Action": "eks:DescribeCluster",
                "Resource": arn("eks", region, account, f"cluster/{environment}"),
            }
        ]
    return {"Version": "2012-10-17", "Statement": statements}
