"""checkov on what the self-managed stacks deploy: the Kubernetes objects as the program registers them and the
image's Dockerfile. No failed check; every skipped one carries its reason in the object or the Dockerfile."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from offline.render import as_kubernetes_yaml

pytestmark = pytest.mark.contract

PROJECT = Path(__file__).resolve().parents[2]


def _checkov(directory: Path, framework: str) -> dict:
    checkov = os.environ.get("CHECKOV", str(PROJECT / ".venv-checkov" / "bin" / "checkov"))
    if not Path(checkov).exists():
        pytest.fail(f"checkov not found at {checkov}: `make test` installs it in .venv-checkov")
    result = subprocess.run(
        [checkov, "-d", str(directory), "--framework", framework, "--skip-download", "-o", "json"],
        capture_output=True, text=True, timeout=600,
    )
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def _failed_and_skipped(report: dict) -> tuple[list, list]:
    results = report.get("results", {})
    return results.get("failed_checks", []), results.get("skipped_checks", [])


@pytest.fixture(scope="module")
def airflow3_plan():
    from offline import run_stack

    plan = run_stack("prod", config={"airflow": {"version": "3.3.2"}})
    assert plan.error is None, plan.error
    return plan


def test_airflow_3_objects_pass_checkov(airflow3_plan, tmp_path):
    test_kubernetes_objects_pass_checkov(airflow3_plan, tmp_path)


def test_kubernetes_objects_pass_checkov(self_managed_plan, tmp_path):
    manifests = as_kubernetes_yaml(self_managed_plan)
    (tmp_path / "airflow.yaml").write_text(manifests)
    # The worker pod template travels inside a ConfigMap; checkov sees it only as a file of its own.
    config_map = next(d for d in yaml.safe_load_all(manifests) if d["metadata"]["name"].startswith("airflow-pod-template-"))
    (tmp_path / "worker-pod.yaml").write_text(config_map["data"]["pod_template.yaml"])
    report = _checkov(tmp_path, "kubernetes")
    failed, skipped = _failed_and_skipped(report)
    assert [(f["check_id"], f["resource"]) for f in failed] == []
    assert report["summary"]["passed"] > 100
    # The worker pod was scanned: its deliberate skips are reported.
    assert any(s["resource"] == "Pod.airflow.airflow-worker" for s in skipped)
    assert skipped and all(s["check_result"].get("suppress_comment", "").strip() for s in skipped)


def test_dockerfile_passes_checkov():
    report = _checkov(PROJECT / "docker", "dockerfile")
    failed, skipped = _failed_and_skipped(report)
    assert [f["check_id"] for f in failed] == []
    assert [s["check_id"] for s in skipped] == ["CKV_DOCKER_2"] and skipped[0]["check_result"]["suppress_comment"].strip()


def test_checkov_fails_a_privileged_root_pod(tmp_path):
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bad, namespace: airflow}\n"
        "spec:\n  containers:\n  - name: c\n    image: busybox:latest\n    securityContext: {privileged: true}\n"
    )
    failed, _ = _failed_and_skipped(_checkov(tmp_path, "kubernetes"))
    assert {"CKV_K8S_16", "CKV_K8S_14"} <= {f["check_id"] for f in failed}
