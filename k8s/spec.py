"""What the Kubernetes objects are built from: plain values, known once AWS resources exist (image, buckets, role
ARNs) or from the stack's settings. The wiring resolves Pulumi Outputs into this; tests and the twin fill it in
directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional

from k8s import identities

AIRFLOW_HOME = "/opt/airflow"
DAGS_FOLDER = f"{AIRFLOW_HOME}/dags"
POD_TEMPLATE_DIR = f"{AIRFLOW_HOME}/pod-template"
POD_TEMPLATE_FILE = f"{POD_TEMPLATE_DIR}/pod_template.yaml"
DAG_SYNC_SCRIPT = "/opt/image/dag_sync.py"
# The project's plugins, built into the image (docker/Dockerfile): read-only, the same in every pod.
PLUGINS_FOLDER = "/opt/image/plugins"
# The metadata database and the user Airflow connects as (the RDS instance's master user).
DATABASE_NAME = "airflow"
DATABASE_USER = "airflow"
# The RDS certificate authorities (every region's, global-bundle.pem from AWS's trust store), in the image
# (docker/Dockerfile), so that clients verify the server: RDS user guide, UsingWithRDS.SSL.
RDS_CA_BUNDLE = "/opt/image/rds-global-bundle.pem"
WEBSERVER_PORT = 8080
STATSD_PORT = 8125  # the CloudWatch agent's default StatsD address, ":8125" (k8s/metrics.py)
PGBOUNCER_PORT = 6543  # the Airflow chart's; 5432 stays the instance's, so a URL says which it reaches
DAG_PREFIX = "dags"
# Self-managed: the DAG folder as one archive, beside its files, for worker pods (docker/dag_sync.py --archive).
# Outside DAG_PREFIX, so neither the sidecars nor an MWAA environment ever read it as a DAG file.
DAG_ARCHIVE_KEY = "dag-archive/dags.zip"
TASK_LOG_PREFIX = "task-logs"


# Stand-ins for values that exist only once AWS resources do; the objects' shape does not depend on them.
PLACEHOLDER_IMAGE = "registry.invalid/airflow:placeholder@sha256:" + "0" * 64
PLACEHOLDER = "placeholder"
PLACEHOLDER_URL = "http://placeholder.invalid"


def webserver_url(hostname: str, certificate_arn: Optional[str]) -> str:
    """The UI's URL on the load balancer of k8s/service.py: HTTPS on 443 with a certificate, HTTP on 80 without."""
    return f"{'https' if certificate_arn else 'http'}://{hostname}"


@dataclass(frozen=True)
class Resources:
    cpu: str
    memory: str


@dataclass(frozen=True)
class AirflowSpec:
    environment: str
    namespace: str
    image: str  # repository:tag@sha256:digest
    region: str
    dag_bucket: str
    log_bucket: str
    # Service account name -> IAM role ARN (IRSA).
    role_arns: Mapping[str, str]
    # secrets.backend and secrets.backend_kwargs, as airflow_options.secrets_backend_options gives them.
    secrets_backend: Mapping[str, str]
    configuration_options: Mapping[str, str] = field(default_factory=dict)
    scheduler_replicas: int = 1
    webserver_replicas: int = 1
    triggerer_replicas: int = 1
    webserver_exposure: Literal["internal", "internet-facing"] = "internal"
    webserver_allowed_cidrs: tuple[str, ...] = ()
    webserver_certificate_arn: Optional[str] = None
    # Where users reach the UI (Airflow's base URL): from the configured host name, or once the load balancer
    # exists, its DNS name (a late field, k8s/manifests.py).
    webserver_url: str = PLACEHOLDER_URL
    webserver_hostname_configured: bool = False
    # A digest of the Secret's values (k8s/environment.py secrets_checksum): pods read them as environment variables
    # once, at start, so the Deployments carry it to roll when one changes (a late field: the values are Outputs).
    secrets_checksum: str = PLACEHOLDER
    resources: Mapping[str, Resources] = field(
        default_factory=lambda: {
            "scheduler": Resources("1", "2Gi"),
            "webserver": Resources("500m", "2Gi"),
            "triggerer": Resources("250m", "1Gi"),
            "worker": Resources("500m", "1Gi"),
            "dag-processor": Resources("500m", "1Gi"),
        }
    )
    worker_pods_creation_batch_size: int = 8
    dag_sync_interval_seconds: int = 30
    admin_username: str = "admin"
    airflow_version: str = "2.9.3"
    # Housekeeping (k8s/housekeeping.py): the metadata database's history (0: kept) and the components' log files.
    metadata_retention_days: int = 90
    metadata_clean_schedule: str = "30 3 * * *"
    component_log_retention_days: int = 7
    # PgBouncer (k8s/pgbouncer.py): 0 replicas, none (every pod connects to the instance itself). The instance's
    # host name is a late field: it exists once the instance does.
    pgbouncer_replicas: int = 2
    pgbouncer_pool_size: int = 20
    pgbouncer_max_client_connections: int = 1000
    database_host: str = PLACEHOLDER
    # Single sign-on (sso.*, k8s/sso.py): off without an issuer. (group, roles) pairs, in the order configured.
    sso_issuer_url: str = ""
    sso_client_id: str = ""
    sso_groups_claim: str = "groups"
    sso_username_claim: str = "preferred_username"
    sso_scopes: tuple[str, ...] = ("openid", "email", "profile")
    sso_role_mapping: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Airflow's metrics shipped beside the ones the alarms read (monitoring.airflowMetricPrefixes, k8s/metrics.py).
    extra_metric_prefixes: tuple[str, ...] = ()

    @property
    def airflow3(self) -> bool:
        """Airflow 3's architecture: the api-server for the UI and the workers' execution API, a DAG processor of
        its own, JWTs signed with a secret every component shares."""
        return not self.airflow_version.startswith("2.")

    @property
    def base_url_reached_by_users(self) -> bool:
        """Whether users reach the UI at `webserver_url`: a configured host name, or a load balancer on the
        internet; an internal load balancer's name answers inside the VPC only."""
        return self.webserver_hostname_configured or self.webserver_exposure == "internet-facing"

    @property
    def image_repository(self) -> str:
        name = self.image.split("@", 1)[0]
        return name.rsplit(":", 1)[0]

    @property
    def image_tag(self) -> str:
        """The tag as the KubernetesExecutor joins it to the repository: tag and digest."""
        return self.image[len(self.image_repository) + 1 :]

    @property
    def version_suffix(self) -> str:
        """The Airflow version in a Kubernetes name: the settings and pod template a version's pods read are named
        for it, so that an upgrade creates new ones beside the old, and an old pod that restarts while the migration
        runs (or after it failed) still reads its own version's settings."""
        return self.airflow_version.replace(".", "-")

    @property
    def migration_id(self) -> str:
        """Changes with the image, so that every new image runs the migrations once."""
        tag = self.image_tag
        digest = tag.split("sha256:", 1)[1] if "sha256:" in tag else tag.replace(".", "-")
        return digest[:10].lower()


