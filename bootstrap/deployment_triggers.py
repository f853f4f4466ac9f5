"""When and how Pulumi Deployments runs a stack: the paths whose changes deploy it, and the commands that must pass
first (the gate). Pure data, so tests can hold the paths against the files the program really reads."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from stackconfig.settings import Settings as AppSettings

# Everything the program reads, relative to the folder of Pulumi.yaml, whatever the stack. A stack's own files
# (its stack file, DAGs, requirements, plugins, startup script) come from its settings.
PROGRAM_PATHS = (
    "__main__.py",
    "Pulumi.yaml",
    "pyproject.toml",
    "uv.lock",
    "components/**",
    "k8s/**",
    "stackconfig/**",
)


def _in_repo(repo_dir: str, path: str) -> str:
    return f"{repo_dir}/{path}" if repo_dir else path


def trigger_paths(stack: str, app: AppSettings, repo_dir: str) -> list[str]:
    """Globs from the repository root: a push that changes none of them deploys nothing to this stack. Another
    stack's file, the README, tests and this bootstrap project are not among them."""
    paths = list(PROGRAM_PATHS) + [f"Pulumi.{stack}.yaml", f"{app.airflow.dags_dir.strip('/')}/**"]
    if app.managed:
        if app.airflow.requirements_file:
            paths.append(app.airflow.requirements_file)
        if app.airflow.plugins_dir:
            paths.append(f"{app.airflow.plugins_dir.strip('/')}/**")
        if app.mwaa.startup_script:
            paths.append(app.mwaa.startup_script)
    else:
        paths.append("docker/**")
    return [_in_repo(repo_dir, p) for p in dict.fromkeys(paths)]


# Pulumi Deployments hands this variable to the pre-run commands: what the stack's deploy role and path filters were
# built from, so that the gate can tell when the stack file has moved on without the bootstrap.
BUILT_FOR_VARIABLE = "AIRFLOW_ON_AWS_DEPLOY_BUILT_FOR"


def built_for(stack: str, app: AppSettings, project: str, repo_dir: str) -> dict[str, Any]:
    """The stack-file facts the bootstrap baked into a stack's deploy role (its policy's scope) and its path filters.
    The account is left out: the stack file does not name it."""
    from bootstrap.deploy_policy import Scope, deploy_policies

    facts = Scope.of(app, stack, project, account="")
    scope = dataclasses.asdict(facts)
    del scope["account"]
    # What the role may do, as this version of the project grants it: a project upgrade that needs a new grant
    # (a new resource type, a new lookup) shows as stale like a changed stack file, instead of AccessDenied mid-run.
    grants = hashlib.sha256(json.dumps(deploy_policies(facts), sort_keys=True).encode()).hexdigest()[:16]
    return {"scope": scope, "repoDir": repo_dir, "paths": trigger_paths(stack, app, repo_dir), "grants": grants}


def built_for_json(stack: str, app: AppSettings, project: str, repo_dir: str) -> str:
    return json.dumps(built_for(stack, app, project, repo_dir), sort_keys=True, separators=(",", ":"))


# Each field of the deploy policy's scope, as the stack-file key it comes from (as typed in `pulumi config set`).
_SCOPE_KEYS = {
    "name": "environmentName",
    "stack": "the stack's name",
    "project": "the project's name (Pulumi.yaml)",
    "flavour": "flavour",
    "region": "aws:region",
    "partition": "aws:region (its partition)",
    "secret_prefixes": "airflow.secrets.variablesPrefix / airflow.secrets.connectionsPrefix",
    "kms_key": "mwaa.kmsKey",
    "permissions_boundary": "permissionsBoundary",
}


def stale_deploy_settings(recorded: str, stack: str, app: AppSettings, project: str) -> list[str]:
    """What differs between the facts the bootstrap recorded and what the stack file gives now, as sentences."""
    before = json.loads(recorded)
    now = built_for(stack, app, project, before.get("repoDir", ""))
    changes = [
        f"{_SCOPE_KEYS.get(field, field)}: the deploy role was built for {before['scope'].get(field)!r}, the stack "
        f"file now gives {value!r}"
        for field, value in now["scope"].items()
        if json.loads(json.dumps(value)) != before["scope"].get(field)
    ]
    if now["paths"] != before.get("paths"):
        changes.append(f"path filters: built as {before.get('paths')}, the stack file now needs {now['paths']}")
    if now["grants"] != before.get("grants"):
        changes.append(
            "the deploy policy: this version of the project grants the deploy role other permissions than the "
            "bootstrap gave it (a project upgrade)"
        )
    return changes


def uv_version(app_dir: Path) -> str:
    """The uv the Makefile pins, so that Deployments and `make` resolve the lock file with the same uv."""
    match = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", (app_dir / "Makefile").read_text(), re.MULTILINE)
    if match is None:
        raise ValueError("Makefile has no UV_VERSION")
    return match.group(1)


def pre_run_commands(stack: str, repo_dir: str, uv: str) -> list[str]:
    """Each line runs in its own shell, before Pulumi installs or runs anything; a failing line stops the deployment.

    The default install of a Python project in Deployments is pip into a virtualenv, which would ignore uv.lock:
    uv is installed instead (pinned, on the PATH where Pulumi's uv toolchain finds it), and `make gate` syncs the
    project from its lock file, builds the gate's Airflow and runs the gate."""
    folder = f'"$(git rev-parse --show-toplevel)/{repo_dir}"' if repo_dir else '"$(git rev-parse --show-toplevel)"'
    return [
        f"curl -LsSf https://astral.sh/uv/{uv}/install.sh | env UV_INSTALL_DIR=/usr/local/bin UV_NO_MODIFY_PATH=1 sh",
        f"cd {folder} && make gate STACK={stack}",
    ]
