"""Airflow's FAB security settings for single sign-on through the organization's OpenID Connect provider (the
stack's `sso.*`). The webserver (Airflow 2) or the api-server (Airflow 3) reads this file when
`[webserver] config_file` / `[fab] config_file` names it (k8s/sso.py sets both only when `sso.issuerUrl` is set);
what it needs comes from the pod's environment: the settings ConfigMap, and the client secret from the Secret.

Users log in at the provider; the groups in the claim `AIRFLOW_SSO_GROUPS_CLAIM` map to Airflow roles
(`AUTH_ROLES_MAPPING`), again at every login. A user in none of the mapped groups is refused, not registered
without rights. The generated admin user stays as break-glass: the REST API and `airflow-stack` keep its password
(basic auth on Airflow 2, `/auth/token` on Airflow 3), and turning `sso` off gives the password login back.
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import urlsplit, urlunsplit

from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
from flask_appbuilder.const import AUTH_OAUTH

log = logging.getLogger(__name__)

PROVIDER = "oidc"
_ISSUER = os.environ["AIRFLOW_SSO_ISSUER_URL"].rstrip("/")
_GROUPS_CLAIM = os.environ.get("AIRFLOW_SSO_GROUPS_CLAIM", "groups")
# Where users reach the UI (Airflow's base URL: the configured host name, https with a certificate). The load
# balancer ends TLS and forwards no headers, so the app sees http and its own address; the redirect URI the provider
# knows is built on this instead: <base>/oauth-authorized/oidc (Airflow 3: <base>/auth/oauth-authorized/oidc).
_BASE_URL = os.environ.get("AIRFLOW__API__BASE_URL") or os.environ.get("AIRFLOW__WEBSERVER__BASE_URL") or ""
# The generated admin's name: an identity provider's user of that name does not become the break-glass account.
# FAB finds users by lower(username), so the comparison ignores case.
_RESERVED = {name.casefold() for name in os.environ.get("AIRFLOW_SSO_RESERVED_USERNAMES", "").split(",") if name}
# The claim that names the user in Airflow (sso.usernameClaim): one the provider controls, since FAB logs a user in
# as the Airflow user of that name.
_USERNAME_CLAIM = os.environ.get("AIRFLOW_SSO_USERNAME_CLAIM", "preferred_username")

AUTH_TYPE = AUTH_OAUTH
AUTH_USER_REGISTRATION = True
AUTH_USER_REGISTRATION_ROLE = "Public"  # no rights of its own; the mapped roles come with it
AUTH_ROLES_MAPPING: dict[str, list[str]] = json.loads(os.environ["AIRFLOW_SSO_ROLE_MAPPING"])
AUTH_ROLES_SYNC_AT_LOGIN = True
# A login lasts a working day at most; the next one reads the groups again.
PERMANENT_SESSION_LIFETIME = 12 * 3600
OAUTH_PROVIDERS = [
    {
        "name": PROVIDER,
        "icon": "fa-key",
        "token_key": "access_token",
        "remote_app": {
            "client_id": os.environ["AIRFLOW_SSO_CLIENT_ID"],
            # Only the UI's pods get it; other Airflow commands that build the app (`airflow users`) need none.
            "client_secret": os.environ.get("AIRFLOW_SSO_CLIENT_SECRET", ""),
            # OpenID Connect discovery: authlib reads the endpoints and keys there, and checks the ID token's
            # issuer, audience, signature and nonce against them.
            "server_metadata_url": f"{_ISSUER}/.well-known/openid-configuration",
            "client_kwargs": {"scope": os.environ.get("AIRFLOW_SSO_SCOPES", "openid email profile")},
        },
    }
]


def _claims(security_manager, provider: str, response: dict) -> dict:
    """The ID token's claims (authlib checked them), with the userinfo endpoint's for what the token leaves out
    (Okta and Keycloak put groups there; Cognito only in the token)."""
    claims = dict(response.get("userinfo") or {})
    try:
        claims = {**dict(security_manager.oauth_remotes[provider].userinfo(token=response)), **claims}
    except Exception as err:  # noqa: BLE001 - the token's claims may be all there is
        log.info("no userinfo from %s: %s", provider, err)
    return claims


def _at_base_url(redirect_uri: str) -> str:
    if not _BASE_URL or not redirect_uri:
        return redirect_uri
    base, uri = urlsplit(_BASE_URL), urlsplit(redirect_uri)
    return urlunsplit((base.scheme, base.netloc, uri.path, uri.query, uri.fragment))


class OidcSecurityManager(FabAirflowSecurityManagerOverride):
    """FAB knows a few providers by name; any OpenID Connect provider is read here, from its standard claims."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for remote in self.oauth_remotes.values():  # authlib keeps the redirect URI for the token exchange too
            remote.authorize_redirect = _redirecting_at_base_url(remote.authorize_redirect)

    def get_oauth_user_info(self, provider: str, resp: dict) -> dict:
        claims = _claims(self, provider, resp)
        groups = claims.get(_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        return {
            "username": str(claims.get(_USERNAME_CLAIM) or ""),
            "email": claims.get("email", ""),
            "first_name": claims.get("given_name", ""),
            "last_name": claims.get("family_name", ""),
            "role_keys": [str(group) for group in groups],
        }

    def auth_user_oauth(self, userinfo, *args, **kwargs):
        mapped = set(userinfo.get("role_keys") or []) & set(AUTH_ROLES_MAPPING)
        if not mapped:
            log.warning("refused %r: in none of the groups sso.roleMapping maps", userinfo.get("username"))
            return None
        if str(userinfo.get("username", "")).casefold() in _RESERVED:
            log.warning("refused %r: the break-glass admin's name", userinfo.get("username"))
            return None
        return super().auth_user_oauth(userinfo, *args, **kwargs)


def _redirecting_at_base_url(authorize_redirect):
    def redirect(redirect_uri=None, **kwargs):
        return authorize_redirect(redirect_uri=_at_base_url(redirect_uri), **kwargs)

    return redirect


SECURITY_MANAGER_CLASS = OidcSecurityManager
