"""make diagram: the pictures in docs/diagrams/ are drawn from the current plans of the dev and prod stacks (the
README shows them), and they show what the stack creates."""

from __future__ import annotations

import html
import re
import shutil
import struct

import pytest

from offline.diagram import OUT_DIR, diagram, render
from offline.engine import PROJECT_DIR, run_stack

STACKS = ("dev", "prod")
EXISTING_VPC = "vpc-0123456789abcdef0"


@pytest.fixture(scope="module", params=STACKS)
def drawn(request):
    plan = run_stack(request.param)
    assert plan.error is None, plan.error
    return request.param, plan, diagram(plan).source


def _texts(svg: str) -> list[str]:
    """What an SVG says (node and edge titles, labels), apart from where the fonts put it."""
    return [html.unescape(t) for t in re.findall(r"<(?:title|text)[^>]*>([^<]*)</", svg)]


def _labels(source: str) -> str:
    return " ".join(re.findall(r'label="([^"]*)"', source)).replace("\\n", " ")


def test_the_committed_dot_source_is_drawn_from_the_current_plan(drawn):
    stack, _, source = drawn
    committed = (OUT_DIR / f"{stack}.dot").read_text(encoding="utf-8")
    assert committed == source, f"docs/diagrams/{stack}.* are stale: make diagram STACK={stack}"


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot (make test installs it; the deployment "
                    "gate's runners have none: the DOT source check above runs there)")
def test_the_committed_svg_and_png_are_rendered_from_that_source(drawn):
    stack, _, source = drawn
    svg = (OUT_DIR / f"{stack}.svg").read_text(encoding="utf-8")
    assert _texts(svg) == _texts(render(source, "svg").decode()), f"make diagram STACK={stack}"
    # The PNG is the same layout: Graphviz draws it at 96 dpi from the SVG's size in points.
    width_pt, height_pt = (int(v) for v in re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg).groups())
    png = (OUT_DIR / f"{stack}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert abs(width - width_pt * 4 / 3) <= 2, (width, width_pt)
    assert abs(height - height_pt * 4 / 3) <= 2, (height, height_pt)


def test_the_readme_shows_both_pictures():
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    for stack in STACKS:
        assert f"(docs/diagrams/{stack}.svg)" in readme


def test_the_picture_shows_the_network_runtime_data_and_its_paths(drawn):
    _, plan, source = drawn
    labels = _labels(source)
    zones = {r.inputs["availabilityZone"] for r in plan.of_type("aws:ec2/subnet:Subnet")}
    assert all(f"zone {zone}" in labels for zone in zones)
    assert labels.count("NAT gateway") == len(plan.of_type("aws:ec2/natGateway:NatGateway"))
    assert labels.count("subnet ") == len(plan.of_type("aws:ec2/subnet:Subnet"))
    assert "s3 endpoint" in labels and "S3 bucket DAGs" in labels and "Variables, Connections" in labels
    assert "log groups" in labels
    if plan.outputs["flavour"] == "managed":
        assert "Amazon MWAA" in labels and "DAGs, plugins, requirements" in labels
    else:
        assert all(part in labels for part in ("node group", "RDS PostgreSQL", "ECR repository", "airflow-scheduler",
                                               "worker pods", "airflow-pgbouncer", "task logs", "KMS key"))
        # The self-managed image carries plugins and requirements; its pods log to S3, not to CloudWatch Logs.
        assert "plugins" not in labels
        assert not re.search(r"pod_\w+ -> logs", source)


def test_a_stack_in_an_existing_vpc_is_drawn_in_it():
    subnets = {"subnet-0aaaaaaaaaaaaaaaa": {"vpcId": EXISTING_VPC, "availabilityZone": "eu-west-1a"},
               "subnet-0bbbbbbbbbbbbbbbb": {"vpcId": EXISTING_VPC, "availabilityZone": "eu-west-1b"}}
    network = {"vpcId": EXISTING_VPC, "privateSubnetIds": sorted(subnets)}
    plan = run_stack("prod", config={"network": network}, subnets=subnets)
    assert plan.error is None, plan.error
    labels = _labels(diagram(plan).source)
    assert f"existing VPC {EXISTING_VPC}" in labels and "RDS PostgreSQL" in labels and "node group" in labels
