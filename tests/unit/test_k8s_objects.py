"""The Kubernetes builders on their own: valid for every offered Kubernetes version, and the invariants Airflow
on Kubernetes needs (the worker has what the scheduler has, the launcher role is bound to the scheduler's account,
the template's first container is `base`, pods run as non-root with nothing extra)."""

from __future__ import annotations

from dataclasses import replace

import kubernetes_validate
import pytest
import yaml

from k8s import environment, identities, rbac
from k8s.manifests import airflow_objects, to_yaml
from k8s.pod_template import worker_pod_template
from k8s.spec import AirflowSpec
from stackconfig import limits

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/airflow-prod-repo:2.9.2-0123456789ab@sha256:" + "b" * 64
SPEC = AirflowSpec(
    environment="airflow-prod",
    namespace="airflow",
    image=IMAGE,
    region="eu-west-1",
    dag_bucket="airflow-prod-bucket-1",
    log_bucket="airflow-prod-task-logs-bucket-1",
    role_arns={sa: f"arn:aws:iam::123456789012:role/{sa}" for sa in identities.service_accounts("2.9.3")},
    secrets_backend={"secrets.backend": "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend",
                     "secrets.backend_kwargs": '{"variables_prefix":"airflow-prod/variables"}'},
    configuration_options={"core.default_task_retries": "2", "logging.remote_logging": "False"},
    scheduler_replicas=2,
    webserver_replicas=2,
)


def _by_kind(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in airflow_objects(SPEC) if o["kind"] == kind}


@pytest.mark.parametrize("version", limits.EKS_VERSIONS)
def test_every_object_and_the_pod_template_validate_strictly(version):
    for obj in yaml.safe_load_all(to_yaml(airflow_objects(SPEC))):
        kubernetes_validate.validate(obj, f"{version}.0", strict=True)
    kubernetes_validate.validate(worker_pod_template(SPEC), f"{version}.0", strict=True)


def test_strict_validation_catches_an_unknown_field():
    pod = worker_pod_template(SPEC)
    pod["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.35.0", strict=True)


