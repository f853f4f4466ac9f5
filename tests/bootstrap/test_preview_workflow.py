"""The GitHub Actions workflow previews and gates, and never updates a stack."""

from __future__ import annotations

import re

import yaml

from stackconfig.load import PROJECT_DIR

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "preview.yml"


def test_the_workflow_gates_then_previews_each_stack_and_never_updates():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    steps = job["steps"]
    names = [step.get("uses", step.get("run", "")) for step in steps]
    gate = next(i for i, s in enumerate(steps) if s.get("run") == "make gate STACK=${{ matrix.stack }}")
    pulumi = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("pulumi/actions@"))
    assert gate < pulumi, names
    assert steps[pulumi]["with"]["command"] == "preview"
    assert all("pulumi up" not in s.get("run", "") and s.get("with", {}).get("command") != "up" for s in steps)
    uv = next(s for s in steps if s.get("uses", "").startswith("astral-sh/setup-uv@"))
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (PROJECT_DIR / "Makefile").read_text(), re.MULTILINE).group(1)
    assert uv["with"]["version"] == makefile_uv
    assert workflow["permissions"]["id-token"] == "write" and workflow["permissions"]["contents"] == "read"
