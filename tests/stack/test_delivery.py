"""DAG delivery: one object per DAG file, versions wired into the environment, nothing else touched."""

from __future__ import annotations

import shutil
from pathlib import Path

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
