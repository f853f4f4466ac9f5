"""Airflow CLI and REST calls against an Amazon MWAA environment.

The CLI goes through a CLI token (CreateCliToken, valid 60 seconds) and `POST https://<webserver>/aws_mwaa/cli`
with the command as plain text; the answer carries stdout and stderr base64-encoded. The REST API goes through
InvokeRestApi. Commands are sent one at a time; a token is reused while it is young enough.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from stackcli.errors import StackCliError
from stackcli.supported import check_supported

TOKEN_LIFETIME_SECONDS = 60
# A token is not reused in its last seconds: the request must arrive while it is still valid.
TOKEN_REUSE_SECONDS = TOKEN_LIFETIME_SECONDS - 15
_ERROR_MARKERS = ("airflow command error", "Traceback (most recent call last)")


@dataclass
class CliResult:
    stdout: str
    stderr: str
    # Known when the command ran in a pod; MWAA's endpoint does not say.
    exit_status: Optional[int] = None

    @property
    def failed(self) -> bool:
        """A pod's exit status when there is one; MWAA answers 200 whatever Airflow did, so there Airflow's own
        error lines say a command failed."""
        if self.exit_status is not None:
            return self.exit_status != 0
        return any(marker in self.stderr for marker in _ERROR_MARKERS)


def decode(field: Optional[str]) -> str:
    """MWAA's base64 fields: empty or missing is '', missing padding is tolerated, bytes that are not UTF-8 are
    shown replaced rather than crashing the command."""
    if not field:
        return ""
    text = field.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise StackCliError(f"MWAA returned output that is not base64 ({err})") from err
    return raw.decode("utf-8", errors="replace")


class MwaaTarget:
    def __init__(
        self,
        client: Any,
        environment: str,
        *,
        url_for: Callable[[str], str] = lambda host: f"https://{host}/aws_mwaa/cli",
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 60,
    ):
        self.client = client
        self.environment = environment
        self.url_for = url_for
        self.clock = clock
        self.timeout = timeout
        self._token: Optional[tuple[str, str, float]] = None
        self._details: Optional[dict] = None

    # ------------------------------------------------------------------ environment
    def details(self) -> dict:
        if self._details is None:
            self._details = self._call("airflow:GetEnvironment", self.client.get_environment)["Environment"]
        status = self._details.get("Status")
        if status != "AVAILABLE":
            raise StackCliError(
                f"environment {self.environment} is {status}, not AVAILABLE: commands run only on an available "
                "environment (creating and updating take 20-30 minutes)"
            )
        return self._details

    def _call(self, action: str, operation: Callable[..., dict]) -> dict:
        """An MWAA API call on this environment; a refusal names the permission it needed."""
        try:
            return operation(Name=self.environment)
        except ClientError as err:
            raise _explain(err, self.environment, action) from err
        except BotoCoreError as err:  # no credentials, no network, no Region
            raise StackCliError(f"cannot call the MWAA API: {err}") from err

    # ------------------------------------------------------------------ CLI
    def token(self) -> tuple[str, str]:
        now = self.clock()
        if self._token is not None and now - self._token[2] < TOKEN_REUSE_SECONDS:
            return self._token[0], self._token[1]
        answer = self._call("airflow:CreateCliToken", self.client.create_cli_token)
        self._token = (answer["CliToken"], answer["WebServerHostname"], now)
        return self._token[0], self._token[1]

    def run(self, command: Sequence[str]) -> CliResult:
        """Run one Airflow CLI command (without the word `airflow`)."""
        details = self.details()
        check_supported(command, details.get("AirflowVersion", ""))
        for attempt in (1, 2):
            token, host = self.token()
            status, body = self._post(host, token, " ".join(command))
            if status in (401, 403) and attempt == 1:
                self._token = None  # expired or revoked: one fresh token, one retry
                continue
            if status in (401, 403):
                raise StackCliError(
                    f"the webserver refused the CLI token ({status}): check airflow:CreateCliToken on "
                    f"{self.environment} and that your clock is right"
                )
            if status >= 400:
                raise StackCliError(f"MWAA's CLI endpoint answered {status}: {body[:300]}")
            try:
                answer = json.loads(body)
            except ValueError as err:
                raise StackCliError(f"MWAA's CLI endpoint answered something that is not JSON: {body[:200]!r}") from err
            return CliResult(stdout=decode(answer.get("stdout")), stderr=decode(answer.get("stderr")))
        raise AssertionError("unreachable")

    def _post(self, host: str, token: str, command: str) -> tuple[int, str]:
        request = urllib.request.Request(
            self.url_for(host),
            data=command.encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            mode = self._details.get("WebserverAccessMode") if self._details else None
            hint = (
                "the webserver is private (PRIVATE_ONLY): run from inside the VPC (VPN, bastion, CI runner in the "
                "VPC), or use `rest`, which goes through the MWAA API"
                if mode == "PRIVATE_ONLY"
                else "check your network"
            )
            raise StackCliError(f"cannot reach the webserver {host}: {getattr(err, 'reason', err)}; {hint}") from err

    # ------------------------------------------------------------------ the UI
    def login_url(self) -> str:
        """A one-time login to the Airflow UI as the caller's IAM identity (CreateWebLoginToken; MWAA user guide,
        call-mwaa-apis-web: the token is exchanged at /aws_mwaa/aws-console-sso), for a browser to open at once."""
        self.details()
        answer = self._call("airflow:CreateWebLoginToken", self.client.create_web_login_token)
        return f"https://{answer['WebServerHostname']}/aws_mwaa/aws-console-sso?login=true#{answer['WebToken']}"

    # ------------------------------------------------------------------ REST
    def rest(self, method: str, path: str, query: Optional[dict] = None, body: Optional[dict] = None) -> tuple[int, Any]:
        self.details()
        request: dict[str, Any] = {"Name": self.environment, "Path": path, "Method": method.upper()}
        if query:
            request["QueryParameters"] = query
        if body is not None:
            request["Body"] = body
        try:
            answer = self.client.invoke_rest_api(**request)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code in ("RestApiClientException", "RestApiServerException"):
                return int(err.response.get("RestApiStatusCode", 400 if "Client" in code else 500)), err.response.get(
                    "RestApiResponse", err.response.get("Error", {}).get("Message")
                )
            raise _explain(err, self.environment, "airflow:InvokeRestApi") from err
        except BotoCoreError as err:
            raise StackCliError(f"cannot call the MWAA API: {err}") from err
        return int(answer["RestApiStatusCode"]), answer.get("RestApiResponse")


def _explain(err: ClientError, environment: str, action: str) -> StackCliError:
    code = err.response.get("Error", {}).get("Code", "")
    message = err.response.get("Error", {}).get("Message", "")
    if code == "AccessDeniedException":
        return StackCliError(
            f"missing permission {action} on environment {environment} ({message}); attach the stack's "
            "operatorPolicy output to your role"
        )
    if code == "ResourceNotFoundException":
        return StackCliError(f"no MWAA environment named {environment} in this Region ({message})")
    return StackCliError(f"{action} failed: {code}: {message}")
