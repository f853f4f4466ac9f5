"""Facts that live in one place, and the copies that must stay (the `airflow-stack` console script ships without
the program): tied here so that they cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

from k8s.containers import labels
from k8s.manifests import airflow_objects
from k8s.service import WEBSERVER_SERVICE
from tests.unit.test_k8s_objects import SPEC

PROJECT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_config_model_imports_nothing_from_the_components():
    offenders = {
        path.name: sorted(m for m in _imports(path) if m == "components" or m.startswith("components."))
        for path in (PROJECT / "stackconfig").glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_the_cli_finds_the_scheduler_and_the_webserver_as_the_manifests_name_them():
    from stackcli import kubernetes as cli

    wanted = labels(SPEC, "scheduler")
    selector = dict(pair.split("=", 1) for pair in cli.SCHEDULER_SELECTOR.split(","))
    assert selector == {k: wanted[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/component")}
    scheduler = next(o for o in airflow_objects(SPEC) if o["kind"] == "Deployment" and o["metadata"]["name"] == "airflow-scheduler")
    assert "scheduler" in [c["name"] for c in scheduler["spec"]["template"]["spec"]["containers"]]
    assert f"svc/{WEBSERVER_SERVICE} " in (PROJECT / "stackcli" / "kubernetes.py").read_text()
