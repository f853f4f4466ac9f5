"""Bad stack config: every case names the key as typed in `pulumi config set` and registers nothing."""

from __future__ import annotations

import pytest

from offline import run_stack
from stackconfig import ConfigError

ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"

CASES = [
    # (stack, plain config, secret config, keys removed, the key the message must name)
    ("dev", {"flavour": "serverless"}, {}, (), "flavour"),
    ("dev", {"flavor": "managed"}, {}, (), "flavor"),
    ("dev", {"environmentName": "9lives"}, {}, (), "environmentName"),
    ("dev", {"environmentName": "Data_Platform"}, {}, (), "environmentName"),
    ("dev", {"environmentName": "a-name-far-too-long-for-a-bucket-prefix"}, {}, (), "environmentName"),
    ("dev", {"protectData": "sometimes"}, {}, (), "protectData"),
    ("dev", {}, {}, ("aws:region",), "aws:region"),
    ("dev", {"network": "10.0.0.0/16"}, {}, (), "network"),
    ("dev", {"network": {"cidr": "10.0.0.1/16"}}, {}, (), "network.cidr"),
    ("dev", {"network": {"cidr": "10.0.0.0/26"}}, {}, (), "network.cidr"),
    ("dev", {"network": {"availabilityZones": ["eu-west-1a"]}}, {}, (), "network.availabilityZones"),
    ("dev", {"network": {"availabilityZones": ["us-east-1a", "us-east-1b"]}}, {}, (), "network.availabilityZones[0]"),
    ("dev", {"network": {"natGateways": "many"}}, {}, (), "network.natGateways"),
    ("dev", {"network": {"privateSubnetCidrs": ["10.0.0.0/20", "10.0.8.0/21"]}}, {}, (), "network.privateSubnetCidrs[1]"),
    ("dev", {"network": {"privateSubnetCidrs": ["10.0.0.0/20", "192.168.0.0/20"]}}, {}, (), "network.privateSubnetCidrs[1]"),
    ("dev", {"network": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa"]}}, {}, (), "network.privateSubnetIds"),
    ("dev", {"network": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"], "natGateways": "single"}}, {}, (), "network.natGateways"),
    ("dev", {"network": {"privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]}}, {}, (), "network.privateSubnetIds"),
    ("dev", {"airflow": {"version": "2.9.3"}}, {}, (), "airflow.version"),
    ("dev", {"monitoring": {"alarmEmails": ["oncall at example.com"]}}, {}, (), "monitoring.alarmEmails[0]"),
    ("dev", {"monitoring": {"alarmHttpsEndpoints": ["http://hooks.example.com/x"]}}, {}, (), "monitoring.alarmHttpsEndpoints[0]"),
    ("dev", {"monitoring": {"alarmEmails": ["a@example.com", "a@example.com"]}}, {}, (), "monitoring.alarmEmails"),
    ("dev", {"monitoring": {"queuedMinutes": 7}}, {}, (), "monitoring.queuedMinutes"),
    ("dev", {"monitoring": {"queuedMinutes": 2880}}, {}, (), "monitoring.queuedMinutes"),
    ("dev", {"monitoring": {"alarmEmail": "a@example.com"}}, {}, (), "monitoring.alarmEmail"),
    ("prod", {"monitoring": {"databaseConnectionsPercent": 120}}, {}, (), "monitoring.databaseConnectionsPercent"),
    ("prod", {"monitoring": {"databaseFreeableMemoryPercent": 0}}, {}, (), "monitoring.databaseFreeableMemoryPercent"),
    ("prod", {"monitoring": {"unschedulableMinutes": 121}}, {}, (), "monitoring.unschedulableMinutes"),
    ("prod", {"monitoring": {"nodeNotReadyMinutes": 2}}, {}, (), "monitoring.nodeNotReadyMinutes"),
    ("prod", {"monitoring": {"airflowMetricPrefixes": ["dagrun.duration,ti."]}}, {}, (), "monitoring.airflowMetricPrefixes[0]"),
    ("prod", {"database": {"pgbouncer": {"replicas": 1}}}, {}, (), "database.pgbouncer.replicas"),
    ("prod", {"database": {"pgbouncer": {"poolSize": 300}}}, {}, (), "database.pgbouncer.poolSize"),
    ("prod", {"sso": {"issuerUrl": "http://idp.example.com", "clientId": "c", "roleMapping": {"g": ["Admin"]}}}, {}, (), "sso.issuerUrl"),
    ("prod", {"sso": {"issuerUrl": "https://idp.example.com", "clientId": "c", "roleMapping": {"g": ["Boss"]}}}, {}, (), 'sso.roleMapping."g"'),
    ("prod", {"sso": {"issuerUrl": "https://idp.example.com", "clientId": "c", "clientSecret": "s", "roleMapping": {"g": ["Admin"]}}}, {}, (), "workloads.webserverHostname"),
    ("dev", {"sso": {"issuerUrl": "https://idp.example.com", "clientId": "c", "clientSecret": "s", "roleMapping": {"g": ["Admin"]}}}, {}, (), "sso.issuerUrl"),
    ("prod", {"workloads": {"webserverHostname": "airflow.example.com", "webserverCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"},
              "sso": {"issuerUrl": "https://idp.example.com", "clientId": "c", "clientSecret": "in-plain-text", "roleMapping": {"g": ["Admin"]}}}, {}, (), "sso.clientSecret"),
    ("dev", {"airflow": {"configurationOptions": {"Core.Parallelism": "8"}}}, {}, (), 'airflow.configurationOptions."Core.Parallelism"'),
    ("dev", {"airflow": {"configurationOptions": {"secrets.backend": "x"}}}, {}, (), 'airflow.configurationOptions."secrets.backend"'),
    ("dev", {"airflow": {"configurationOptions": {"core.dag_concurrency": "x" * 300}}}, {}, (), 'airflow.configurationOptions."core.dag_concurrency"'),
    ("dev", {"airflow": {"secrets": {"variablesPrefix": "/airflow/variables/"}}}, {}, (), "airflow.secrets.variablesPrefix"),
    ("dev", {"airflow": {"secrets": {"connectionsLookupPattern": "(unclosed"}}}, {}, (), "airflow.secrets.connectionsLookupPattern"),
    ("dev", {"airflow": {"secrets": {"variablesLookupPattern": "^(" + "a|" * 130 + "b)$"}}}, {}, (), "airflow.secrets"),
    ("dev", {"airflow": {"variables": {"greeting": "plain text"}}}, {}, (), "airflow.variables.greeting"),
    ("dev", {}, {"airflow": {"connections": {"warehouse": "not a uri"}}}, (), "airflow.connections.warehouse"),
    ("dev", {}, {"airflow": {"variables": {"bad name!": "x"}}}, (), "airflow.variables.bad name!"),
    ("dev", {"airflow": {"dagsDir": "no-such-folder"}}, {}, (), "airflow.dagsDir"),
    ("dev", {"airflow": {"requirementsFile": "missing.txt"}}, {}, (), "airflow.requirementsFile"),
    ("dev", {"airflow": {"version": "2.10.3"}}, {}, (), "airflow.requirementsFile"),  # constraint line says 2.9.2
    ("dev", {"mwaa": {"environmentClass": "mw1.huge"}}, {}, (), "mwaa.environmentClass"),
    ("dev", {"mwaa": {"environmentClass": "mw1.micro", "maxWorkers": 3}}, {}, (), "mwaa.maxWorkers"),
    ("dev", {"mwaa": {"environmentClass": "mw1.small", "maxWorkers": 30}}, {}, (), "mwaa.maxWorkers"),
    ("dev", {"mwaa": {"environmentClass": "mw1.small", "minWorkers": 5, "maxWorkers": 3}}, {}, (), "mwaa.maxWorkers"),
    ("dev", {"mwaa": {"environmentClass": "mw1.small", "schedulers": 1}}, {}, (), "mwaa.schedulers"),
    ("dev", {"mwaa": {"environmentClass": "mw1.medium", "minWebservers": 3, "maxWebservers": 2}}, {}, (), "mwaa.maxWebservers"),
    ("dev", {"mwaa": {"webserverAccessMode": "PUBLIC_AND_PRIVATE"}}, {}, (), "mwaa.webserverAccessMode"),
    ("dev", {"mwaa": {"endpointManagement": "SELF"}}, {}, (), "mwaa.endpointManagement"),
    ("dev", {"mwaa": {"weeklyMaintenanceWindowStart": "SUN:03:15"}}, {}, (), "mwaa.weeklyMaintenanceWindowStart"),
    ("dev", {"mwaa": {"logRetentionDays": 10}}, {}, (), "mwaa.logRetentionDays"),
    ("dev", {"mwaa": {"logging": {"task": "VERBOSE"}}}, {}, (), "mwaa.logging.task"),
    ("dev", {"mwaa": {"kmsKey": "alias/airflow"}}, {}, (), "mwaa.kmsKey"),
    ("dev", {"mwaa": {"kmsKey": "arn:aws:kms:eu-west-1:123456789012:alias/airflow"}}, {}, (), "mwaa.kmsKey"),
    ("dev", {"mwaa": {"kmsKey": ARN.replace("eu-west-1", "us-east-1")}}, {}, (), "mwaa.kmsKey"),
    ("dev", {"mwaa": {"kmsKey": "arn:aws:kms:eu-west-1:123456789012:key/mrk-" + "a" * 32}}, {}, (), "mwaa.kmsKey"),
    ("dev", {"mwaa": {"startupScript": "startup.sh"}}, {}, (), "mwaa.startupScript"),
    ("dev", {"mwaa": {"workers": 3}}, {}, (), "mwaa.workers"),
    ("dev", {"tags": {"aws:owner": "me"}}, {}, (), "tags.aws:owner"),
    ("dev", {"tags": {"stack": "mine"}}, {}, (), "tags.stack"),
    ("dev", {"tags": {"note": "x" * 300}}, {}, (), "tags.note"),
    # S3 objects take 10 tags; the project adds 3 to every DAG object.
    ("dev", {"tags": {f"team{i}": "x" for i in range(8)}}, {}, (), "tags"),
    ("prod", {"network": {"cidr": "10.30.0.0/16", "availabilityZones": ["eu-west-1a", "eu-west-1a"]}}, {}, (), "network.availabilityZones"),
    # The self-managed flavour (Pulumi.prod.yaml runs it).
    ("prod", {"environmentName": "Airflow_Prod"}, {}, (), "environmentName"),
    ("prod", {"airflow": {"version": "2.10.3"}}, {}, (), "airflow.version"),
    ("prod", {"cluster": {"kubernetesVersion": "1.29"}}, {}, (), "cluster.kubernetesVersion"),
    ("prod", {"cluster": {"minNodes": 3, "desiredNodes": 2, "maxNodes": 5}}, {}, (), "cluster.desiredNodes"),
    ("prod", {"cluster": {"maxNodes": 0}}, {}, (), "cluster.maxNodes"),
    ("prod", {"cluster": {"nodeInstanceTypes": ["m7g.large"]}}, {}, (), "cluster.nodeInstanceTypes[0]"),
    ("prod", {"cluster": {"nodeInstanceTypes": ["m6i.large", "large"]}}, {}, (), "cluster.nodeInstanceTypes[1]"),
    ("prod", {"cluster": {"capacityType": "RESERVED"}}, {}, (), "cluster.capacityType"),
    ("prod", {"cluster": {"publicAccessCidrs": ["10.0.0.1/8"]}}, {}, (), "cluster.publicAccessCidrs[0]"),
    ("prod", {"cluster": {"endpointPublicAccess": False, "publicAccessCidrs": ["10.0.0.0/8"]}}, {}, (), "cluster.publicAccessCidrs"),
    ("prod", {"cluster": {"namespace": "Airflow"}}, {}, (), "cluster.namespace"),
    ("prod", {"cluster": {"logTypes": ["api", "everything"]}}, {}, (), "cluster.logTypes[1]"),
    ("prod", {"cluster": {"nodeDiskSizeGb": 5}}, {}, (), "cluster.nodeDiskSizeGb"),
    ("prod", {"cluster": {"logRetentionDays": 11}}, {}, (), "cluster.logRetentionDays"),
    ("prod", {"cluster": {"adminPrincipalArns": ["platform-admins"]}}, {}, (), "cluster.adminPrincipalArns[0]"),
    ("prod", {"cluster": {"capacityType": "SPOT", "nodeInstanceTypes": ["m6i.large"]}}, {}, (), "cluster.nodeInstanceTypes"),
    ("prod", {"cluster": {"nodeInstanceTypes": ["m6i.large", "m6i.xlarge"]}}, {}, (), "cluster.nodeInstanceTypes"),
    ("prod", {"database": {"postgresVersion": "12"}}, {}, (), "database.postgresVersion"),
    ("prod", {"database": {"instanceClass": "db.m7g.small"}}, {}, (), "database.instanceClass"),
    ("prod", {"database": {"instanceClass": "db.t4g.4xlarge"}}, {}, (), "database.instanceClass"),
    ("prod", {"database": {"allocatedStorageGb": 50, "maxAllocatedStorageGb": 52}}, {}, (), "database.maxAllocatedStorageGb"),
    ("prod", {"database": {"logRetentionDays": 0}}, {}, (), "database.logRetentionDays"),
    ("prod", {"database": {"instanceClass": "db.x1.huge"}}, {}, (), "database.instanceClass"),
    ("prod", {"database": {"allocatedStorageGb": 10}}, {}, (), "database.allocatedStorageGb"),
    ("prod", {"database": {"allocatedStorageGb": 50, "maxAllocatedStorageGb": 30}}, {}, (), "database.maxAllocatedStorageGb"),
    ("prod", {"database": {"backupRetentionDays": 3}}, {}, (), "database.backupRetentionDays"),
    ("prod", {"database": {"backupRetentionDays": 40}}, {}, (), "database.backupRetentionDays"),
    ("prod", {"database": {"multiAz": "yes please"}}, {}, (), "database.multiAz"),
    ("prod", {"registry": {"keepImages": 0}}, {}, (), "registry.keepImages"),
    ("prod", {"taskLogs": {"retentionDays": 0}}, {}, (), "taskLogs.retentionDays"),
    ("prod", {"taskLogs": {"days": 30}}, {}, (), "taskLogs.days"),
    ("dev", {"flavour": "self-managed", "cluster": {"minNodes": 0}}, {}, (), "cluster.minNodes"),
    ("prod", {"workloads": {"schedulerReplicas": 1}}, {}, (), "workloads.schedulerReplicas"),
    ("prod", {"workloads": {"webserverReplicas": 1}}, {}, (), "workloads.webserverReplicas"),
    ("prod", {"workloads": {"triggererReplicas": 0}}, {}, (), "workloads.triggererReplicas"),
    ("prod", {"workloads": {"webserverExposure": "public"}}, {}, (), "workloads.webserverExposure"),
    ("prod", {"workloads": {"webserverExposure": "internet-facing"}}, {}, (), "workloads.webserverAllowedCidrs"),
    ("prod", {"workloads": {"webserverCertificateArn": "my-cert"}}, {}, (), "workloads.webserverCertificateArn"),
    ("prod", {"workloads": {"webserverHostname": "https://airflow.example.com"}}, {}, (), "workloads.webserverHostname"),
    ("prod", {"workloads": {"webserverHostname": "airflow"}}, {}, (), "workloads.webserverHostname"),
    ("prod", {"workloads": {"worker": {"cpu": "lots", "memory": "1Gi"}}}, {}, (), "workloads.worker.cpu"),
    ("prod", {"workloads": {"scheduler": {"cpu": "1", "memory": "2GB"}}}, {}, (), "workloads.scheduler.memory"),
    ("prod", {"workloads": {"workerPodsCreationBatchSize": 0}}, {}, (), "workloads.workerPodsCreationBatchSize"),
    ("prod", {"workloads": {"adminUsername": "9 lives"}}, {}, (), "workloads.adminUsername"),
    ("prod", {"workloads": {"metadataRetentionDays": -1}}, {}, (), "workloads.metadataRetentionDays"),
    ("prod", {"workloads": {"metadataCleanSchedule": "daily at 3"}}, {}, (), "workloads.metadataCleanSchedule"),
    ("prod", {"workloads": {"metadataCleanSchedule": "0 25 * * *"}}, {}, (), "workloads.metadataCleanSchedule"),
    ("prod", {"workloads": {"componentLogRetentionDays": 0}}, {}, (), "workloads.componentLogRetentionDays"),
    ("dev", {"flavour": "self-managed", "network": {"natGateways": "none"}}, {}, (), "network.natGateways"),
]


@pytest.mark.parametrize("stack,config,secret,removed,key", CASES, ids=[f"{i:02d}-{c[-1]}" for i, c in enumerate(CASES)])
def test_bad_config_names_the_key_and_creates_nothing(stack, config, secret, removed, key):
    plan = run_stack(stack, config=config, secret_config=secret, remove=removed)
    assert isinstance(plan.error, ConfigError), plan.error
    assert plan.created == []
    named = [issue for issue in plan.error.issues if issue.key == key]
    assert named, f"no issue names {key}: {plan.error}"
    assert f"  - {key} = " in str(plan.error)


def test_all_problems_are_reported_together():
    plan = run_stack(
        "dev",
        config={
            "flavour": "self-managed",
            "network": {"natGateways": "many"},
            "mwaa": {"logRetentionDays": 10, "weeklyMaintenanceWindowStart": "someday"},
            "airflow": {"configurationOptions": {"BAD": "1"}},
        },
    )
    assert isinstance(plan.error, ConfigError)
    keys = {issue.key for issue in plan.error.issues}
    assert {"network.natGateways", "mwaa.logRetentionDays", "mwaa.weeklyMaintenanceWindowStart", 'airflow.configurationOptions."BAD"'} <= keys
    assert plan.created == []


def test_a_bad_value_is_shown_but_a_secret_never_is():
    plan = run_stack("dev", secret_config={"airflow": {"connections": {"warehouse": "hunter2-not-a-uri"}}})
    assert "hunter2" not in str(plan.error)


EXISTING_VPC = "vpc-0123456789abcdef0"


@pytest.mark.parametrize(
    "subnets,key,allowed",
    [
        (  # both subnets in one zone
            {"subnet-0aaaaaaaaaaaaaaaa": {"vpcId": EXISTING_VPC, "availabilityZone": "eu-west-1a"},
             "subnet-0bbbbbbbbbbbbbbbb": {"vpcId": EXISTING_VPC, "availabilityZone": "eu-west-1a"}},
            "network.privateSubnetIds",
            "two different availability zones",
        ),
        (  # one subnet belongs to another VPC
            {"subnet-0aaaaaaaaaaaaaaaa": {"vpcId": EXISTING_VPC, "availabilityZone": "eu-west-1a"},
             "subnet-0bbbbbbbbbbbbbbbb": {"vpcId": "vpc-0fffffffffffffff0", "availabilityZone": "eu-west-1b"}},
            "network.privateSubnetIds[1]",
            f"a subnet of network.vpcId {EXISTING_VPC}",
        ),
        (  # one subnet does not exist
            {"subnet-0aaaaaaaaaaaaaaaa": {"vpcId": EXISTING_VPC, "availabilityZone": "eu-west-1a"}},
            "network.privateSubnetIds[1]",
            "a subnet that exists in aws:region",
        ),
    ],
    ids=["same-zone", "other-vpc", "missing"],
)
def test_existing_subnets_are_looked_up_before_anything_is_created(subnets, key, allowed):
    network = {"vpcId": EXISTING_VPC, "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]}
    plan = run_stack("prod", config={"network": network}, subnets=subnets)
    assert isinstance(plan.error, ConfigError), plan.error
    assert plan.created == []
    assert any(issue.key == key and allowed in issue.allowed for issue in plan.error.issues), str(plan.error)
