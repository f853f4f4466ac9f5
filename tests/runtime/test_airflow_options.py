"""Every `AIRFLOW__SECTION__OPTION` the program gives Airflow's pods is an option of the Airflow version they run
(with its providers' sections), under its current name: a misspelt or moved option is silently ignored by Airflow
(Airflow 3 moved `[webserver] base_url` to `[api]`, for one), so this asks each offered version itself. The stack
file's own `airflow.configurationOptions` are left out: they are the user's (Pulumi.prod.yaml sets MWAA's
`celery.worker_autoscale`, which a KubernetesExecutor ignores)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from k8s.environment import airflow_settings, secret_env
from k8s.spec import spec_from_settings
from stackconfig.airflow_options import secrets_backend_options
from stackconfig.load import from_stack_file
from stackconfig.project_files import PROJECT_DIR, offered_image_versions

pytestmark = pytest.mark.runtime
PROBE = Path(__file__).with_name("airflow_option_probe.py")


def airflow_options(version: str) -> list[str]:
    settings = from_stack_file(PROJECT_DIR, "prod", {"flavour": "self-managed"})
    spec = replace(spec_from_settings(settings, environment=settings.name,
                                      secrets_backend=secrets_backend_options(**settings.secrets_backend)),
                   airflow_version=version, configuration_options={},
                   # Every option the program may set: single sign-on's (the UI's FAB configuration file) too.
                   sso_issuer_url="https://idp.example.com", sso_client_id="airflow",
                   sso_role_mapping=(("admins", ("Admin",)),))
    return sorted(name for name in {*airflow_settings(spec), *secret_env(spec).values()} if name.startswith("AIRFLOW__"))


def probe(bin_dir: Path, names: list[str], tmp_path: Path) -> dict[str, dict]:
    done = subprocess.run([str(bin_dir / "python"), str(PROBE)], input=json.dumps(names), capture_output=True,
                          text=True, timeout=300, env={"PATH": str(bin_dir), "TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("version", offered_image_versions())
def test_each_option_the_pods_get_is_one_that_airflow_version_reads(version, image_envs, tmp_path):
    found = probe(image_envs[version], airflow_options(version), tmp_path)
    wrong = {name: verdict for name, verdict in found.items() if not verdict["known"] or verdict["moved_to"]}
    assert wrong == {}


def test_the_probe_tells_a_moved_and_an_unknown_option(image_envs, tmp_path):
    airflow3 = next(v for v in offered_image_versions() if not v.startswith("2."))
    found = probe(image_envs[airflow3], ["AIRFLOW__WEBSERVER__BASE_URL", "AIRFLOW__CORE__NO_SUCH_OPTION",
                                         "AIRFLOW__API__BASE_URL"], tmp_path)
    assert found == {"AIRFLOW__WEBSERVER__BASE_URL": {"known": False, "moved_to": "api.base_url"},
                     "AIRFLOW__CORE__NO_SUCH_OPTION": {"known": False, "moved_to": None},
                     "AIRFLOW__API__BASE_URL": {"known": True, "moved_to": None}}
