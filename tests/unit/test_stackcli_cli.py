"""The `airflow-stack` command line: targets from stack outputs, clear refusals, exit statuses, no stack traces."""

from __future__ import annotations

import json

import pytest

from stackcli import cli
from stackcli.mwaa import CliResult


class FakeTarget:
    def __init__(self, result=None, rest=None):
        self.result, self.rest_answer, self.commands = result, rest, []

    def run(self, command):
        self.commands.append(command)
        return self.result

    def rest(self, method, path, query=None, body=None):
        self.commands.append([method, path, query, body])
        return self.rest_answer


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"flavour": "managed", "environmentName": "airflow-dev", "region": "eu-west-1"}))
    return path


def test_prints_to_the_matching_streams_and_exits_by_airflows_verdict(outputs, monkeypatch, capsys):
    target = FakeTarget(CliResult(stdout="[]\n", stderr="airflow command error: nope\n"))
    monkeypatch.setattr(cli, "_mwaa_target", lambda args, out: target)
    code = cli.main(["--outputs", str(outputs), "airflow", "dags", "list", "-o", "json"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == "[]\n" and "airflow command error" in captured.err
    assert target.commands == [["dags", "list", "-o", "json"]]


def test_rest_mode_parses_method_path_query_and_body(outputs, monkeypatch, capsys):
    target = FakeTarget(rest=(200, {"dags": []}))
    monkeypatch.setattr(cli, "_mwaa_target", lambda args, out: target)
    code = cli.main(["--outputs", str(outputs), "rest", "PATCH", "/dags/x", "--query", "update_mask=is_paused", "--body", '{"is_paused": false}'])
    assert code == 0 and json.loads(capsys.readouterr().out) == {"dags": []}
    assert target.commands == [["PATCH", "/dags/x", {"update_mask": "is_paused"}, {"is_paused": False}]]


def test_no_region_and_no_credentials_are_sentences_not_tracebacks(monkeypatch, capsys):
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code = cli.main(["--environment", "airflow-dev", "dags", "list"])
    assert code == 2 and "specify a region" in capsys.readouterr().err


def test_a_missing_pulumi_cli_is_explained(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert cli.main(["--stack", "dev", "dags", "list"]) == 2
    assert "Pulumi CLI is needed" in capsys.readouterr().err


def test_lists_the_supported_commands(capsys):
    assert cli.main(["--list-supported"]) == 0
    assert "dags trigger" in capsys.readouterr().out.splitlines()


def test_self_managed_outputs_give_a_kubernetes_target(tmp_path, monkeypatch, capsys):
    from stackcli import kubernetes

    calls = []
    monkeypatch.setattr(kubernetes, "cluster_transport", lambda kubeconfig, namespace: (
        calls.append((kubeconfig["current-context"], namespace)) or (lambda argv: ("[]\n", "", 0))))
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({
        "flavour": "self-managed", "namespace": "airflow", "kubeconfig": json.dumps({"current-context": "airflow-prod"}),
        "webserverHostname": "internal-lb.elb.eu-west-1.amazonaws.com", "adminUsername": "admin", "adminPassword": "pw",
    }))
    assert cli.main(["--outputs", str(path), "dags", "list", "-o", "json"]) == 0
    assert capsys.readouterr().out == "[]\n" and calls == [("airflow-prod", "airflow")]
    target = cli._kubernetes_target(cli._parser().parse_args(["--outputs", str(path), "version"]), json.loads(path.read_text()))
    assert target.webserver_url == "http://internal-lb.elb.eu-west-1.amazonaws.com" and target.password == "pw"


def test_the_stacks_webserver_url_wins_over_its_hostname(monkeypatch):
    """With a certificate the load balancer serves HTTPS on 443 only: http://<host> would not answer."""
    from stackcli import kubernetes

    monkeypatch.setattr(kubernetes, "cluster_transport", lambda kubeconfig, namespace: None)
    outputs = {"kubeconfig": {"current-context": "c"}, "webserverHostname": "lb.elb.eu-west-1.amazonaws.com",
               "webserverUrl": "https://airflow.example.com"}
    target = cli._kubernetes_target(cli._parser().parse_args(["version"]), outputs)
    assert target.webserver_url == "https://airflow.example.com"


def test_self_managed_without_a_kubeconfig_is_explained(tmp_path, capsys):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"flavour": "self-managed"}))
    assert cli.main(["--outputs", str(path), "dags", "list"]) == 2
    assert "no kubeconfig" in capsys.readouterr().err


def test_login_to_a_self_managed_stack_opens_its_ui(monkeypatch, capsys):
    from stackcli import kubernetes

    monkeypatch.setattr(kubernetes, "cluster_transport", lambda kubeconfig, namespace: None)
    outputs = {"flavour": "self-managed", "kubeconfig": {"current-context": "c"}, "webserverUrl": "https://airflow.example.com"}
    monkeypatch.setattr(cli, "stack_outputs", lambda stack, path: outputs)
    assert cli.main(["--stack", "prod", "login", "--print"], open_browser=lambda url: True) == 0
    assert capsys.readouterr().out == "https://airflow.example.com/\n"
