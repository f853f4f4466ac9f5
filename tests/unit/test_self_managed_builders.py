"""The self-managed flavour's pure builders: image tag, IAM documents, chart values, database settings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit, unquote

import pytest

from components.self_managed.database_parameters import RDS_CA_BUNDLE, parameters, sqlalchemy_url
from components.self_managed.ecr_lifecycle_policy import keep_newest_images
from components.self_managed.image_tag import image_tag
from components.self_managed.workload_identity_policy import (
    AIRFLOW_ACCESS,
    ComponentAccess,
    airflow_component_policy,
    cluster_autoscaler_policy,
    service_account_trust_policy,
)
from k8s import identities
from k8s.cluster_autoscaler_values import IMAGE_TAGS, autoscaler_values
from stackconfig import limits

DOCKER = Path(__file__).resolve().parents[2] / "docker"


@pytest.fixture
def docker_copy(tmp_path) -> Path:
    copy = tmp_path / "docker"
    shutil.copytree(DOCKER, copy)
    return copy


def test_image_tag_is_stable_for_the_same_files_and_version(docker_copy):
    assert image_tag(docker_copy, "2.9.2") == image_tag(DOCKER, "2.9.2")
    assert image_tag(docker_copy, "2.9.2").startswith("2.9.2-")
    (docker_copy / "__pycache__").mkdir(exist_ok=True)  # a local run may have left one
    (docker_copy / "__pycache__" / "x.pyc").write_bytes(b"noise")
    assert image_tag(docker_copy, "2.9.2") == image_tag(DOCKER, "2.9.2")


def test_image_tag_changes_with_a_plugin_the_image_carries(docker_copy, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "macros.py").write_text("X = 1\n")
    with_plugin = image_tag(docker_copy, "2.9.2", plugins)
    assert with_plugin != image_tag(docker_copy, "2.9.2")
    (plugins / "macros.py").write_text("X = 2\n")
    assert image_tag(docker_copy, "2.9.2", plugins) != with_plugin
    (plugins / "macros.py").write_text("X = 1\n")
    assert image_tag(docker_copy, "2.9.2", plugins) == with_plugin  # the same files, the same tag


def test_image_tag_changes_with_any_file_or_the_version(docker_copy):
    original = image_tag(docker_copy, "2.9.2")
    assert image_tag(docker_copy, "2.9.3") != original
    (docker_copy / "entrypoint.sh").write_text((docker_copy / "entrypoint.sh").read_text() + "\n# changed\n")
    changed = image_tag(docker_copy, "2.9.2")
    assert changed != original
    (docker_copy / "extra.txt").write_text("")
    assert image_tag(docker_copy, "2.9.2") not in (original, changed)


def test_lifecycle_policy_expires_beyond_the_newest_n():
    rule = keep_newest_images(7)["rules"][0]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 7}
    assert rule["action"] == {"type": "expire"}


def test_database_requires_tls_on_both_ends():
    assert parameters()["rds.force_ssl"] == "1"
    url = sqlalchemy_url(host="db.example", port=5432, database="airflow", username="airflow", password="p@ss/w:rd")
    parts = urlsplit(url)
    # verify-full: the client checks RDS's certificate against the CAs in the image and its name against the host.
    assert parts.scheme == "postgresql+psycopg2" and parts.query == f"sslmode=verify-full&sslrootcert={RDS_CA_BUNDLE}"
    assert unquote(parts.password) == "p@ss/w:rd" and parts.hostname == "db.example"


def test_trust_names_one_service_account_and_sts_as_audience():
    trust = service_account_trust_policy(
        oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        oidc_issuer="oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        namespace="airflow",
        service_account="airflow-worker",
    )
    (statement,) = trust["Statement"]
    assert statement["Condition"]["StringEquals"] == {
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:airflow:airflow-worker",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
    }


def _policy(access: ComponentAccess):
    return airflow_component_policy(
        access, region="eu-west-1", account="123456789012", dag_bucket_arn="arn:aws:s3:::dags",
        log_bucket_arn="arn:aws:s3:::logs", secret_prefixes=["env/variables", "env/connections"],
        metrics_namespace="Airflow/airflow-prod",
    )


def test_component_policies_follow_the_access_table():
    # Every account of every offered major has its access; Airflow 3 adds the DAG processor's.
    assert set(AIRFLOW_ACCESS) == set(identities.service_accounts("2.9.3")) | set(identities.service_accounts("3.3.2"))
    assert _policy(ComponentAccess(dags=False, secrets=False, logs="none")) is None
    webserver = json.dumps(_policy(AIRFLOW_ACCESS[identities.WEBSERVER]))
    assert "s3:PutObject" not in webserver  # it reads logs, the workers, triggerer and scheduler write them
    # Every pod with a DAG sync container may read the DAGs: scheduler, webserver, triggerer and workers.
    assert all(AIRFLOW_ACCESS[sa].dags for sa in AIRFLOW_ACCESS if sa != identities.METRICS)
    # The metrics agent may publish into the stack's namespace only, and reads nothing.
    metrics = _policy(AIRFLOW_ACCESS[identities.METRICS])
    assert [(s["Action"], s["Condition"]) for s in metrics["Statement"]] == [
        ("cloudwatch:PutMetricData", {"StringEquals": {"cloudwatch:namespace": "Airflow/airflow-prod"}})]
    assert AIRFLOW_ACCESS[identities.DAG_PROCESSOR].logs == "none"
    worker = _policy(AIRFLOW_ACCESS[identities.WORKER])
    sids = {s["Sid"] for s in worker["Statement"]}
    assert sids == {"ListDags", "ReadDags", "ListTaskLogs", "TaskLogObjects", "ReadAirflowSecrets"}


def test_autoscaler_may_resize_only_its_clusters_groups():
    policy = cluster_autoscaler_policy(region="eu-west-1", account="123456789012", cluster_name="airflow-prod")
    resize = next(s for s in policy["Statement"] if s["Sid"] == "ResizeOwnNodeGroups")
    assert resize["Condition"]["StringEquals"] == {"aws:ResourceTag/k8s.io/cluster-autoscaler/airflow-prod": "owned"}
    assert resize["Resource"].startswith("arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:")


def test_every_offered_kubernetes_version_has_a_matching_autoscaler():
    assert set(limits.EKS_VERSIONS) <= set(IMAGE_TAGS)
    for version in limits.EKS_VERSIONS:
        values = autoscaler_values(cluster_name="c", region="eu-west-1", role_arn="arn:aws:iam::1:role/r", kubernetes_version=version)
        assert values["image"]["tag"].startswith(f"v{version}.")
        assert values["rbac"]["serviceAccount"]["name"] == identities.AUTOSCALER
