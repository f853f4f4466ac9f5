"""An OpenID Connect provider on loopback for the twin's single sign-on: the `oidc-provider-mock` package (its own
Python 3.12 environment, tests/runtime/oidc-mock-requirements.lock), with the users and groups the twin's tests log
in as. Any client id and secret are accepted; a user logs in by posting their `sub` to the authorize page."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

from local import processes

# The twin's role mapping (sso.roleMapping) and the users that test it: their groups, and what Airflow must do.
ROLE_MAPPING = {"airflow-admins": ["Admin"], "airflow-viewers": ["Viewer"]}
USERS = [
    {"sub": "alice", "preferred_username": "alice", "email": "alice@example.com", "groups": ["airflow-admins"]},
    {"sub": "victor", "preferred_username": "victor", "email": "victor@example.com", "groups": ["airflow-viewers", "staff"]},
    # In no mapped group: refused.
    {"sub": "mallory", "preferred_username": "mallory", "email": "mallory@example.com", "groups": ["contractors"]},
    # Named like the generated admin (in another case): refused, not logged in as the break-glass account.
    {"sub": "impostor", "preferred_username": "Admin", "email": "impostor@example.com", "groups": ["airflow-viewers"]},
]


class OidcProvider:
    def __init__(self, bin_dir: Path, port: int, log: Path, users: list[dict] | None = None):
        self.bin, self.port, self.log = bin_dir, port, log
        self.users = USERS if users is None else users
        self.process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "OidcProvider":
        from local.twin import wait_until

        argv = [str(self.bin / "oidc-provider-mock"), "--host", "127.0.0.1", "--port", str(self.port)]
        for user in self.users:
            argv += ["--user-claims", json.dumps(user)]
        self.process = subprocess.Popen(argv, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration").status == 200, 60,
                   f"the OpenID Connect provider did not come up; see {self.log}")
        return self

    def stop(self) -> None:
        processes.stop(self.process)
