"""`make plan` for every offered Airflow version on both flavours: the program runs, the version reaches MWAA or the
image, and every Kubernetes object of a self-managed version validates strictly for the cluster's version."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from offline import run_stack
from offline.render import kubernetes_objects
from stackconfig import limits
from stackconfig.project_files import offered_image_versions


@pytest.mark.parametrize("version", offered_image_versions())
def test_each_self_managed_version_plans_and_its_objects_validate_strictly(version):
    plan = run_stack("prod", config={"airflow": {"version": version}})
    assert plan.error is None, plan.error
    assert plan.outputs["airflowVersion"] == version
    cluster = plan.one("eks:index:Cluster").inputs["version"] + ".0"
    objects = [obj for obj, _ in kubernetes_objects(plan)]
    for obj in objects:
        kubernetes_validate.validate(obj, cluster, strict=True)
    template = next(o for o in objects if o["metadata"]["name"] == f"airflow-pod-template-{version.replace('.', '-')}")
    kubernetes_validate.validate(yaml.safe_load(template["data"]["pod_template.yaml"]), cluster, strict=True)
    deployments = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    assert ("airflow-dag-processor" in deployments) == version.startswith("3.")
    assert plan.one("docker-build:index:Image").inputs["buildArgs"]["AIRFLOW_VERSION"] == version


@pytest.mark.parametrize("version", limits.MWAA_AIRFLOW_VERSIONS)
def test_each_mwaa_version_plans(version):
    plan = run_stack("dev", config={"airflow": {"version": version, "requirementsFile": ""}})
    assert plan.error is None, plan.error
    assert plan.one("aws:mwaa/environment:Environment").inputs["airflowVersion"] == version
