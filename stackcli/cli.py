"""airflow-stack: run an Airflow CLI command, or a REST call, against a deployed stack.

    airflow-stack --stack dev dags list -o json
    airflow-stack --stack dev rest GET /dags --query limit=5
    airflow-stack --stack dev login [--print]
    airflow-stack --environment airflow-dev --region eu-west-1 variables get greeting
    airflow-stack --stack dev --list-supported

The target comes from the stack's outputs (`pulumi stack output --json --stack <name>`, or a saved copy with
--outputs), or from --environment/--region. `login` opens the Airflow UI in a browser: on MWAA logged in as your IAM
identity through a one-time web login token (`--print` prints the URL instead; open it at once, and share it with
nobody: it logs in whoever opens it). Output goes to the matching stream; the exit status is 1 when Airflow
reported an error and 2 when the command could not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from stackcli.errors import StackCliError
from stackcli.supported import supported_commands


def stack_outputs(stack: str, outputs_file: Optional[Path]) -> dict[str, Any]:
    if outputs_file is not None:
        return json.loads(outputs_file.read_text())
    try:
        result = subprocess.run(
            # With secrets: the self-managed flavour needs the kubeconfig and the admin password (never printed).
            ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
            capture_output=True, text=True, timeout=120,
        )
    except FileNotFoundError as err:
        raise StackCliError("the Pulumi CLI is needed to read the stack's outputs (or pass --outputs FILE)") from err
    if result.returncode != 0:
        raise StackCliError(f"could not read the outputs of stack {stack}: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="airflow-stack", description=__doc__.split("\n\n")[0])
    target = parser.add_argument_group("target")
    target.add_argument("--stack", help="a Pulumi stack of this project; its outputs name the environment")
    target.add_argument("--outputs", type=Path, help="a saved `pulumi stack output --json` instead of the CLI")
    target.add_argument("--environment", help="the MWAA environment's name (instead of --stack)")
    target.add_argument("--region", help="the AWS Region (default: the stack's, or the AWS configuration's)")
    target.add_argument("--webserver-url", help="self-managed: the webserver for `rest` (default: its load balancer)")
    parser.add_argument("--list-supported", action="store_true", help="list the CLI commands MWAA runs, and exit")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the Airflow command without `airflow`, or `rest`")
    return parser


def _mwaa_target(args: argparse.Namespace, outputs: dict[str, Any]):
    import boto3
    from botocore.exceptions import BotoCoreError

    from stackcli.mwaa import MwaaTarget

    environment = args.environment or outputs.get("environmentName")
    region = args.region or outputs.get("region")
    if not environment:
        raise StackCliError("no target: give --stack (a deployed stack) or --environment")
    try:
        client = boto3.client("mwaa", region_name=region)
    except BotoCoreError as err:  # e.g. no Region anywhere
        raise StackCliError(f"{err} (use --region, or --stack whose outputs name it)") from err
    return MwaaTarget(client, environment)


def _kubernetes_target(args: argparse.Namespace, outputs: dict[str, Any]):
    from stackcli.kubernetes import KubernetesTarget, cluster_transport

    kubeconfig = outputs.get("kubeconfig")
    if not kubeconfig:
        raise StackCliError("the stack's outputs carry no kubeconfig: read them with secrets (--stack does)")
    if isinstance(kubeconfig, str):
        kubeconfig = json.loads(kubeconfig)
    host = outputs.get("webserverHostname")
    # webserverUrl says HTTP or HTTPS (a certificate moves the UI to 443); a stack deployed before it had only the host.
    return KubernetesTarget(
        cluster_transport(kubeconfig, outputs.get("namespace", "airflow")),
        webserver_url=args.webserver_url or outputs.get("webserverUrl") or (f"http://{host}" if host else None),
        username=outputs.get("adminUsername", "admin"),
        password=outputs.get("adminPassword"),
        airflow_version=outputs.get("airflowVersion"),
    )


def _rest(target, command: list[str]) -> int:
    rest = argparse.ArgumentParser(prog="airflow-stack rest")
    rest.add_argument("method", choices=["GET", "POST", "PATCH", "PUT", "DELETE", "get", "post", "patch", "put", "delete"])
    rest.add_argument("path", help="a REST API path such as /dags (at most 64 characters)")
    rest.add_argument("--query", action="append", default=[], metavar="KEY=VALUE")
    rest.add_argument("--body", help="a JSON body")
    options = rest.parse_args(command)
    query = dict(item.split("=", 1) for item in options.query) or None
    body = json.loads(options.body) if options.body else None
    status, response = target.rest(options.method, options.path, query=query, body=body)
    print(json.dumps(response, indent=2) if not isinstance(response, str) else response)
    if status >= 400:
        print(f"the REST API answered {status}", file=sys.stderr)
        return 1
    return 0


def _login(target, command: list[str], open_browser: Callable[[str], bool]) -> int:
    login = argparse.ArgumentParser(prog="airflow-stack login")
    login.add_argument("--print", action="store_true", help="print the URL instead of opening a browser")
    options = login.parse_args(command)
    url = target.login_url()
    if options.print or not open_browser(url):
        print(url)
    return 0


def main(argv: Optional[Sequence[str]] = None, open_browser: Optional[Callable[[str], bool]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_supported:
        print("\n".join(supported_commands()))
        return 0
    command = [c for c in args.command if c != "--"]
    if command[:1] == ["airflow"]:
        command = command[1:]
    try:
        outputs = stack_outputs(args.stack, args.outputs) if (args.stack or args.outputs) else {}
        flavour = outputs.get("flavour", "managed")
        target = _mwaa_target(args, outputs) if flavour == "managed" else _kubernetes_target(args, outputs)
        if command[:1] == ["rest"]:
            return _rest(target, command[1:])
        if command[:1] == ["login"]:
            import webbrowser

            return _login(target, command[1:], open_browser or webbrowser.open)
        result = target.run(command)
    except StackCliError as err:
        print(f"airflow-stack: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
