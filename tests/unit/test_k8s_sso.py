"""k8s/sso.py and docker/webserver_config.py: the UI logs users in through the OpenID Connect provider the stack
names; only the UI's pods get the client secret."""

from __future__ import annotations

import json
from dataclasses import replace

from k8s import environment
from k8s.manifests import airflow_objects
from k8s.pod_template import worker_pod_template
from k8s.sso import CLIENT_SECRET_ENV, WEBSERVER_CONFIG, redirect_uri
from stackconfig.project_files import PROJECT_DIR
from tests.unit.test_k8s_objects import SPEC

SSO = replace(SPEC, sso_issuer_url="https://idp.example.com/realms/data", sso_client_id="airflow",
              sso_groups_claim="cognito:groups", sso_role_mapping=(("data-admins", ("Admin",)), ("analysts", ("Viewer", "User"))),
              webserver_url="https://airflow.example.com", webserver_hostname_configured=True)


def _objects(spec):
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in airflow_objects(spec)}


def _secret_envs(container: dict) -> set[str]:
    return {e["name"] for e in container.get("env", []) if "valueFrom" in e}


def test_the_ui_reads_the_image_fab_configuration_with_the_stacks_provider_and_mapping():
    settings = _objects(SSO)[f"ConfigMap/{environment.config_map_name(SSO)}"]["data"]
    assert settings["AIRFLOW__WEBSERVER__CONFIG_FILE"] == WEBSERVER_CONFIG
    assert settings["AIRFLOW_SSO_ISSUER_URL"] == SSO.sso_issuer_url and settings["AIRFLOW_SSO_CLIENT_ID"] == "airflow"
    assert settings["AIRFLOW_SSO_GROUPS_CLAIM"] == "cognito:groups"
    assert json.loads(settings["AIRFLOW_SSO_ROLE_MAPPING"]) == {"data-admins": ["Admin"], "analysts": ["Viewer", "User"]}
    assert settings["AIRFLOW_SSO_RESERVED_USERNAMES"] == SSO.admin_username
    # Airflow 3 reads the FAB provider's option.
    settings3 = _objects(replace(SSO, airflow_version="3.3.2"))["ConfigMap/airflow-config-3-3-2"]["data"]
    assert settings3["AIRFLOW__FAB__CONFIG_FILE"] == WEBSERVER_CONFIG and "AIRFLOW__WEBSERVER__CONFIG_FILE" not in settings3


def test_only_the_ui_gets_the_client_secret():
    objects = _objects(SSO)
    assert environment.SSO_CLIENT_SECRET_KEY in objects["Secret/airflow-secrets"]["stringData"]
    holders = set()
    for key, obj in objects.items():
        if obj["kind"] in ("Deployment", "Job", "CronJob"):
            template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
            pod = template["spec"]
            for container in pod.get("initContainers", []) + pod["containers"]:
                if CLIENT_SECRET_ENV in _secret_envs(container):
                    holders.add((key, container["name"]))
    assert holders == {("Deployment/airflow-webserver", "webserver")}
    assert CLIENT_SECRET_ENV not in _secret_envs(worker_pod_template(SSO)["spec"]["containers"][0])


def test_without_sso_nothing_of_it_is_rendered():
    objects = _objects(SPEC)
    assert not any(k.startswith("AIRFLOW_SSO") or k.endswith("CONFIG_FILE")
                   for k in objects[f"ConfigMap/{environment.config_map_name(SPEC)}"]["data"])
    assert environment.SSO_CLIENT_SECRET_KEY not in objects["Secret/airflow-secrets"]["stringData"]


def test_the_redirect_uri_is_fabs_callback_under_the_uis_url():
    assert redirect_uri(SSO) == "https://airflow.example.com/oauth-authorized/oidc"
    assert redirect_uri(replace(SSO, airflow_version="3.3.2")) == "https://airflow.example.com/auth/oauth-authorized/oidc"


def test_the_image_carries_the_fab_configuration_it_names():
    dockerfile = (PROJECT_DIR / "docker" / "Dockerfile").read_text()
    assert f"COPY --chmod=0644 webserver_config.py {WEBSERVER_CONFIG}" in dockerfile
    assert (PROJECT_DIR / "docker" / "webserver_config.py").is_file()
