"""Single sign-on for the UI (`sso.*`): Airflow's webserver (Airflow 2) or api-server (Airflow 3) reads the
image's docker/webserver_config.py, which logs users in through the organization's OpenID Connect provider with
FAB's OAuth login and maps their groups to Airflow roles. The settings it reads are in the settings ConfigMap; the
client secret reaches the UI's pods only."""

from __future__ import annotations

import json

from k8s.spec import AirflowSpec

WEBSERVER_CONFIG = "/opt/image/webserver_config.py"  # docker/Dockerfile copies it there
CLIENT_SECRET_ENV = "AIRFLOW_SSO_CLIENT_SECRET"
PROVIDER = "oidc"  # the provider's name in FAB, and in the redirect URI


def sso_settings(spec: AirflowSpec) -> dict[str, str]:
    """The settings ConfigMap's part: where the FAB configuration is (Airflow 2's [webserver] config_file, the FAB
    provider's [fab] config_file on Airflow 3) and what it reads."""
    if not spec.sso_issuer_url:
        return {}
    return {
        ("AIRFLOW__FAB__CONFIG_FILE" if spec.airflow3 else "AIRFLOW__WEBSERVER__CONFIG_FILE"): WEBSERVER_CONFIG,
        "AIRFLOW_SSO_ISSUER_URL": spec.sso_issuer_url,
        "AIRFLOW_SSO_CLIENT_ID": spec.sso_client_id,
        "AIRFLOW_SSO_GROUPS_CLAIM": spec.sso_groups_claim,
        "AIRFLOW_SSO_USERNAME_CLAIM": spec.sso_username_claim,
        "AIRFLOW_SSO_SCOPES": " ".join(spec.sso_scopes),
        "AIRFLOW_SSO_ROLE_MAPPING": json.dumps({group: list(roles) for group, roles in spec.sso_role_mapping}, sort_keys=True),
        "AIRFLOW_SSO_RESERVED_USERNAMES": spec.admin_username,
    }


def client_secret_env(spec: AirflowSpec) -> list[dict]:
    """The client secret, for the UI's container only (no worker, scheduler or job has a use for it)."""
    from k8s.environment import SECRET, SSO_CLIENT_SECRET_KEY as CLIENT_SECRET_KEY  # k8s.environment imports this module

    if not spec.sso_issuer_url:
        return []
    return [{"name": CLIENT_SECRET_ENV, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": CLIENT_SECRET_KEY}}}]


def redirect_uri(spec: AirflowSpec) -> str:
    """What the provider must know: FAB's OAuth callback under the UI's URL (under /auth on Airflow 3, where the
    api-server mounts the FAB auth manager's app)."""
    return f"{spec.webserver_url}{'/auth' if spec.airflow3 else ''}/oauth-authorized/{PROVIDER}"
