"""The Kubernetes objects of Airflow 3, from the same builders as Airflow 2's: the api-server in the UI's place
(probed where Airflow 3 answers), a DAG processor of its own, the execution API for workers inside the cluster,
one JWT secret for every component and worker, the [api] options and the FAB auth manager."""

from __future__ import annotations

from dataclasses import replace

import kubernetes_validate
import pytest
import yaml

from k8s import environment, identities
from k8s.manifests import airflow_objects, to_yaml
from k8s.pod_template import worker_pod_template
from stackconfig import limits
from tests.unit.test_k8s_objects import SPEC

SPEC3 = replace(
    SPEC,
    airflow_version="3.3.2",
    role_arns={sa: f"arn:aws:iam::123456789012:role/{sa}" for sa in identities.service_accounts("3.3.2")},
)


def _objects(spec=SPEC3) -> dict[str, dict]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in airflow_objects(spec)}


def _containers(obj: dict) -> list[dict]:
    pod = obj["spec"]["template"]["spec"]
    return pod.get("initContainers", []) + pod["containers"]


@pytest.mark.parametrize("version", limits.EKS_VERSIONS)
def test_every_object_validates_strictly(version):
    for obj in yaml.safe_load_all(to_yaml(airflow_objects(SPEC3))):
        kubernetes_validate.validate(obj, f"{version}.0", strict=True)
    kubernetes_validate.validate(worker_pod_template(SPEC3), f"{version}.0", strict=True)


def test_the_ui_runs_the_api_server_probed_on_its_health_path():
    web = _objects()["Deployment/airflow-webserver"]["spec"]["template"]["spec"]["containers"][0]
    assert web["args"] == ["api-server"]
    assert {web[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe")} == {"/api/v2/monitor/health"}
    two = _objects(SPEC)["Deployment/airflow-webserver"]["spec"]["template"]["spec"]["containers"][0]
    assert two["args"] == ["webserver"] and two["livenessProbe"]["httpGet"]["path"] == "/health"


def test_a_dag_processor_runs_apart_and_only_on_airflow_3():
    objects = _objects()
    processor = objects["Deployment/airflow-dag-processor"]
    main = processor["spec"]["template"]["spec"]["containers"][0]
    assert main["args"] == ["dag-processor"]
    assert main["livenessProbe"]["exec"]["command"][-3:] == ["--job-type", "DagProcessorJob", "--local"]
    assert processor["spec"]["replicas"] == 1  # several processors over one folder race (apache/airflow#66788)
    assert processor["spec"]["template"]["spec"]["serviceAccountName"] == identities.DAG_PROCESSOR
    assert "PodDisruptionBudget/airflow-dag-processor" in objects and "ServiceAccount/airflow-dag-processor" in objects
    assert not [k for k in _objects(SPEC) if "dag-processor" in k]


def test_workers_reach_the_execution_api_inside_the_cluster():
    objects = _objects()
    service = objects["Service/airflow-execution-api"]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() >= objects["Deployment/airflow-webserver"]["spec"]["selector"]["matchLabels"].items()
    settings = objects[f"ConfigMap/{environment.config_map_name(SPEC3)}"]["data"]
    port = service["spec"]["ports"][0]["port"]
    assert settings["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://airflow-execution-api.airflow.svc.cluster.local:{port}/execution/"
    assert "Service/airflow-execution-api" not in _objects(SPEC)


def test_every_component_and_worker_shares_the_jwt_secret_and_the_api_options():
    objects = _objects()
    settings = objects[f"ConfigMap/{environment.config_map_name(SPEC3)}"]["data"]
    assert settings["AIRFLOW__CORE__AUTH_MANAGER"] == environment.FAB_AUTH_MANAGER
    assert settings["AIRFLOW__API__EXPOSE_CONFIG"] == "False" and "AIRFLOW__WEBSERVER__EXPOSE_CONFIG" not in settings
    jwt = {"name": environment.SECRET, "key": environment.JWT_SECRET_KEY}
    pods = [o for k, o in objects.items() if k.startswith(("Deployment/", "Job/"))]
    # Every container that runs Airflow (the DAG sync and the log groomer do not).
    envs = [c["env"] for o in pods for c in _containers(o)
            if c["name"] not in ("dag-sync", "dag-sync-init", "log-groomer", "cloudwatch-agent", "pgbouncer",
                                  "node-readiness")]
    envs.append(worker_pod_template(SPEC3)["spec"]["containers"][0]["env"])
    for env in envs:
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
        assert refs["AIRFLOW__API_AUTH__JWT_SECRET"] == jwt
        assert refs["AIRFLOW__API__SECRET_KEY"]["key"] == "webserver-secret-key" and "AIRFLOW__WEBSERVER__SECRET_KEY" not in refs
    secret = objects["Secret/airflow-secrets"]["stringData"]
    assert environment.JWT_SECRET_KEY in secret
    assert environment.JWT_SECRET_KEY not in _objects(SPEC)["Secret/airflow-secrets"]["stringData"]


def test_the_program_generates_the_jwt_secret_for_airflow_3_only():
    from offline import run_stack

    three = run_stack("prod", config={"airflow": {"version": "3.3.2"}})
    assert three.error is None, three.error
    assert [r.name for r in three.of_type("random:index/randomPassword:RandomPassword") if r.name.endswith("-jwt-secret")]
    secret = next(r for r in three.of_type("kubernetes:core/v1:Secret"))
    assert secret.inputs["stringData"] == "[secret]" and environment.JWT_SECRET_KEY in secret.raw_inputs["stringData"]
    assert "airflow-prod-dag-processor" in [r.name for r in three.of_type("aws:iam/role:Role")]


def test_the_execution_api_serves_from_this_versions_api_servers_only():
    objects = _objects()
    selector = objects["Service/airflow-execution-api"]["spec"]["selector"]
    pod_labels = objects["Deployment/airflow-webserver"]["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= pod_labels.items() and selector["app.kubernetes.io/version"] == SPEC3.airflow_version
    # The Deployment's selector stays version-free (it is immutable): the version label is the pods' alone.
    assert "app.kubernetes.io/version" not in objects["Deployment/airflow-webserver"]["spec"]["selector"]["matchLabels"]