def spec_from_settings(settings, *, environment: str, secrets_backend: Mapping[str, str]) -> AirflowSpec:
    """The plain part of the spec from the stack's settings; image, buckets and role ARNs are placeholders here."""
    workloads, pooler = settings.workloads, settings.database.pgbouncer
    return AirflowSpec(
        environment=environment,
        namespace=settings.cluster.namespace,
        image=PLACEHOLDER_IMAGE,
        region=settings.region,
        dag_bucket=PLACEHOLDER,
        log_bucket=PLACEHOLDER,
        role_arns={account: PLACEHOLDER for account in identities.service_accounts(settings.airflow.version)},
        secrets_backend=dict(secrets_backend),
        configuration_options={k: str(v) for k, v in settings.airflow.configuration_options.items()},
        scheduler_replicas=workloads.scheduler_replicas,
        webserver_replicas=workloads.webserver_replicas,
        triggerer_replicas=workloads.triggerer_replicas,
        webserver_exposure=workloads.webserver_exposure,
        webserver_allowed_cidrs=tuple(workloads.webserver_allowed_cidrs),
        webserver_certificate_arn=workloads.webserver_certificate_arn,
        webserver_url=webserver_url(workloads.webserver_hostname, workloads.webserver_certificate_arn)
        if workloads.webserver_hostname
        else PLACEHOLDER_URL,
        webserver_hostname_configured=bool(workloads.webserver_hostname),
        resources={
            **{
                component: Resources(getattr(workloads, component).cpu, getattr(workloads, component).memory)
                for component in ("scheduler", "webserver", "triggerer", "worker")
            },
            # Airflow 3's DAG processor parses what the scheduler parsed on Airflow 2: the scheduler's size.
            "dag-processor": Resources(workloads.scheduler.cpu, workloads.scheduler.memory),
        },
        worker_pods_creation_batch_size=workloads.worker_pods_creation_batch_size,
        dag_sync_interval_seconds=workloads.dag_sync_interval_seconds,
        admin_username=workloads.admin_username,
        airflow_version=settings.airflow.version,
        metadata_retention_days=workloads.metadata_retention_days,
        metadata_clean_schedule=workloads.metadata_clean_schedule,
        component_log_retention_days=workloads.component_log_retention_days,
        extra_metric_prefixes=tuple(settings.monitoring.airflow_metric_prefixes),
        sso_issuer_url=settings.sso.issuer_url or "",
        sso_client_id=settings.sso.client_id or "",
        sso_groups_claim=settings.sso.groups_claim,
        sso_username_claim=settings.sso.username_claim,
        sso_scopes=tuple(settings.sso.scopes),
        sso_role_mapping=tuple((group, tuple(roles)) for group, roles in settings.sso.role_mapping.items()),
        pgbouncer_replicas=pooler.replicas if pooler.enabled else 0,
        pgbouncer_pool_size=pooler.pool_size,
        pgbouncer_max_client_connections=pooler.max_client_connections,
    )
