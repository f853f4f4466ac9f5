"""Single sign-on on the twin: users log in to the webserver through a local OpenID Connect provider with the
image's docker/webserver_config.py and the settings the stack renders (k8s/sso.py). A user of a mapped group gets
its Airflow role; a user in none is refused and not registered; the generated admin still works as break-glass
through the REST API."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from local.chaos import rest
from local.oidc_provider import ROLE_MAPPING

pytestmark = pytest.mark.runtime


def _log_in(twin, sub: str) -> tuple[requests.Session, requests.Response]:
    """What a browser does: the UI's login sends it to the provider, the user signs in there, the provider sends it
    back to the UI's callback with a code."""
    web = f"http://127.0.0.1:{twin.web_port}"
    prefix = "/auth" if twin.spec.airflow3 else ""
    session = requests.Session()
    start = session.get(f"{web}{prefix}/login/oidc", allow_redirects=False, timeout=30)
    assert start.status_code == 302, start.text[:500]
    authorize = start.headers["Location"]
    assert authorize.startswith(twin.spec.sso_issuer_url), authorize
    signed_in = session.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=30)
    assert signed_in.status_code == 302, signed_in.text[:500]
    callback = signed_in.headers["Location"]
    # Back at the UI's own URL (its base URL), at FAB's callback.
    assert callback.startswith(f"{twin.spec.webserver_url}{prefix}/oauth-authorized/oidc?"), callback
    return session, session.get(callback, allow_redirects=False, timeout=60)


def _roles(twin, username: str) -> set[str]:
    rows = twin.postgres.query(
        "select r.name from ab_user u join ab_user_role ur on ur.user_id = u.id join ab_role r on r.id = ur.role_id "
        f"where u.username = '{username}'")
    return {row[0] for row in rows}


def test_a_user_of_a_mapped_group_logs_in_with_its_role(twin):
    for user, role in (("alice", "Admin"), ("victor", "Viewer")):
        session, landed = _log_in(twin, user)
        assert landed.status_code == 302 and "/login" not in urlsplit(landed.headers["Location"]).path, landed.headers
        assert role in _roles(twin, user) and not (_roles(twin, user) - {role, "Public"}), _roles(twin, user)
        # The session is the user's: the REST API (session auth) answers as them.
        api = "/api/v2" if twin.spec.airflow3 else "/api/v1"
        assert session.get(f"http://127.0.0.1:{twin.web_port}{api}/dags", timeout=30).status_code == 200
    assert set(ROLE_MAPPING) == {"airflow-admins", "airflow-viewers"}


def test_a_user_in_no_mapped_group_is_refused_and_not_registered(twin):
    _session, landed = _log_in(twin, "mallory")
    assert landed.status_code == 302 and "/login" in urlsplit(landed.headers["Location"]).path, landed.headers
    assert not twin.postgres.query("select id from ab_user where username = 'mallory'")


def test_the_generated_admin_stays_as_break_glass(twin):
    admin, _password = twin.admin
    before = _roles(twin, admin)
    # A provider's user named like the admin (FAB finds users by lower(username)) is refused, and the admin keeps
    # its roles (a login would have synced them to the impostor's groups).
    _session, landed = _log_in(twin, "impostor")
    assert landed.status_code == 302 and "/login" in urlsplit(landed.headers["Location"]).path, landed.headers
    assert _roles(twin, admin) == before and "Admin" in before
    # The REST API with the admin's password (airflow-stack's way), while the UI logs in through the provider.
    assert rest(twin, "GET", "/dags") is not None
