"""Changing airflow.version on a deployed stack: the recorded version is read first, bad steps are refused before
anything is created, and a self-managed upgrade snapshots the metadata database before the migration Job."""

from __future__ import annotations

from components.naming import (
    airflow_migration_parameter,
    airflow_version_parameter,
    database_identifier,
    upgrade_snapshot_identifier,
)
from offline import run_stack

SNAPSHOT = "aws:rds/snapshot:Snapshot"
JOB = "kubernetes:batch/v1:Job"
PARAMETER = "aws:ssm/parameter:Parameter"
PROD_DB = database_identifier("airflow-prod")


def _deployed(environment: str, version: str, flavour: str = "self-managed", migrating: str | None = None) -> dict[str, str]:
    found = {airflow_version_parameter(environment, flavour): version}
    if migrating:
        found[airflow_migration_parameter(environment)] = migrating
    return found


def _snapshot_name(plan) -> str:
    return plan.one(SNAPSHOT).inputs["dbSnapshotIdentifier"]


def test_an_upgrade_snapshots_the_database_before_the_migration_job_and_records_the_version_after():
    plan = run_stack(
        "prod", config={"airflow": {"version": "2.11.2"}},
        databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.9.3"),
    )
    assert plan.error is None
    snapshot = plan.one(SNAPSHOT)
    # Named for the step, with a suffix drawn per upgrade (the same step again after a rollback gets its own).
    assert _snapshot_name(plan).startswith(upgrade_snapshot_identifier("airflow-prod", "2.9.3", "2.11.2") + "-")
    assert snapshot.inputs["dbInstanceIdentifier"] == PROD_DB and snapshot.retain_on_delete
    marker = next(p for p in plan.of_type(PARAMETER) if p.inputs["name"] == airflow_migration_parameter("airflow-prod"))
    assert marker.inputs["insecureValue"] == "2.11.2" and snapshot.urn in marker.dependencies
    job = plan.one(JOB)
    assert snapshot.urn in job.dependencies and marker.urn in job.dependencies
    # Airflow's Deployments; PgBouncer, which the migrations do not go through, comes up beside the Job.
    deployments = [d for d in plan.of_type("kubernetes:apps/v1:Deployment")
                   if d.inputs["metadata"]["name"] != "airflow-pgbouncer"]
    assert deployments and all(job.urn in d.dependencies for d in deployments)
    record = next(p for p in plan.of_type(PARAMETER) if p.inputs["name"] == airflow_version_parameter("airflow-prod", "self-managed"))
    assert record.inputs["insecureValue"] == "2.11.2"
    assert job.urn in record.dependencies and all(d.urn in record.dependencies for d in deployments)


def test_no_snapshot_without_a_change_or_before_the_database_exists():
    same = run_stack("prod", databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.9.3"))
    first = run_stack("prod", config={"airflow": {"version": "2.11.2"}})
    for plan in (same, first):
        assert plan.error is None and not plan.of_type(SNAPSHOT)
        assert [p.inputs["name"] for p in plan.of_type(PARAMETER)] == [airflow_version_parameter("airflow-prod", "self-managed")]


def test_a_stack_deployed_before_versions_were_recorded_is_snapshotted_as_unrecorded():
    plan = run_stack("prod", databases={PROD_DB: "16.4"})
    assert plan.error is None
    assert _snapshot_name(plan).startswith(upgrade_snapshot_identifier("airflow-prod", None, "2.9.3") + "-")
    assert any("no deployed Airflow version is recorded" in w for w in plan.warnings)


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
                     parameters=_deployed("airflow-dev", "2.9.2", "managed"))
    assert plan.error is not None and not plan.created[1:]
    assert "airflow.version = '3.0.6'" in str(plan.error) and "first 2.11.0" in str(plan.error)
    allowed = run_stack("dev", config={"airflow": {"version": "3.0.6", "requirementsFile": ""}},
                        parameters=_deployed("airflow-dev", "2.11.0", "managed"))
    assert allowed.error is None and allowed.one(PARAMETER).inputs["insecureValue"] == "3.0.6"
    assert allowed.one(PARAMETER).inputs["name"] == airflow_version_parameter("airflow-dev", "managed")
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
        # The settings and the pod template (the metrics agent's ConfigMap is the same for every version).
        found = [r for r in plan.of_type("kubernetes:core/v1:ConfigMap")
                 if r.inputs["metadata"]["name"].startswith(("airflow-config-", "airflow-pod-template-"))]
        assert all(r.retain_on_delete for r in found)  # kept for the old pods, not deleted under them
        return {r.urn: r.inputs["metadata"]["name"] for r in found}

    old, new = config_maps("2.9.3"), config_maps("2.11.2")
    assert old.keys() == new.keys() and len(old) == 2
    assert sorted(old.values()) == ["airflow-config-2-9-3", "airflow-pod-template-2-9-3"]
    assert sorted(new.values()) == ["airflow-config-2-11-2", "airflow-pod-template-2-11-2"]


def test_after_an_unfinished_migration_only_finishing_it_is_allowed():
    """The marker says a migration to 2.11.2 started; the deployed version is still 2.9.3: the schema may be
    part-way, so going back to 2.9.3 (or on to another version) is refused, and 2.11.2 again finishes it with the
    snapshot already taken."""
    records = _deployed("airflow-prod", "2.9.3", migrating="2.11.2")
    back = run_stack("prod", databases={PROD_DB: "16.4"}, parameters=records)
    assert back.error is not None and not back.created[1:]
    assert "airflow.version = '2.9.3'" in str(back.error) and "did not finish" in str(back.error)
    assert upgrade_snapshot_identifier("airflow-prod", "2.9.3", "2.11.2") in str(back.error)
    again = run_stack("prod", config={"airflow": {"version": "2.11.2"}}, databases={PROD_DB: "16.4"}, parameters=records)
    assert again.error is None and any("finishing the migration to 2.11.2" in w for w in again.warnings)
    first = run_stack("prod", config={"airflow": {"version": "2.11.2"}}, databases={PROD_DB: "16.4"},
                      parameters=_deployed("airflow-prod", "2.9.3"))
    assert _snapshot_name(again) == _snapshot_name(first)  # the same snapshot resource: not taken twice


def test_a_flavour_switch_is_not_held_to_the_other_flavours_record():
    managed_record = _deployed("airflow-prod", "3.0.6", "managed")
    plan = run_stack("prod", config={"airflow": {"version": "2.11.2"}}, parameters=managed_record)
    assert plan.error is None and not plan.of_type(SNAPSHOT)
    self_managed_record = _deployed("airflow-dev", "2.9.3", "self-managed")
    to_mwaa = run_stack("dev", config={"airflow": {"version": "3.0.6", "requirementsFile": ""}}, parameters=self_managed_record)
    assert to_mwaa.error is None


def test_a_recorded_value_that_is_not_a_version_is_refused_by_key():
    plan = run_stack("prod", databases={PROD_DB: "16.4"}, parameters=_deployed("airflow-prod", "2.9.3rc1"))
    assert plan.error is not None and not plan.created[1:]
    assert "airflow.version = '2.9.3rc1'" in str(plan.error) and airflow_version_parameter("airflow-prod", "self-managed") in str(plan.error)
