"""The stack's alarms (components/shared/alarm_definitions.py), the SNS topic they notify with its subscribers, and
one CloudWatch dashboard.

The topic is encrypted with the stack's key when it has one; that key's policy admits CloudWatch for the stack's
alarms (encryption_key_policy.py), without which an alarm publishing to the topic is dropped (SNS developer guide,
sns-key-management: "Enable compatibility between event sources from AWS services and encrypted topics"). Without a
key of the stack's the topic is not encrypted: the AWS managed key `alias/aws/sns` cannot admit CloudWatch (its
policy cannot be changed), and an alarm's message holds the alarm's name, state and reason only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.naming import alarm_topic_name, dashboard_name
from components.shared.alarm_definitions import Alarm, dashboard_body, dashboard_json, dashboard_url, metric_alarm_args


@dataclass
class StackMonitoringArgs:
    environment: str
    region: str
    account_id: pulumi.Input[str]
    alarms: Sequence[Alarm]
    managed: bool
    emails: Sequence[str] = field(default_factory=list)
    https_endpoints: Sequence[str] = field(default_factory=list)
    kms_key_arn: Optional[pulumi.Input[str]] = None
    # What the alarms watch, created first (an alarm on an environment that is not there yet says nothing useful).
    after: Sequence[pulumi.Resource] = field(default_factory=list)


class StackMonitoring(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    dashboard_url: str

    def __init__(self, name: str, args: StackMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:StackMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            f"{name}-alarms",
            name=alarm_topic_name(args.environment),
            kms_master_key_id=args.kms_key_arn,
            opts=child,
        )
        for protocol, endpoints in (("email", args.emails), ("https", args.https_endpoints)):
            for endpoint in endpoints:
                aws.sns.TopicSubscription(
                    # Named for its endpoint, not its place in the list: SNS answers a second subscribe of one
                    # endpoint with the first's ARN, so a positional name would replace one subscriber with the
                    # next when one is removed, then unsubscribe it.
                    f"{name}-alarms-{protocol}-{hashlib.sha256(endpoint.encode()).hexdigest()[:10]}",
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    # Not endpoint_auto_confirms: `pulumi up` does not wait for the receiver, whose subscription
                    # stays pending until it confirms (as an e-mail's does).
                    opts=child,
                )
        alarms = [
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm.what}",
                **metric_alarm_args(alarm, args.environment, topic.arn),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
            )
            for alarm in args.alarms
        ]
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=dashboard_name(args.environment, args.region),
            dashboard_body=pulumi.Output.from_input(args.account_id).apply(
                lambda account: dashboard_json(
                    dashboard_body(args.environment, args.region, account, list(args.alarms), managed=args.managed))
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=alarms),  # it lists them
        )
        self.topic_arn = topic.arn
        self.dashboard_url = dashboard_url(args.environment, args.region)
        self.register_outputs({"topicArn": self.topic_arn, "dashboardUrl": self.dashboard_url})


def monitor(settings, ctx, alarms: Sequence[Alarm], after: Sequence[pulumi.Resource]) -> StackMonitoring:
    """The stack's monitoring from its settings (`monitoring.*`), and its outputs `alarmTopicArn`, `dashboardUrl`."""
    monitoring = StackMonitoring(
        ctx.name,
        StackMonitoringArgs(
            environment=ctx.name, region=ctx.region, account_id=ctx.account_id, alarms=alarms, managed=settings.managed,
            emails=settings.monitoring.alarm_emails, https_endpoints=settings.monitoring.alarm_https_endpoints,
            kms_key_arn=ctx.key_arn, after=after,
        ),
        opts=ctx.on_aws,
    )
    pulumi.export("alarmTopicArn", monitoring.topic_arn)
    pulumi.export("dashboardUrl", monitoring.dashboard_url)
    return monitoring
