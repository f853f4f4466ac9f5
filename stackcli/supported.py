"""The Airflow CLI commands MWAA runs through its CLI endpoint (MWAA user guide, "Supported commands", Airflow 2.x).
Anything else is refused before a token is made, with the list of what is supported."""

from __future__ import annotations

from typing import Sequence

from stackcli.errors import StackCliError

# group -> subcommands (None: the group is a command of its own)
AIRFLOW_2: dict[str, tuple[str, ...] | None] = {
    "version": None,
    "cheat-sheet": None,
    "connections": ("add", "delete"),
    "dags": (
        "backfill", "delete", "list", "list-jobs", "list-import-errors", "list-runs", "next-execution", "pause",
        "report", "reserialize", "show", "state", "test", "trigger", "unpause",
    ),
    "db": ("clean",),
    "providers": ("behaviours", "get", "hooks", "links", "list", "widgets"),
    "roles": ("create", "list"),
    "tasks": ("clear", "failed-deps", "list", "render", "run", "state", "states-for-dag-run", "test"),
    "variables": ("delete", "get", "list", "set"),
}


def supported_commands() -> list[str]:
    return sorted(
        group if subs is None else f"{group} {sub}" for group, subs in AIRFLOW_2.items() for sub in (subs or (None,))
    )


def check_supported(command: Sequence[str], airflow_version: str) -> None:
    if airflow_version and not airflow_version.startswith("2."):
        raise StackCliError(f"this command knows MWAA's CLI for Airflow 2.x; the environment runs {airflow_version}")
    if not command:
        raise StackCliError("no command given; supported: " + ", ".join(supported_commands()))
    group = command[0]
    subs = AIRFLOW_2.get(group, ())
    sub = command[1] if len(command) > 1 else ""
    if group in AIRFLOW_2 and (subs is None or sub in subs):
        return
    asked = f"{group} {sub}".strip()
    raise StackCliError(
        f"MWAA does not run `airflow {asked}` through its CLI endpoint (Airflow {airflow_version or '2.x'}); "
        f"supported: {', '.join(supported_commands())}"
    )
