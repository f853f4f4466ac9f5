"""make diagram: the pictures in docs/diagrams/ are drawn from the current plans of the dev and prod stacks (the
README shows them), and they show what the stack creates."""

from __future__ import annotations

import re
import struct

import pytest

from offline.diagram import OUT_DIR, diagram, render
from offline.engine import PROJECT_DIR, run_stack

STACKS = ("dev", "prod")


@pytest.fixture(scope="module", params=STACKS)
def drawn(request):
    plan = run_stack(request.param)
    assert plan.error is None, plan.error
    return request.param, plan, diagram(plan).source


def _texts(svg: str) -> list[str]:
    """What an SVG says (node and edge titles, labels), apart from where the fonts put it."""
    return re.findall(r"<(?:title|text)[^>]*>([^<]*)</", svg)


def test_the_committed_pictures_are_drawn_from_the_current_plan(drawn):
    stack, _, source = drawn
    assert (OUT_DIR / f"{stack}.dot").read_text() == source, "docs/diagrams is stale: make diagram STACK=" + stack
    svg = (OUT_DIR / f"{stack}.svg").read_text()
    assert _texts(svg) == _texts(render(source, "svg").decode())
    # The PNG is the same layout: Graphviz draws it at 96 dpi from the SVG's size in points.
    width_pt, height_pt = (int(v) for v in re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg).groups())
    png = (OUT_DIR / f"{stack}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (abs(width - width_pt * 4 / 3) <= 2, abs(height - height_pt * 4 / 3) <= 2) == (True, True)


def test_the_readme_shows_both_pictures():
    readme = (PROJECT_DIR / "README.md").read_text()
    for stack in STACKS:
        assert f"(docs/diagrams/{stack}.svg)" in readme


def test_the_picture_shows_the_network_runtime_data_and_its_paths(drawn):
    stack, plan, source = drawn
    labels = " ".join(re.findall(r'label="([^"]*)"', source)).replace("\\n", " ")
    zones = {r.inputs["availabilityZone"] for r in plan.of_type("aws:ec2/subnet:Subnet")}
    assert all(f"zone {zone}" in labels for zone in zones)
    assert labels.count("NAT gateway") == len(plan.of_type("aws:ec2/natGateway:NatGateway"))
    assert labels.count("subnet ") == len(plan.of_type("aws:ec2/subnet:Subnet"))
    assert "s3 endpoint" in labels and "S3 bucket DAGs" in labels and "DAGs" in labels
    assert "Variables, Connections" in labels and "log groups" in labels
    if plan.outputs["flavour"] == "managed":
        assert "Amazon MWAA" in labels
    else:
        assert all(part in labels for part in ("node group", "RDS PostgreSQL", "ECR repository", "airflow-scheduler",
                                               "worker pods", "airflow-pgbouncer", "task logs", "KMS key"))
