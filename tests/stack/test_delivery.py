"""DAG delivery: one object per DAG file, versions wired into the environment, nothing else touched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pulumi
import pytest

from offline import run_stack

PROJECT = Path(__file__).resolve().parents[2]
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
ENV = "aws:mwaa/environment:Environment"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's stack, program inputs and sources, to edit freely."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py", "airflow-requirements.txt"):
        shutil.copy(PROJECT / name, tmp_path / name)
    for folder in ("dags", "plugins"):
        shutil.copytree(PROJECT / folder, tmp_path / folder)
    (tmp_path / "dags" / "second.py").write_text("# a second DAG file\n")
    return tmp_path


def _objects(plan) -> dict[str, str]:
    """key -> urn"""
    return {o.inputs["key"]: o.urn for o in plan.of_type(OBJECT)}


def _state(project: Path):
    plan = run_stack("dev", project_dir=project)
    assert plan.error is None, plan.error
    return plan


def test_every_dag_file_is_its_own_object_under_the_dag_path(project):
    plan = _state(project)
    dag_keys = sorted(k for k in _objects(plan) if k.startswith("dags/"))
    assert dag_keys == ["dags/hello_secrets.py", "dags/second.py"]


def test_editing_one_dag_changes_one_object_and_not_the_environment(project):
    before = _state(project)
    (project / "dags" / "second.py").write_text("# edited\n")
    after = _state(project)
    env_before, env_after = before.one(ENV).raw_inputs, after.one(ENV).raw_inputs
    assert env_before == env_after
    # The mock derives an object's version id from its bytes, as S3 makes a new version on a new upload.
    changed = [
        key
        for key in _objects(after)
        if _version(before, key) != _version(after, key)
    ]
    assert changed == ["dags/second.py"]


def test_a_deleted_dag_file_leaves_the_bucket(project):
    (project / "dags" / "second.py").unlink()
    assert "dags/second.py" not in _objects(_state(project))


def test_changed_requirements_reach_the_environment_by_version(project):
    before = _state(project)
    with open(project / "airflow-requirements.txt", "a") as handle:
        handle.write("apache-airflow-providers-slack\n")
    after = _state(project)
    assert before.one(ENV).inputs["requirementsS3ObjectVersion"] != after.one(ENV).inputs["requirementsS3ObjectVersion"]
    assert after.one(ENV).inputs["requirementsS3ObjectVersion"] == _version(after, "requirements.txt")
    # and an unchanged run changes nothing
    again = _state(project)
    assert again.one(ENV).raw_inputs == after.one(ENV).raw_inputs


def test_unchanged_plugins_keep_their_version_and_changed_ones_do_not(project):
    first, second = _state(project), _state(project)
    assert _version(first, "plugins.zip") == _version(second, "plugins.zip")
    (project / "plugins" / "platform_macros.py").write_text((project / "plugins" / "platform_macros.py").read_text() + "\n# edited\n")
    third = _state(project)
    assert _version(third, "plugins.zip") != _version(first, "plugins.zip")
    assert third.one(ENV).inputs["pluginsS3ObjectVersion"] == _version(third, "plugins.zip")


def test_startup_script_is_delivered_when_configured(project):
    (project / "startup.sh").write_text("#!/bin/sh\nexport EXTRA=1\n")
    plan = run_stack("dev", project_dir=project, config={"mwaa": {"environmentClass": "mw1.micro", "startupScript": "startup.sh"}})
    assert plan.error is None
    assert plan.one(ENV).inputs["startupScriptS3Path"] == "startup.sh"
    assert plan.one(ENV).inputs["startupScriptS3ObjectVersion"] == _version(plan, "startup.sh")


def _version(plan, key: str) -> str:
    """The version id S3 gave the object (the mock derives it from the uploaded bytes, as S3 makes a version
    exactly when an upload's content is new)."""
    objects = [o for o in plan.of_type(OBJECT) if o.inputs["key"] == key]
    assert len(objects) == 1
    return objects[0].state["versionId"]


def test_mwaas_versioned_objects_wait_for_versioning_to_settle(managed_plan):
    """S3 asks for 15 minutes after versioning is first enabled before writes; earlier writes may get no version."""
    wait = managed_plan.one("time:index/sleep:Sleep")
    assert wait.inputs["createDuration"] == "15m"
    versioning = managed_plan.named(f"airflow-{managed_plan.stack}-versioning")
    assert versioning.urn in wait.dependencies
    for obj in managed_plan.of_type("aws:s3/bucketObjectv2:BucketObjectv2"):
        waits = wait.urn in obj.dependencies
        assert waits == (not obj.inputs["key"].startswith("dags/")), obj.inputs["key"]


def test_self_managed_stacks_have_nothing_to_wait_for(self_managed_plan):
    assert not self_managed_plan.of_type("time:index/sleep:Sleep")


@pytest.mark.parametrize("version", ["", "null", None])
def test_mwaa_is_never_handed_an_empty_or_null_version(version):
    from components.shared.dag_delivery import require_version

    with pytest.raises(pulumi.RunError, match="requirements.txt without a version id.*Change the file"):
        require_version("requirements.txt", version)
    assert require_version("requirements.txt", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY") == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


def test_a_stack_whose_objects_got_no_version_fails_before_mwaa_is_touched(monkeypatch):
    from offline.mocks import AwsMocks

    real = AwsMocks.new_resource

    def unversioned(self, args):
        resource_id, state = real(self, args)
        if args.typ == "aws:s3/bucketObjectv2:BucketObjectv2":
            state = {**state, "versionId": "null"}
        return resource_id, state

    monkeypatch.setattr(AwsMocks, "new_resource", unversioned)
    plan = run_stack("dev")
    assert "without a version id ('null')" in str(plan.error)
    assert not plan.of_type("aws:mwaa/environment:Environment")
