"""Which changes of `airflow.version` a deployed stack may make, per flavour, and what each needs first.

The running version is what the stack recorded after its last successful deployment (components/preflight.py reads
it); None means nothing is recorded yet: a first deployment, or a stack deployed before versions were recorded.
Pure rules: no AWS, no Pulumi."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from stackconfig import limits
from stackconfig.errors import ConfigIssue

KEY = "airflow.version"
# Airflow's upgrade guide: "Make sure that you are on Airflow 2.7 or later" before 3.x, "recommended to upgrade to
# latest 2.x and then to Airflow 3" (airflow-core/docs/installation/upgrading_to_airflow3.rst, Step 1). Airflow 3's
# `db migrate` carries no migrations from before 2.7.
AIRFLOW3_FROM = (2, 7)
# Airflow's bridge release to 3.x: the newest 2.x line, whose deprecation warnings name what 3.x removes.
BRIDGE_LINE = (2, 11)


_RELEASE = re.compile(r"^\d+\.\d+\.\d+$")


def parse(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def readable_version(recorded: Optional[str], parameter: str) -> Optional[ConfigIssue]:
    """A recorded version this module can compare (x.y.z), or the issue that says where to fix it."""
    if recorded is None or _RELEASE.match(recorded):
        return None
    return ConfigIssue(
        KEY,
        recorded,
        f"a recorded version of the form x.y.z: the SSM parameter {parameter} holds {recorded!r}; put the version "
        f"the stack runs there (aws ssm put-parameter --overwrite --name {parameter} --value <version>)",
    )


@dataclass(frozen=True)
class VersionChange:
    """What a deployment does to the running Airflow: `running` None is unknown (nothing recorded)."""

    running: Optional[str]
    target: str

    @property
    def changes(self) -> bool:
        return self.running != self.target


def restore_hint(snapshot: str, running: str) -> str:
    return (
        f"to go back, restore the snapshot taken before the upgrade to {running} ({snapshot}-<suffix> when it came "
        "from this version) as docs/operations.md 'Rolling back an Airflow upgrade' shows"
    )


def unfinished_migration_issues(change: VersionChange, migrating: str, snapshot: str) -> tuple[list[ConfigIssue], list[str]]:
    """A migration to `migrating` started (its marker was written before the migration Job) and did not finish.
    Airflow commits each migration step on its own, so the schema may be part-way: only finishing that migration, or
    restoring the snapshot taken before it, is safe; another version (the old one included) is refused."""
    if change.target == migrating:
        return [], [
            f"{KEY}: finishing the migration to {migrating} that an earlier deployment started (the snapshot taken "
            "before it is kept)"
        ]
    return [
        ConfigIssue(
            KEY,
            change.target,
            f"{migrating}: a migration from {change.running} to Airflow {migrating} started and did not finish, so the "
            f"database may be part-migrated; deploy {migrating} again to finish it, or restore {snapshot}-<suffix> "
            "as docs/operations.md 'Rolling back an Airflow upgrade' shows",
        )
    ], []


def self_managed_issues(change: VersionChange, snapshot_of_upgrade: str) -> tuple[list[ConfigIssue], list[str]]:
    """(refusals, warnings) for a self-managed stack, whose migration Job runs `airflow db migrate` (forward only).

    - A downgrade is refused: this project runs no `airflow db downgrade` step, and an older Airflow does not start
      on a newer schema. The way back is the snapshot taken before the upgrade from the target to the running
      version (`snapshot_of_upgrade` names it).
    - 3.x needs a running 2.7 or later (Airflow's rule); from before 2.11 it warns that 2.11 is the recommended bridge.
    """
    running, target = change.running, change.target
    if running is None or not change.changes:
        return [], []
    old, new = parse(running), parse(target)
    if new < old:
        return [
            ConfigIssue(
                KEY,
                target,
                f"{running} or later: the metadata database is migrated to Airflow {running} and this project runs "
                f"no `airflow db downgrade`; {restore_hint(snapshot_of_upgrade, running)}",
            )
        ], []
    if new[0] >= 3 > old[0]:
        if old[:2] < AIRFLOW3_FROM:
            return [
                ConfigIssue(
                    KEY,
                    target,
                    f"first {bridge_version('self-managed')} (Airflow 3 migrates from 2.7 or later; this stack runs "
                    f"{running}): deploy that, then {target}",
                )
            ], []
        if old[:2] < BRIDGE_LINE:
            return [], [
                f"{KEY}: {running} -> {target} skips Airflow's bridge release; Airflow allows it from 2.7, and "
                f"recommends {bridge_version('self-managed')} first (its deprecation warnings name what 3.x removes)"
            ]
    return [], []


def managed_issues(change: VersionChange) -> list[ConfigIssue]:
    """MWAA upgrades in place (UpdateEnvironment AirflowVersion): minor upgrades and downgrades within a major line;
    2.x -> 3.x only from the latest 2.11 MWAA runs; never 3.x -> 2.x (MWAA user guide, "Upgrading the Apache Airflow
    version"; ../shared/reference/mwaa.md)."""
    running, target = change.running, change.target
    if running is None or not change.changes:
        return []
    old, new = parse(running), parse(target)
    if new[0] < old[0]:
        return [
            ConfigIssue(
                KEY,
                target,
                f"a {old[0]}.x version: MWAA cannot move an environment from Airflow {running} back to {new[0]}.x in "
                "place; a new stack gets a new environment",
            )
        ]
    bridge = bridge_version("managed")
    if new[0] > old[0] and running != bridge:
        return [
            ConfigIssue(
                KEY,
                target,
                f"first {bridge}: MWAA upgrades an environment to {new[0]}.x in place only from the latest 2.11 "
                f"(this one runs {running}); deploy {bridge}, then {target}",
            )
        ]
    return []


def bridge_version(flavour: str) -> str:
    """The newest 2.11 a flavour offers: the step before 3.x ("2.11" when it offers none)."""
    offered = limits.MWAA_AIRFLOW_VERSIONS if flavour == "managed" else _image_versions()
    bridges = [v for v in offered if parse(v)[:2] == BRIDGE_LINE]
    return max(bridges, key=parse) if bridges else ".".join(map(str, BRIDGE_LINE))


def _image_versions() -> tuple[str, ...]:
    from stackconfig.project_files import offered_image_versions

    return tuple(offered_image_versions())
