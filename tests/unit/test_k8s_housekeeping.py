"""k8s/housekeeping.py: the metadata cleanup CronJob and the log groomer sidecars, as the stack's settings give them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from k8s import rbac
from k8s.housekeeping import METADATA_CLEANUP
from k8s.manifests import airflow_objects
from tests.unit.test_k8s_objects import SPEC


def _objects(spec):
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in airflow_objects(spec)}


def test_the_cleanup_runs_db_clean_on_its_schedule_with_the_retention_and_the_database_only():
    spec = replace(SPEC, metadata_retention_days=45, metadata_clean_schedule="0 2 * * SUN")
    cron = _objects(spec)[f"CronJob/{METADATA_CLEANUP}"]["spec"]
    assert cron["schedule"] == "0 2 * * SUN" and cron["timeZone"] == "Etc/UTC" and cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["db-clean"]
    assert {"name": "DB_CLEAN_RETENTION_DAYS", "value": "45"} in container["env"]
    # The migration Job's account: no IAM role, no Kubernetes API token.
    assert pod["serviceAccountName"] == rbac.MIGRATE and pod["automountServiceAccountToken"] is False


def test_on_airflow_3_a_table_that_could_not_be_cleaned_fails_the_job_and_rows_go_in_batches():
    container = _objects(replace(SPEC, airflow_version="3.3.2"))[f"CronJob/{METADATA_CLEANUP}"]["spec"]["jobTemplate"][
        "spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["db-clean", "--error-on-cleanup-failure", "--batch-size", "10000"]


def test_no_retention_no_cleanup():
    assert not any(k.startswith("CronJob/") for k in _objects(replace(SPEC, metadata_retention_days=0)))


@pytest.mark.parametrize("version", ["2.9.3", "3.3.2"])
def test_each_component_that_writes_its_own_logs_has_a_groomer_that_reads_no_secret(version):
    objects = _objects(replace(SPEC, airflow_version=version, component_log_retention_days=3))
    groomed = {name.split("/", 1)[1] for name, o in objects.items() if o["kind"] == "Deployment"
               and any(c["name"] == "log-groomer" for c in o["spec"]["template"]["spec"]["containers"])}
    assert groomed == {"airflow-scheduler", "airflow-triggerer", *({"airflow-dag-processor"} if version.startswith("3.") else ())}
    groomer = next(c for c in objects["Deployment/airflow-scheduler"]["spec"]["template"]["spec"]["containers"]
                   if c["name"] == "log-groomer")
    assert groomer["args"] == ["log-groomer"] and "envFrom" not in groomer
    assert all("valueFrom" not in e for e in groomer["env"]) and {"name": "LOG_RETENTION_DAYS", "value": "3"} in groomer["env"]
    # The same emptyDir as the component: it sees the component's log files.
    assert {"name": "airflow-home", "mountPath": "/opt/airflow"} in groomer["volumeMounts"]
    assert "livenessProbe" in groomer
