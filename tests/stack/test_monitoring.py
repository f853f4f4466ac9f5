"""Alarms, their topic and the dashboard in the four stack/flavour plans: every alarm notifies the stack's topic when
it fires and when it clears and is created after what it watches, the topic is encrypted with the stack's key
where it has one, the config's subscribers are subscribed, and the outputs name the topic and the dashboard."""

from __future__ import annotations

import json

from components.naming import dashboard_name
from offline import run_stack

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"


def test_every_alarm_notifies_the_stacks_topic_when_it_fires_and_clears(plan):
    topic = plan.one(TOPIC)
    assert topic.inputs["name"].endswith("-alarms") and plan.raw_outputs["alarmTopicArn"] == topic.state["arn"]
    alarms = plan.of_type(ALARM)
    assert len(alarms) >= 2
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic.state["arn"]] == alarm.inputs["okActions"], alarm.name
        assert alarm.inputs["actionsEnabled"] is True


def test_alarms_wait_for_what_they_watch(plan):
    # The MWAA environment, or the metadata database (a dependency on their component is one on its children).
    watched = plan.of_type("aws:mwaa/environment:Environment") or plan.of_type("aws:rds/instance:Instance")
    assert len(watched) == 1
    for alarm in plan.of_type(ALARM):
        assert watched[0].urn in alarm.dependencies, (alarm.name, alarm.dependencies)


def test_the_topic_is_encrypted_with_the_stacks_key_where_it_has_one(plan):
    keys = plan.of_type("aws:kms/key:Key")
    topic = plan.one(TOPIC)
    if keys:
        assert topic.inputs["kmsMasterKeyId"] == keys[0].state["arn"]
    else:  # the AWS managed key could not admit CloudWatch: no encryption rather than dropped alarms
        assert "kmsMasterKeyId" not in topic.inputs


def test_the_dashboard_is_named_for_the_environment_and_region_and_lists_the_alarms(plan):
    dashboard = plan.one("aws:cloudwatch/dashboard:Dashboard")
    name = dashboard.inputs["dashboardName"]
    assert plan.raw_outputs["dashboardUrl"].endswith(f"#dashboards/dashboard/{name}")
    body = json.loads(dashboard.raw_inputs["dashboardBody"])
    listed = {arn.rsplit(":", 1)[1] for arn in body["widgets"][0]["properties"]["alarms"]}
    assert listed == {a.inputs["name"] for a in plan.of_type(ALARM)}
    region = plan.raw_outputs["dashboardUrl"].split("region=")[1].split("#")[0]
    assert name == dashboard_name(name.removesuffix(f"-{region}"), region)


def test_the_configs_subscribers_are_subscribed():
    plan = run_stack("dev", config={"monitoring": {"alarmEmails": ["oncall@example.com"],
                                                   "alarmHttpsEndpoints": ["https://events.example.com/sns"]}})
    assert plan.error is None, plan.error
    subscriptions = {(s.inputs["protocol"], s.inputs["endpoint"]) for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")}
    assert subscriptions == {("email", "oncall@example.com"), ("https", "https://events.example.com/sns")}
    topic = plan.one(TOPIC)
    assert all(s.inputs["topic"] == topic.state["arn"] for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription"))


def test_removing_a_subscriber_leaves_the_others_as_they_are():
    # SNS answers a second subscribe of one endpoint with the first's ARN: a subscription named by its place in the
    # list would be replaced by the next address when one is removed, and that address then unsubscribed.
    both = run_stack("dev", config={"monitoring": {"alarmEmails": ["a@example.com", "b@example.com"]}})
    one = run_stack("dev", config={"monitoring": {"alarmEmails": ["b@example.com"]}})
    assert both.error is None and one.error is None

    def urns(plan):
        return {s.inputs["endpoint"]: s.urn for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription")}

    assert urns(one) == {"b@example.com": urns(both)["b@example.com"]}
