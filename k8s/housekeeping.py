"""What keeps a long-running deployment from filling up: a CronJob that deletes the metadata database's old history
(`airflow db clean`, the entrypoint's db-clean role), and a sidecar beside each component that writes log files of
its own, deleting the old ones (the entrypoint's log-groomer role)."""

from __future__ import annotations

from k8s import rbac
from k8s.containers import (
    CHECKOV_SKIPS,
    MOUNTS,
    POD_ANNOTATIONS,
    VOLUMES,
    airflow_container,
    checkov_annotations,
    container_security_context,
    labels,
    pod_security_context,
    resources,
)
from k8s.spec import AIRFLOW_HOME, AirflowSpec, Resources

METADATA_CLEANUP = "airflow-metadata-cleanup"
# bash and find: what the sidecar needs of the image.
LOG_GROOMER_RESOURCES = Resources("10m", "64Mi")
CLEAN_BATCH_ROWS = 10000  # Airflow 3's `db clean --batch-size`
LOG_GROOMER_INTERVAL_SECONDS = 900
LOG_GROOMER_STATE = ".log-groomer"  # in AIRFLOW_HOME, rewritten after each pass (the entrypoint's default)


def metadata_cleanup(spec: AirflowSpec) -> dict:
    """`airflow db clean` once a day (the schedule is UTC), under the migration Job's account: the database only."""
    component = labels(spec, "metadata-cleanup")
    # Airflow 2 logs a table it could not clean and exits 0; Airflow 3 can fail the Job instead, and delete in
    # batches, each its own transaction, so the schedulers are not held up behind one long delete per table.
    extra = ["--error-on-cleanup-failure", "--batch-size", str(CLEAN_BATCH_ROWS)] if spec.airflow3 else []
    container = airflow_container(
        spec, "db-clean", ["db-clean", *extra], spec.resources["scheduler"],
        extra_env=[{"name": "DB_CLEAN_RETENTION_DAYS", "value": str(spec.metadata_retention_days)}],
        # Straight to the instance, as the migrations: a maintenance job's long deletes hold none of the pool's
        # connections that the schedulers and tasks share.
        direct_database=True,
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": METADATA_CLEANUP, "namespace": spec.namespace, "labels": component,
                     "annotations": checkov_annotations(CHECKOV_SKIPS)},
        "spec": {
            "schedule": spec.metadata_clean_schedule,
            "timeZone": "Etc/UTC",
            # One at a time: a clean that overruns its day is not joined by the next.
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": component},
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": 6 * 3600,
                    "ttlSecondsAfterFinished": 7 * 86400,
                    "template": {
                        "metadata": {"labels": component, "annotations": POD_ANNOTATIONS},
                        "spec": {
                            "serviceAccountName": rbac.MIGRATE,
                            "automountServiceAccountToken": False,
                            "restartPolicy": "Never",
                            "securityContext": pod_security_context(),
                            "containers": [container],
                            "volumes": VOLUMES,
                        },
                    },
                },
            },
        },
    }


def log_groomer_container(spec: AirflowSpec) -> dict:
    """Deletes the pod's own Airflow log files after their retention; restarted if its passes stop. It reads no
    Airflow setting and no secret (AIRFLOW_HOME is the image's), so it gets neither the settings nor the Secret."""
    fresh = (f"import os,sys,time;p=os.path.join(os.environ.get('AIRFLOW_HOME','{AIRFLOW_HOME}'),'{LOG_GROOMER_STATE}');"
             f"sys.exit(0 if os.path.exists(p) and time.time()-os.path.getmtime(p)<{3 * LOG_GROOMER_INTERVAL_SECONDS} else 1)")
    return {
        "name": "log-groomer",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["log-groomer"],
        "env": [{"name": "LOG_RETENTION_DAYS", "value": str(spec.component_log_retention_days)},
                {"name": "LOG_GROOMER_INTERVAL_SECONDS", "value": str(LOG_GROOMER_INTERVAL_SECONDS)}],
        "resources": resources(LOG_GROOMER_RESOURCES),
        "securityContext": container_security_context(),
        "volumeMounts": MOUNTS,
        "livenessProbe": {"exec": {"command": ["python", "-c", fresh]}, "initialDelaySeconds": 60, "periodSeconds": 300,
                          "timeoutSeconds": 30, "failureThreshold": 3},
    }
