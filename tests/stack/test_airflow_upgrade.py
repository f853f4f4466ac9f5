"""Changing airflow.version on a deployed stack: the recorded version is read first, bad steps are refused before
anything is created, and a self-managed upgrade snapshots the metadata database before the migration Job."""

from __future__ import annotations

from components.naming import airflow_version_parameter, database_identifier, upgrade_snapshot_identifier
from offline import run_stack

SNAPSHOT = "aws:rds/snapshot:Snapshot"
JOB = "kubernetes:batch/v1:Job"
PARAMETER = "aws:ssm/parameter:Parameter"
PROD_DB = database_identifier("airflow-prod")


def _deployed(environment: str, version: str) -> dict[str, str]:
    return {airflow_version_parameter(environment): version}


def test_an_upgrade_snapshots_the_database_before_the_migration_job_and_records_the_version_after():
    plan = run_stack(
        "prod", config={"airflow": {"version": "2.11.2"}},
        databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.9.3"),
    )
    assert plan.error is None
    snapshot = plan.one(SNAPSHOT)
    assert snapshot.inputs["dbSnapshotIdentifier"] == upgrade_snapshot_identifier("airflow-prod", "2.9.3", "2.11.2")
    assert snapshot.inputs["dbInstanceIdentifier"] == PROD_DB and snapshot.retain_on_delete
    job = plan.one(JOB)
    assert snapshot.urn in job.dependencies
    deployments = plan.of_type("kubernetes:apps/v1:Deployment")
    assert deployments and all(job.urn in d.dependencies for d in deployments)
    record = plan.one(PARAMETER)
    assert record.inputs["insecureValue"] == "2.11.2" and record.inputs["name"] == airflow_version_parameter("airflow-prod")
    assert job.urn in record.dependencies and all(d.urn in record.dependencies for d in deployments)


def test_no_snapshot_without_a_change_or_before_the_database_exists():
    same = run_stack("prod", databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.9.3"))
    first = run_stack("prod", config={"airflow": {"version": "2.11.2"}})
    for plan in (same, first):
        assert plan.error is None and not plan.of_type(SNAPSHOT)


def test_a_stack_deployed_before_versions_were_recorded_is_snapshotted_as_unrecorded():
    plan = run_stack("prod", databases={PROD_DB: "16.4"})
    assert plan.error is None
    assert plan.one(SNAPSHOT).inputs["dbSnapshotIdentifier"] == upgrade_snapshot_identifier("airflow-prod", None, "2.9.3")


def test_a_self_managed_downgrade_is_refused_before_anything_is_created():
    plan = run_stack("prod", databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.11.2"))
    assert plan.error is not None and not plan.created[1:]
    message = str(plan.error)
    assert "airflow.version = '2.9.3'" in message and "2.11.2 or later" in message
    assert upgrade_snapshot_identifier("airflow-prod", "2.9.3", "2.11.2") in message


def test_skipping_the_bridge_on_a_self_managed_stack_warns_in_the_plan():
    plan = run_stack(
        "prod", config={"airflow": {"version": "3.3.2"}},
        databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.9.3"),
    )
    assert plan.error is None
    assert any("skips Airflow's bridge release" in w for w in plan.warnings)


def test_mwaa_refuses_a_jump_to_3x_from_before_the_latest_2_11_by_key():
    plan = run_stack("dev", config={"airflow": {"version": "3.0.6", "requirementsFile": ""}},
                     parameters=_deployed("airflow-dev", "2.9.2"))
    assert plan.error is not None and not plan.created[1:]
    assert "airflow.version = '3.0.6'" in str(plan.error) and "first 2.11.0" in str(plan.error)
    allowed = run_stack("dev", config={"airflow": {"version": "3.0.6", "requirementsFile": ""}},
                        parameters=_deployed("airflow-dev", "2.11.0"))
    assert allowed.error is None and allowed.one(PARAMETER).inputs["insecureValue"] == "3.0.6"
    assert not allowed.of_type(SNAPSHOT)  # MWAA snapshots its own database and rolls back a failed upgrade


def test_public_and_private_access_needs_airflow_3_2_on_mwaa():
    refused = run_stack("dev", config={"mwaa": {"webserverAccessMode": "PUBLIC_AND_PRIVATE"}})
    assert refused.error is not None and "mwaa.webserverAccessMode = 'PUBLIC_AND_PRIVATE'" in str(refused.error)
    assert "from Airflow 3.2" in str(refused.error)
    allowed = run_stack(
        "dev", config={"mwaa": {"webserverAccessMode": "PUBLIC_AND_PRIVATE"}, "airflow": {"version": "3.2.1", "requirementsFile": ""}},
    )
    assert allowed.error is None
    assert allowed.one("aws:mwaa/environment:Environment").inputs["webserverAccessMode"] == "PUBLIC_AND_PRIVATE"


def test_mwaa_requirements_must_be_constrained_for_the_python_mwaa_runs_the_version_on():
    plan = run_stack("dev", config={"airflow": {"version": "2.11.0"}})
    assert plan.error is not None
    message = str(plan.error)
    # dev's requirements file names constraints-2.9.2/constraints-3.11.txt: both the version and the Python differ.
    assert "airflow.requirementsFile" in message and "Python 3.12" in message and "for Airflow 2.9.2" in message


def test_an_upgrade_gives_the_new_version_its_own_settings_beside_the_old():
    """The old pods keep reading their version's settings and pod template while the migration runs (or after it
    failed): the ConfigMaps are named for the version, under the same Pulumi names (a replacement, created first)."""
    def config_maps(version):
        plan = run_stack("prod", config={"airflow": {"version": version}})
        return {r.urn: r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:core/v1:ConfigMap")}

    old, new = config_maps("2.9.3"), config_maps("2.11.2")
    assert old.keys() == new.keys() and len(old) == 2
    assert sorted(old.values()) == ["airflow-config-2-9-3", "airflow-pod-template-2-9-3"]
    assert sorted(new.values()) == ["airflow-config-2-11-2", "airflow-pod-template-2-11-2"]
