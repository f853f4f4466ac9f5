"""Airflow CLI and REST calls against the self-managed flavour.

The CLI command runs in a scheduler pod, as `kubectl exec` would run it, through the Kubernetes API with the
stack's kubeconfig; the REST call goes to the webserver's API with the admin user. How a command reaches a pod is
a transport: the cluster's in real use, a local process in the tests (the twin).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Optional, Sequence

from stackcli.errors import StackCliError
from stackcli.mwaa import CliResult

# argv -> (stdout, stderr, exit status)
Transport = Callable[[list[str]], tuple[str, str, int]]
SCHEDULER_SELECTOR = "app.kubernetes.io/name=airflow,app.kubernetes.io/component=scheduler"


def cluster_transport(kubeconfig: dict, namespace: str, container: str = "scheduler") -> Transport:
    """Exec in a running scheduler pod through the Kubernetes API (the `kubernetes` client)."""
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import stream

    api_client = config.new_client_from_config_dict(kubeconfig)
    core = client.CoreV1Api(api_client)

    def run(argv: list[str]) -> tuple[str, str, int]:
        try:
            pods = core.list_namespaced_pod(namespace, label_selector=SCHEDULER_SELECTOR, field_selector="status.phase=Running")
        except ApiException as err:
            raise StackCliError(f"the Kubernetes API refused to list pods in {namespace} ({err.status} {err.reason}): "
                                "is your IAM principal in cluster.adminPrincipalArns?") from err
        except Exception as err:  # noqa: BLE001 - unreachable endpoint, no `aws` for the token, ...
            raise StackCliError(f"cannot reach the cluster's API: {err}") from err
        if not pods.items:
            raise StackCliError(f"no running scheduler pod in namespace {namespace}")
        session = stream(
            core.connect_get_namespaced_pod_exec, pods.items[0].metadata.name, namespace, container=container,
            command=argv, stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False,
        )
        stdout, stderr = [], []
        while session.is_open():
            session.update(timeout=1)
            stdout.append(session.read_stdout() or "")
            stderr.append(session.read_stderr() or "")
        session.close()
        return "".join(stdout), "".join(stderr), int(session.returncode or 0)

    return run


class KubernetesTarget:
    """`airflow_version` picks the REST API: v1 with basic auth on Airflow 2; on Airflow 3 (v1 is gone) v2, with a
    JWT from the FAB auth manager's `POST /auth/token` for the same admin credentials."""

    def __init__(self, transport: Transport, *, webserver_url: Optional[str], username: str, password: Optional[str],
                 timeout: float = 60, airflow_version: Optional[str] = None):
        self.transport = transport
        self.webserver_url = webserver_url.rstrip("/") if webserver_url else None
        self.username = username
        self.password = password
        self.timeout = timeout
        self.airflow_version = airflow_version
        self._token: Optional[str] = None

    @property
    def airflow3(self) -> bool:
        return bool(self.airflow_version) and int(str(self.airflow_version).split(".")[0]) >= 3

    def run(self, command: Sequence[str]) -> CliResult:
        # Airflow logs INFO lines to stdout; quieter, `-o json` output stays parseable.
        stdout, stderr, status = self.transport(["env", "AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING", "airflow", *command])
        return CliResult(stdout=stdout, stderr=stderr, exit_status=status)

    def login_url(self) -> str:
        """The UI, which asks for a user (the admin: `pulumi stack output adminPassword --show-secrets`)."""
        if not self.webserver_url:
            raise StackCliError("no webserver URL: the stack has no webserverHostname yet; pass --webserver-url")
        return self.webserver_url + "/"

    def rest(self, method: str, path: str, query: Optional[dict] = None, body: Optional[Any] = None) -> tuple[int, Any]:
        if not self.webserver_url:
            raise StackCliError("no webserver URL: the stack has no webserverHostname yet; pass --webserver-url")
        if not self.password:
            raise StackCliError("no admin password: read the stack's outputs with secrets (--stack) or set it")
        if self.airflow3:
            if self._token is None:
                status, answer = self._call("POST", "/auth/token", {"username": self.username, "password": self.password}, {})
                if status >= 400 or not isinstance(answer, dict) or "access_token" not in answer:
                    return status, answer
                self._token = answer["access_token"]
            authorization, api = f"Bearer {self._token}", "/api/v2"
        else:
            credentials = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            authorization, api = f"Basic {credentials}", "/api/v1"
        url = f"{api}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return self._call(method, url, body, {"Authorization": authorization})

    def _call(self, method: str, path: str, body: Optional[Any], headers: dict[str, str]) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.webserver_url}{path}", method=method.upper(), data=json.dumps(body).encode() if body is not None else None,
            headers={**headers, "Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _json_or_text(response.read())
        except urllib.error.HTTPError as err:
            return err.code, _json_or_text(err.read())
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise StackCliError(
                f"cannot reach the webserver at {self.webserver_url}: {getattr(err, 'reason', err)}; an internal load "
                "balancer is reachable from the VPC only: `kubectl -n airflow port-forward svc/airflow-webserver "
                "8080:80` and --webserver-url http://localhost:8080"
            ) from err


def _json_or_text(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
