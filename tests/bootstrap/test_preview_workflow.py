"""The GitHub Actions workflow gates every stack, previews only the unprotected ones, and never updates a stack."""

from __future__ import annotations

import re

import yaml

from stackconfig.load import PROJECT_DIR, from_stack_file
from tests.conftest import STACKS

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "preview.yml"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_gates_every_stack_without_credentials():
    workflow = _workflow()
    gate = workflow["jobs"]["gate"]
    assert gate["strategy"]["matrix"]["stack"] == list(STACKS)
    assert "permissions" not in gate and workflow["permissions"] == {"contents": "read"}
    assert any(s.get("run") == "make gate STACK=${{ matrix.stack }}" for s in gate["steps"])
    uv = next(s for s in gate["steps"] if s.get("uses", "").startswith("astral-sh/setup-uv@"))
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (PROJECT_DIR / "Makefile").read_text(), re.MULTILINE).group(1)
    assert uv["with"]["version"] == makefile_uv


def test_only_unprotected_stacks_are_previewed_and_only_after_the_gate():
    """A preview runs the pull request's program with the stack's credentials: never for a protected stack."""
    workflow = _workflow()
    preview = workflow["jobs"]["preview"]
    unprotected = [s for s in STACKS if not from_stack_file(PROJECT_DIR, s).protect_data]
    assert preview["strategy"]["matrix"]["stack"] == unprotected and "prod" not in unprotected
    assert preview["needs"] == "gate"
    assert preview["permissions"]["id-token"] == "write"
    # The only job that can obtain credentials is the preview job, and it asks for a team's token, not the
    # organization's, which could open a protected stack's environment or start its deployments.
    assert [name for name, job in workflow["jobs"].items() if job.get("permissions", {}).get("id-token")] == ["preview"]
    login = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/auth-actions@"))
    assert login["with"]["requested-token-type"] == "urn:pulumi:token-type:access_token:team"
    assert login["with"]["scope"] == "team:${{ vars.PULUMI_PREVIEW_TEAM }}"


def test_the_workflow_never_updates():
    for job in _workflow()["jobs"].values():
        for step in job["steps"]:
            assert "pulumi up" not in step.get("run", "") and step.get("with", {}).get("command") in (None, "preview")