def test_worker_pods_get_exactly_the_schedulers_settings_and_secrets():
    scheduler = _by_kind("Deployment")["airflow-scheduler"]["spec"]["template"]["spec"]["containers"][0]
    base = worker_pod_template(SPEC)["spec"]["containers"][0]
    assert base["name"] == "base"
    assert base["envFrom"] == scheduler["envFrom"] == [{"configMapRef": {"name": environment.config_map_name(SPEC)}}]
    assert base["env"] == scheduler["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in base["env"]}
    assert refs == {env: {"name": environment.SECRET, "key": key} for key, env in environment.SECRET_ENV.items()}
    assert base["image"] == scheduler["image"] == IMAGE


def test_worker_template_uses_its_own_account_and_syncs_dags_first():
    spec = worker_pod_template(SPEC)["spec"]
    assert spec["serviceAccountName"] == identities.WORKER and spec["restartPolicy"] == "Never"
    assert [c["name"] for c in spec["initContainers"]] == ["dag-sync-init"]
    assert "args" not in spec["containers"][0]  # the executor supplies the task command


def test_project_settings_win_over_configuration_options():
    data = _by_kind("ConfigMap")[environment.config_map_name(SPEC)]["data"]
    assert data["AIRFLOW__CORE__DEFAULT_TASK_RETRIES"] == "2"
    assert data["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert data["AIRFLOW__CORE__EXECUTOR"] == "KubernetesExecutor"
    assert int(data["AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE"]) > 1
    assert f"{data['AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY']}:{data['AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG']}" == IMAGE
    assert data["AIRFLOW__SECRETS__BACKEND"].endswith("SecretsManagerBackend")
    assert "aws_access_key_id" not in data["AIRFLOW_CONN_AWS_DEFAULT"]


def test_the_pod_launcher_role_is_bound_to_the_schedulers_account():
    roles, bindings = _by_kind("Role"), _by_kind("RoleBinding")
    launcher = {r["resources"][0]: set(r["verbs"]) for r in roles[rbac.POD_LAUNCHER]["rules"]}
    assert launcher["pods"] >= {"create", "list", "get", "patch", "watch", "delete"}
    assert launcher["pods/log"] >= {"get"} and launcher["events"] >= {"list"}
    # Least privilege: nobody may exec into a pod, and no Role grants more than reading beyond pods.
    for role in roles.values():
        for rule in role["rules"]:
            assert "pods/exec" not in rule["resources"] and "*" not in rule["verbs"] and "*" not in rule["resources"]
            if rule["resources"] != ["pods"]:
                assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
    assert bindings[rbac.POD_LAUNCHER]["subjects"] == [{"kind": "ServiceAccount", "name": identities.SCHEDULER, "namespace": "airflow"}]
    assert bindings[rbac.LOG_READER]["subjects"][0]["name"] == identities.WEBSERVER


def _pod_specs():
    for obj in airflow_objects(SPEC):
        if obj["kind"] in ("Deployment", "Job"):
            yield obj["metadata"]["name"], obj["spec"]["template"]["spec"]
    yield "worker", worker_pod_template(SPEC)["spec"]


def test_every_pod_runs_as_non_root_with_nothing_extra():
    for name, pod in _pod_specs():
        # Airflow's image's user; the metrics agent's image names none, and runs as one of its own.
        uid = 10001 if name == "airflow-metrics" else 50000
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == uid
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["capabilities"] == {"drop": ["ALL"]} and context["readOnlyRootFilesystem"] is True
            assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"]


def test_only_the_scheduler_webserver_and_node_watcher_mount_an_api_token():
    mounting = {name for name, pod in _pod_specs() if pod["automountServiceAccountToken"]}
    assert mounting == {"airflow-scheduler", "airflow-webserver", "airflow-node-readiness"}


def test_components_wait_for_migrations_and_probe_like_the_chart():
    deployments = _by_kind("Deployment")
    for name, probe in (("airflow-scheduler", "SchedulerJob"), ("airflow-triggerer", "TriggererJob")):
        pod = deployments[name]["spec"]["template"]["spec"]
        assert [c["name"] for c in pod["initContainers"]] == ["dag-sync-init", "wait-for-migrations"]
        liveness = pod["containers"][0]["livenessProbe"]
        assert liveness["exec"]["command"][-3:] == ["--job-type", probe, "--local"]
        assert (liveness["periodSeconds"], liveness["timeoutSeconds"]) == (60, 20)
        assert deployments[name]["spec"]["replicas"] >= 1
    web = deployments["airflow-webserver"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8080, "scheme": "HTTP"}
    assert deployments["airflow-scheduler"]["spec"]["replicas"] == 2


def test_a_new_image_gets_a_new_migration_job():
    first = next(o for o in airflow_objects(SPEC) if o["kind"] == "Job")["metadata"]["name"]
    other = AirflowSpec(**{**SPEC.__dict__, "image": IMAGE.replace("b" * 64, "c" * 64)})
    second = next(o for o in airflow_objects(other) if o["kind"] == "Job")["metadata"]["name"]
    assert first != second and first.startswith("airflow-migrate-")
    job = next(o for o in airflow_objects(SPEC) if o["kind"] == "Job")["spec"]["template"]["spec"]
    assert job["initContainers"][0]["args"] == ["migrate"] and job["containers"][0]["args"] == ["create-user"]


def test_a_secret_without_every_value_is_refused():
    with pytest.raises(ValueError, match="admin-password"):
        airflow_objects(SPEC, {"fernet-key": "x", "sql-alchemy-conn": "x", "webserver-secret-key": "x"})


def test_placeholder_and_resolved_objects_have_the_same_shape():
    """The wiring names resources from the placeholder objects and fills them from the resolved ones: the two lists
    must hold the same kinds, names and top-level fields, in the same order, for every kind of k8s/kinds.py."""
    from dataclasses import replace

    from k8s.kinds import KINDS, OBJECT_FIELDS
    from k8s.manifests import late_fields, with_values

    resolved = with_values(SPEC, {f: "resolved:" + f.replace(":", "-") for f in late_fields(SPEC) if f != "image"})
    resolved = replace(resolved, image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/r:2.9.2-abc@sha256:" + "2" * 64)
    placeholder, real = airflow_objects(SPEC), airflow_objects(resolved)

    def shape(objects):
        return [(o["kind"], o["metadata"]["name"] if o["kind"] != "Job" else "job", sorted(o)) for o in objects]

    assert shape(placeholder) == shape(real)
    assert {o["kind"] for o in placeholder} == set(KINDS)
    for obj in placeholder:
        assert obj["apiVersion"] == KINDS[obj["kind"]].api_version
        assert set(obj) - {"apiVersion", "kind"} <= set(OBJECT_FIELDS)


def test_every_kind_has_its_pulumi_kubernetes_class():
    import pulumi_kubernetes as k8s

    from k8s.kinds import KINDS, snake

    for kind, spec in KINDS.items():
        group, version = spec.sdk_module
        assert hasattr(getattr(getattr(k8s, group), version), kind), kind
    assert [snake(f) for f in ("roleRef", "stringData", "automountServiceAccountToken")] == [
        "role_ref", "string_data", "automount_service_account_token"
    ]


def _settings(spec: AirflowSpec) -> dict[str, str]:
    return next(o for o in airflow_objects(spec) if o["kind"] == "ConfigMap" and o["metadata"]["name"]
                == environment.config_map_name(spec))["data"]


@pytest.mark.parametrize("version, option", [("2.9.3", "AIRFLOW__WEBSERVER__BASE_URL"), ("3.3.2", "AIRFLOW__API__BASE_URL")])
def test_airflows_base_url_is_where_users_reach_the_ui(version, option):
    """Alert e-mails and redirects link to the base URL; Airflow 3 reads it from [api] (tests/runtime/
    test_airflow_options.py asks each version which options it reads)."""
    spec = replace(SPEC, airflow_version=version, webserver_url="https://airflow.example.com",
                   webserver_hostname_configured=True)
    settings = _settings(spec)
    assert settings[option] == "https://airflow.example.com"
    assert {"AIRFLOW__WEBSERVER__BASE_URL", "AIRFLOW__API__BASE_URL"} - {option} & set(settings) == set()


@pytest.mark.parametrize("exposure, configured, set_", [("internal", False, False), ("internal", True, True),
                                                        ("internet-facing", False, True)])
def test_airflow_3_logs_in_at_its_base_url_only_where_users_reach_it(exposure, configured, set_):
    """Airflow 3's FAB login redirects to [api] base_url: an internal load balancer's name would send a user who
    came through `kubectl port-forward` where a laptop cannot go. Airflow 2 only builds links from it."""
    spec = replace(SPEC, airflow_version="3.3.2", webserver_url="http://lb.elb.eu-west-1.amazonaws.com",
                   webserver_exposure=exposure, webserver_hostname_configured=configured)
    assert ("AIRFLOW__API__BASE_URL" in _settings(spec)) is set_
    assert "AIRFLOW__WEBSERVER__BASE_URL" in _settings(replace(spec, airflow_version="2.9.3"))


@pytest.mark.parametrize("certificate, url", [(None, "http://airflow.example.com"),
                                              ("arn:aws:acm:eu-west-1:123456789012:certificate/x", "https://airflow.example.com")])
def test_the_url_follows_the_load_balancers_listener(certificate, url):
    from k8s.service import webserver_service
    from k8s.spec import webserver_url

    port = webserver_service(replace(SPEC, webserver_certificate_arn=certificate))["spec"]["ports"][0]["port"]
    assert webserver_url("airflow.example.com", certificate) == url
    assert port == {"http": 80, "https": 443}[url.split(":", 1)[0]]


def test_a_changed_secret_value_rolls_every_deployment_and_an_unchanged_one_none():
    values = {key: f"value-of-{key}" for key in environment.SECRET_KEYS}
    rotated = {**values, "sql-alchemy-conn": "postgresql://airflow:new-password@db/airflow"}

    def pod_annotations(secret_values):
        spec = replace(SPEC, secrets_checksum=environment.secrets_checksum(secret_values))
        return {o["metadata"]["name"]: o["spec"]["template"]["metadata"]["annotations"]
                for o in airflow_objects(spec, secret_values) if o["kind"] == "Deployment"}

    before, again, after = pod_annotations(values), pod_annotations(dict(values)), pod_annotations(rotated)
    assert before == again
    # The metrics agent and the node watcher read no secret: a rotation leaves them alone.
    assert before.pop("airflow-metrics") == after.pop("airflow-metrics")
    assert before.pop("airflow-node-readiness") == after.pop("airflow-node-readiness")
    # PgBouncer reads the database's password (its auth file).
    assert set(before) == {"airflow-scheduler", "airflow-webserver", "airflow-triggerer", "airflow-pgbouncer"}
    for name in before:
        assert before[name]["checksum/secrets"] != after[name]["checksum/secrets"]
        assert before[name]["checksum/config"] == after[name]["checksum/config"]
    # A digest only: no value appears in it.
    assert not any(v in before[name]["checksum/secrets"] for v in values.values())
