"""Airflow's own code on the rendered objects: PodGenerator reads the pod template, and
`airflow kubernetes generate-dag-yaml` (run with the scheduler's rendered settings) turns the sample DAG into worker
pods that are valid for the cluster and carry the scheduler's fernet key, database connection and secret key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from k8s import environment, identities
from k8s import pod_template
from k8s.manifests import airflow_objects
from local.environment import container_env, swapped
from tests.unit.test_k8s_objects import SPEC

pytestmark = pytest.mark.runtime
PROJECT = Path(__file__).resolve().parents[2]
SECRETS = {"fernet-key": "a" * 43 + "=", "sql-alchemy-conn": "sqlite:////tmp/none.db",
           "webserver-secret-key": "k", "admin-password": "p", "sql-alchemy-conn-direct": "sqlite:////tmp/none.db",
           "pgbouncer-users": '"airflow" "p"\n'}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, image_env_bin):
    work = tmp_path_factory.mktemp("pods")
    objects = airflow_objects(SPEC, SECRETS)
    config_maps = {o["metadata"]["name"]: o["data"] for o in objects if o["kind"] == "ConfigMap"}
    template = work / "pod_template.yaml"
    template.write_text(config_maps[pod_template.config_map_name(SPEC)][pod_template.KEY])
    scheduler = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "airflow-scheduler")
    main = scheduler["spec"]["template"]["spec"]["containers"][0]
    env = swapped(
        container_env(main, config_maps, {environment.SECRET: SECRETS}),
        home=work, dags=PROJECT / "dags", pod_template=template, aws_endpoint="http://127.0.0.1:9", executor="KubernetesExecutor",
    )
    env.update({"PATH": f"{image_env_bin}:/usr/bin:/bin", "HOME": str(work),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work}/airflow.db"})
    migrated = subprocess.run([str(image_env_bin / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    return {"work": work, "env": env, "template": template, "scheduler": main, "bin": image_env_bin}


def test_pod_generator_reads_the_template_with_base_first(rendered):
    code = (
        "import sys\n"
        "from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator\n"
        "pod = PodGenerator.deserialize_model_file(sys.argv[1])\n"
        "print(pod.spec.containers[0].name, pod.spec.service_account_name, len(pod.spec.init_containers or []))\n"
    )
    result = subprocess.run([str(rendered["bin"] / "python"), "-c", code, str(rendered["template"])],
                            env=rendered["env"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["base", identities.WORKER, "1"]


def test_generated_worker_pods_are_valid_and_carry_the_schedulers_secrets(rendered):
    out = rendered["work"] / "generated"
    result = subprocess.run(
        [str(rendered["bin"] / "airflow"), "kubernetes", "generate-dag-yaml", "-o", str(out), "hello_secrets", "2024-01-01"],
        env=rendered["env"], capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pods = [yaml.safe_load(p.read_text()) for p in sorted(out.rglob("*.yml")) + sorted(out.rglob("*.yaml"))]
    assert {p["metadata"]["annotations"]["task_id"] for p in pods} == {"read_greeting", "announce"}
    scheduler_secrets = [e for e in rendered["scheduler"]["env"] if "valueFrom" in e]
    for pod in pods:
        kubernetes_validate.validate(pod, "1.35.0", strict=True)
        base = pod["spec"]["containers"][0]
        assert base["name"] == "base" and base["args"][:3] == ["airflow", "tasks", "run"]
        assert base["image"] == SPEC.image
        assert [e for e in base["env"] if "valueFrom" in e] == scheduler_secrets
        assert base["envFrom"] == rendered["scheduler"]["envFrom"]
        assert pod["spec"]["serviceAccountName"] == identities.WORKER


def _mebibytes(quantity: str) -> int:
    return int(quantity[:-2]) * (1024 if quantity.endswith("Gi") else 1)


def test_airflow_cli_containers_fit_their_memory_limits(rendered):
    """The init containers run the Airflow CLI with every setting loaded; their peak memory must fit the limit the
    manifests give them, or they are OOM-killed before the component starts."""
    objects = airflow_objects(SPEC, SECRETS)
    limits = {
        container["name"]: _mebibytes(container["resources"]["limits"]["memory"])
        for obj in objects if obj["kind"] == "Deployment"
        for container in obj["spec"]["template"]["spec"].get("initContainers", [])
        if container["name"] == "wait-for-migrations"
    }
    measure = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
    )
    argv = ["bash", str(PROJECT / "docker" / "entrypoint.sh"), "airflow", "db", "check-migrations", "--migration-wait-timeout=30"]
    result = subprocess.run([str(rendered["bin"] / "python"), "-c", measure, *argv], env=rendered["env"],
                            capture_output=True, text=True, timeout=300)
    code, peak = map(int, result.stdout.split()[-2:])
    assert code == 0, result.stderr[-2000:]
    assert peak < min(limits.values()), f"peak {peak} MiB against a limit of {min(limits.values())} MiB"
    assert peak > 64  # it did load Airflow: the measurement is real
