"""`sso` (self-managed): users log in to Airflow's UI through the organization's OpenID Connect provider (Amazon
Cognito, Okta, Entra ID, Keycloak, ...), with Airflow roles from their groups. The managed flavour logs in through
IAM: `airflow-stack login`."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from stackconfig.errors import ConfigIssue
from stackconfig.section import Section, raise_if

# Airflow's built-in roles (FAB's, as Airflow creates them: Admin, Op, User, Viewer, Public).
AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")
_CLAIM = re.compile(r"^[A-Za-z0-9_:.\-/]{1,128}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 3.3: a scope token


class SsoSettings(Section):
    """Single sign-on for the self-managed UI through FAB's OAuth login (docker/webserver_config.py). Unset
    `issuerUrl`: the generated admin's password login. Register the redirect URI the `ssoRedirectUri` output names
    with the provider. The admin user stays as break-glass for the REST API and `airflow-stack`."""

    issuer_url: Optional[str] = None
    """Unset: off. the provider's issuer, an https URL whose `/.well-known/openid-configuration` answers (Cognito:
    `https://cognito-idp.<region>.amazonaws.com/<pool id>`; Okta: `https://<org>.okta.com/oauth2/default`; Entra ID:
    `https://login.microsoftonline.com/<tenant>/v2.0`; Keycloak: `https://<host>/realms/<realm>`); needs
    `workloads.webserverHostname` and `workloads.webserverCertificateArn`
    """
    client_id: Optional[str] = None
    """the client (application) id registered with the provider"""
    client_secret: Optional[str] = None
    """the client's secret: `pulumi config set --secret --path sso.clientSecret <value>`"""
    groups_claim: str = "groups"
    """the claim listing the user's groups, in the ID token or the userinfo answer (Cognito: `cognito:groups`)"""
    username_claim: str = "preferred_username"
    """the claim that names the user in Airflow: FAB logs a provider's user in as the Airflow user of that name, so a
    claim the provider controls, not one users may edit themselves (Cognito lets users change `preferred_username`:
    use `email` with verified addresses, or `sub`); a user without it is refused
    """
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    """the scopes asked for; `openid` among them (Okta: add `groups`)"""
    role_mapping: dict[str, list[str]] = Field(default_factory=dict)
    """group -> Airflow roles (Admin, Op, User, Viewer, Public), e.g. `{"airflow-admins": ["Admin"]}`; at every login
    a user gets the roles of their groups, and one in none of these groups is refused
    """

    @property
    def enabled(self) -> bool:
        return self.issuer_url is not None

    @model_validator(mode="after")
    def _check(self) -> "SsoSettings":
        if not self.enabled:
            return self
        issues: list[ConfigIssue] = []
        parts = urlsplit(self.issuer_url or "")
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            issues.append(ConfigIssue("issuerUrl", self.issuer_url, "an https URL without query, the provider's issuer"))
        if not self.client_id:
            issues.append(ConfigIssue("clientId", self.client_id, "the client id registered with the provider"))
        if not self.client_secret:
            issues.append(ConfigIssue("clientSecret", "[hidden]" if self.client_secret else self.client_secret,
                                      "the client's secret: pulumi config set --secret --path sso.clientSecret <value>"))
        if not _CLAIM.match(self.groups_claim):
            issues.append(ConfigIssue("groupsClaim", self.groups_claim, "a claim name such as groups or cognito:groups"))
        if not _CLAIM.match(self.username_claim):
            issues.append(ConfigIssue("usernameClaim", self.username_claim, "a claim name such as preferred_username, email or sub"))
        if "openid" not in self.scopes or not all(_SCOPE.match(s) for s in self.scopes):
            issues.append(ConfigIssue("scopes", self.scopes, "scope names, openid among them"))
        if not self.role_mapping:
            issues.append(ConfigIssue("roleMapping", self.role_mapping,
                                      'at least one group, e.g. {"airflow-admins": ["Admin"]}: nobody else may log in'))
        for group, roles in self.role_mapping.items():
            unknown = [r for r in roles if r not in AIRFLOW_ROLES]
            if not roles or unknown:
                issues.append(ConfigIssue(f'roleMapping."{group}"', roles, f"one or more of {', '.join(AIRFLOW_ROLES)}"))
        raise_if(issues)
        return self

    def check_deployment(self, *, managed: bool, hostname: Optional[str], certificate: Optional[str],
                         secret: bool) -> list[ConfigIssue]:
        """What single sign-on needs of the rest of the stack."""
        if not self.enabled:
            return []
        if managed:
            return [ConfigIssue("sso.issuerUrl", self.issuer_url,
                                "unset on the managed flavour: MWAA logs users in through IAM (airflow-stack login)")]
        issues = []
        if not hostname or not certificate:
            issues.append(ConfigIssue(
                "workloads.webserverHostname" if not hostname else "workloads.webserverCertificateArn",
                hostname if not hostname else certificate,
                "set with sso.issuerUrl: the provider sends users back to one https URL it knows "
                "(https://<webserverHostname>/oauth-authorized/oidc)"))
        if self.client_secret and not secret:
            issues.append(ConfigIssue("sso.clientSecret", "[hidden]",
                                      "a secret: pulumi config set --secret --path sso.clientSecret <value>"))
        return issues
