"""The managed path of `airflow-stack` against botocore's Stubber (the mwaa API) and a local HTTP server speaking
MWAA's `/aws_mwaa/cli` protocol."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber

from stackcli.errors import StackCliError
from stackcli.mwaa import MwaaTarget, decode

ENV = "airflow-dev"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class FakeWebserver(BaseHTTPRequestHandler):
    valid_tokens: set[str] = set()
    received: list[tuple[str, str]] = []
    answer: dict = {}
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's method name
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        command = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).received.append((token, command))
        if self.path != "/aws_mwaa/cli" or self.headers.get("Content-Type") != "text/plain":
            self.send_response(400)
            self.end_headers()
            return
        if token not in self.valid_tokens:
            self.send_response(403)
            self.end_headers()
            self.wfile.write(b'{"message": "expired"}')
            return
        body = json.dumps(self.answer).encode() if isinstance(self.answer, dict) else self.answer
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def webserver():
    FakeWebserver.valid_tokens = {"token-1", "token-2"}
    FakeWebserver.received = []
    FakeWebserver.answer = {"stdout": b64("dag_id | is_paused\nhello_secrets | True\n"), "stderr": ""}
    FakeWebserver.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWebserver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def mwaa():
    client = boto3.client("mwaa", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _target(client, clock=None):
    return MwaaTarget(client, ENV, url_for=lambda host: f"http://{host}/aws_mwaa/cli", clock=clock or Clock())


def _environment(stub, status="AVAILABLE", version="2.9.2", mode="PUBLIC_ONLY"):
    stub.add_response(
        "get_environment",
        {"Environment": {"Name": ENV, "Status": status, "AirflowVersion": version, "WebserverAccessMode": mode}},
        {"Name": ENV},
    )


def _token(stub, token, host):
    stub.add_response("create_cli_token", {"CliToken": token, "WebServerHostname": host}, {"Name": ENV})


def test_runs_a_command_and_decodes_its_output(mwaa, webserver):
    client, stub = mwaa
    _environment(stub)
    _token(stub, "token-1", webserver)
    result = _target(client).run(["dags", "list", "-o", "json"])
    assert "hello_secrets" in result.stdout and not result.failed
    assert FakeWebserver.received == [("token-1", "dags list -o json")]
    stub.assert_no_pending_responses()


def test_a_young_token_is_reused_and_an_old_one_replaced(mwaa, webserver):
    client, stub = mwaa
    clock = Clock()
    _environment(stub)
    _token(stub, "token-1", webserver)
    target = _target(client, clock)
    target.run(["version"])
    clock.now += 30
    target.run(["version"])
    _token(stub, "token-2", webserver)
    clock.now += 30
    target.run(["version"])
    assert [t for t, _ in FakeWebserver.received] == ["token-1", "token-1", "token-2"]
    stub.assert_no_pending_responses()


def test_an_expired_token_is_replaced_once(mwaa, webserver):
    client, stub = mwaa
    FakeWebserver.valid_tokens = {"token-2"}
    _environment(stub)
    _token(stub, "token-1", webserver)
    _token(stub, "token-2", webserver)
    assert "hello_secrets" in _target(client).run(["dags", "list"]).stdout
    assert [t for t, _ in FakeWebserver.received] == ["token-1", "token-2"]


def test_a_token_refused_twice_is_a_clear_error(mwaa, webserver):
    client, stub = mwaa
    FakeWebserver.valid_tokens = set()
    _environment(stub)
    _token(stub, "token-1", webserver)
    _token(stub, "token-2", webserver)
    with pytest.raises(StackCliError, match="refused the CLI token"):
        _target(client).run(["dags", "list"])


def test_airflow_errors_make_the_command_fail(mwaa, webserver):
    client, stub = mwaa
    FakeWebserver.answer = {"stdout": "", "stderr": b64("airflow command error: argument GROUP_OR_COMMAND\n")}
    _environment(stub)
    _token(stub, "token-1", webserver)
    result = _target(client).run(["dags", "list"])
    assert result.failed and result.stdout == ""


def test_unsupported_commands_are_refused_before_any_call(mwaa):
    client, stub = mwaa
    _environment(stub)
    with pytest.raises(StackCliError, match="does not run `airflow users create`.*supported: .*dags list"):
        _target(client).run(["users", "create", "--username", "x"])
    stub.assert_no_pending_responses()  # no token was created


@pytest.mark.parametrize("status", ["CREATING", "UPDATING", "UNAVAILABLE"])
def test_an_environment_that_is_not_available_is_a_clear_error(mwaa, status):
    client, stub = mwaa
    _environment(stub, status=status)
    with pytest.raises(StackCliError, match=f"is {status}, not AVAILABLE"):
        _target(client).run(["dags", "list"])


def test_missing_permission_names_the_action(mwaa):
    client, stub = mwaa
    _environment(stub)
    stub.add_client_error("create_cli_token", "AccessDeniedException", "not authorized", expected_params={"Name": ENV})
    with pytest.raises(StackCliError, match="missing permission airflow:CreateCliToken on environment airflow-dev"):
        _target(client).run(["dags", "list"])


def test_an_unreachable_private_webserver_says_what_to_do(mwaa):
    client, stub = mwaa
    _environment(stub, mode="PRIVATE_ONLY")
    _token(stub, "token-1", "127.0.0.1:9")  # nothing listens there
    with pytest.raises(StackCliError, match="private .*inside the VPC.*`rest`"):
        _target(client).run(["dags", "list"])


@pytest.mark.parametrize(
    "encoded,expected",
    [("", ""), (None, ""), (b64("ok"), "ok"), (b64("ok").rstrip("="), "ok"), (base64.b64encode(b"\xff\xfeok").decode(), "\ufffd\ufffdok")],
)
def test_base64_edge_cases(encoded, expected):
    assert decode(encoded) == expected


def test_output_that_is_not_base64_is_a_clear_error():
    with pytest.raises(StackCliError, match="not base64"):
        decode("this is not base64!")


def test_rest_calls_go_through_invoke_rest_api(mwaa):
    client, stub = mwaa
    _environment(stub)
    stub.add_response(
        "invoke_rest_api",
        {"RestApiStatusCode": 200, "RestApiResponse": {"dags": [{"dag_id": "hello_secrets"}]}},
        {"Name": ENV, "Path": "/dags", "Method": "GET", "QueryParameters": {"limit": 5}},
    )
    status, body = _target(client).rest("get", "/dags", query={"limit": 5})
    assert status == 200 and body["dags"][0]["dag_id"] == "hello_secrets"


def test_rest_errors_carry_airflows_status(mwaa):
    client, stub = mwaa
    _environment(stub)
    stub.add_client_error(
        "invoke_rest_api", "RestApiClientException", "Not Found", http_status_code=400,
        modeled_fields={"RestApiStatusCode": 404, "RestApiResponse": {"title": "DAG not found"}},
    )
    status, body = _target(client).rest("GET", "/dags/nope")
    assert (status, body) == (404, {"title": "DAG not found"})


def test_login_gives_a_one_time_url_to_the_ui_as_the_iam_identity(mwaa):
    client, stub = mwaa
    _environment(stub)
    stub.add_response("create_web_login_token", {"WebServerHostname": "abc.c2.eu-west-1.airflow.amazonaws.com",
                                                 "WebToken": "web-token-1"}, {"Name": ENV})
    url = MwaaTarget(client, ENV).login_url()
    assert url == "https://abc.c2.eu-west-1.airflow.amazonaws.com/aws_mwaa/aws-console-sso?login=true#web-token-1"
    stub.assert_no_pending_responses()


def test_login_without_the_permission_names_it(mwaa):
    client, stub = mwaa
    _environment(stub)
    stub.add_client_error("create_web_login_token", "AccessDeniedException", "not authorized", 403)
    with pytest.raises(StackCliError, match="airflow:CreateWebLoginToken.*operatorPolicy"):
        MwaaTarget(client, ENV).login_url()


def test_the_cli_opens_the_login_in_a_browser_or_prints_it(mwaa, monkeypatch, capsys):
    from stackcli import cli

    client, stub = mwaa
    monkeypatch.setattr(cli, "_mwaa_target", lambda args, outputs: MwaaTarget(client, ENV))
    opened, url = [], "https://h.example/aws_mwaa/aws-console-sso?login=true#t"
    for argv, browser, printed in ((["--environment", ENV, "login"], True, ""),
                                   (["--environment", ENV, "login", "--print"], True, url + "\n"),
                                   (["--environment", ENV, "login"], False, url + "\n")):  # no browser here
        _environment(stub)
        stub.add_response("create_web_login_token", {"WebServerHostname": "h.example", "WebToken": "t"}, {"Name": ENV})
        assert cli.main(argv, open_browser=lambda u: opened.append(u) or browser) == 0
        assert capsys.readouterr().out == printed
    assert opened == [url, url]  # --print opens nothing
