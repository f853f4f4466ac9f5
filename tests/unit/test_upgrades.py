"""The rules for changing a deployed stack's airflow.version (stackconfig/upgrades.py), per flavour."""

from __future__ import annotations

import pytest

from components.naming import upgrade_snapshot_identifier
from stackconfig import limits
from stackconfig.project_files import offered_image_versions
from stackconfig.upgrades import VersionChange, bridge_version, managed_issues, self_managed_issues

SNAPSHOT = "airflow-prod-metadata-airflow-2-11-2-to-3-3-2"


@pytest.mark.parametrize(
    "running,target",
    [(None, "2.9.3"), ("2.9.3", "2.9.3"), ("2.9.3", "2.11.2"), ("2.11.2", "3.3.2"), ("3.3.2", "3.3.2")],
)
def test_self_managed_forward_steps_and_first_deployments_pass(running, target):
    assert self_managed_issues(VersionChange(running, target), SNAPSHOT) == ([], [])


@pytest.mark.parametrize("running,target", [("2.11.2", "2.9.3"), ("3.3.2", "2.11.2"), ("2.9.3", "2.9.2")])
def test_a_self_managed_downgrade_is_refused_by_key_naming_the_snapshot_to_restore(running, target):
    issues, _ = self_managed_issues(VersionChange(running, target), SNAPSHOT)
    assert [i.key for i in issues] == ["airflow.version"] and issues[0].value == target
    assert f"{running} or later" in issues[0].allowed and SNAPSHOT in issues[0].allowed
    assert "airflow db downgrade" in issues[0].allowed


def test_self_managed_3x_needs_2_7_and_warns_when_the_bridge_is_skipped():
    issues, warnings = self_managed_issues(VersionChange("2.6.3", "3.3.2"), SNAPSHOT)
    assert [i.key for i in issues] == ["airflow.version"] and "first 2.11.2" in issues[0].allowed
    issues, warnings = self_managed_issues(VersionChange("2.9.3", "3.3.2"), SNAPSHOT)
    assert issues == [] and len(warnings) == 1 and "2.11.2" in warnings[0] and "2.9.3 -> 3.3.2" in warnings[0]


@pytest.mark.parametrize(
    "running,target",
    [(None, "3.0.6"), ("2.9.2", "2.11.0"), ("2.11.0", "2.9.2"), ("2.11.0", "3.0.6"), ("3.0.6", "3.2.1"), ("3.2.1", "3.0.6")],
)
def test_mwaa_in_place_minor_changes_and_the_step_from_the_latest_2_11_pass(running, target):
    assert managed_issues(VersionChange(running, target)) == []


def test_mwaa_refuses_3x_from_an_older_2x_and_any_move_back_to_2x():
    jump = managed_issues(VersionChange("2.10.3", "3.0.6"))
    assert [i.key for i in jump] == ["airflow.version"] and "first 2.11.0" in jump[0].allowed
    back = managed_issues(VersionChange("3.0.6", "2.11.0"))
    assert [i.key for i in back] == ["airflow.version"] and "cannot move" in back[0].allowed


def test_the_bridge_is_each_flavours_newest_2_11():
    assert bridge_version("managed") == max((v for v in limits.MWAA_AIRFLOW_VERSIONS if v.startswith("2.11.")))
    assert bridge_version("self-managed") in offered_image_versions() and bridge_version("self-managed").startswith("2.11.")


@pytest.mark.parametrize("running", ["2.9.3", "2.11.2", None])
def test_the_snapshot_identifier_follows_rds_rules(running):
    # CreateDBSnapshot: 1-255 letters, digits and hyphens; a letter first; no '--'; no hyphen last.
    for environment in ("airflow-prod", "a" * 32):
        identifier = upgrade_snapshot_identifier(environment, running, "3.3.2")
        assert len(identifier) <= 255 and identifier[0].isalpha() and "--" not in identifier
        assert identifier.replace("-", "").isalnum() and not identifier.endswith("-")
        assert identifier.startswith(f"{environment}-")  # where the deploy policy lets the stack snapshot
