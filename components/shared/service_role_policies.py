"""Roles AWS services assume on the stack's behalf (VPC flow logs, RDS Enhanced Monitoring): who may assume them,
and what the flow-log role may do."""

from __future__ import annotations

from components.naming import arn


def service_trust_policy(service: str, account: str) -> dict:
    """Only `service`, acting for this account (aws:SourceAccount guards against the confused deputy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def flow_log_policy(*, region: str, account: str, log_group: str) -> dict:
    """What the flow-log service needs to publish to one log group (VPC user guide, flow-logs-iam-role); the group
    exists already, so it need not create one."""
    group = arn("logs", region, account, f"log-group:{log_group}")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublishToTheFlowLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group, f"{group}:*"],
            },
            {"Sid": "FindTheGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ],
    }
