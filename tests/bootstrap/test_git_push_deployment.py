"""Pulumi Deployments settings per application stack: the branch, the path filters, the gate before anything runs,
and the credentials."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from wcmatch import glob

from bootstrap.esc_environment import aws_login_environment
from stackconfig.load import PROJECT_DIR
from tests.bootstrap.conftest import of_stack

SETTINGS = "pulumiservice:index:DeploymentSettings"
UV_VERSION = re.search(r"^UV_VERSION := (\S+)", (PROJECT_DIR / "Makefile").read_text(), re.MULTILINE).group(1)
# What the program imports when it runs a stack, listed by the program itself under the mock engine.
LOADED_FILES = """
import sys, json
from pathlib import Path
from offline import run_stack
root = Path.cwd()
plan = run_stack(sys.argv[1])
assert plan.error is None, plan.error
files = set()
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if path and Path(path).resolve().is_relative_to(root) and ".venv" not in path:
        files.add(str(Path(path).resolve().relative_to(root)))
print(json.dumps(sorted(files)))
"""


def settings_of(plan, stack):
    return of_stack(plan, SETTINGS, stack).raw_inputs


def matches(path: str, patterns: list[str]) -> bool:
    return glob.globmatch(path, patterns, flags=glob.GLOBSTAR | glob.NEGATE | glob.DOTGLOB)


def test_dev_deploys_on_main_and_prod_on_the_release_branch(bootstrap_plan):
    dev, prod = settings_of(bootstrap_plan, "dev"), settings_of(bootstrap_plan, "prod")
    assert (dev["organization"], dev["project"], dev["stack"]) == ("acme-data", "airflow-on-aws", "dev")
    assert dev["sourceContext"]["git"]["branch"] == "main"
    assert prod["sourceContext"]["git"]["branch"] == "release"
    for settings in (dev, prod):
        vcs = settings["vcs"]
        assert (vcs["provider"], vcs["repository"]) == ("github", "acme-data/airflow-on-aws")
        assert vcs["deployCommits"] is True
    # Pull requests are previewed on dev only: prod is protected (tests/bootstrap/test_deploy_role_trust.py).
    assert (dev["vcs"]["previewPullRequests"], prod["vcs"]["previewPullRequests"]) == (True, False)


def test_the_gate_runs_before_pulumi_and_the_lock_file_is_installed_by_uv(bootstrap_plan):
    for stack in ("dev", "prod"):
        context = settings_of(bootstrap_plan, stack)["operationContext"]
        # Deployments' own install would be pip into a virtualenv, ignoring uv.lock.
        assert context["options"]["skipInstallDependencies"] is True
        install, gate = context["preRunCommands"]
        assert f"astral.sh/uv/{UV_VERSION}/install.sh" in install
        assert gate.endswith(f"make gate STACK={stack}")


def test_deployments_assume_the_stacks_own_role(bootstrap_plan):
    for stack in ("dev", "prod"):
        aws = settings_of(bootstrap_plan, stack)["operationContext"]["oidc"]["aws"]
        assert aws["roleARN"] == of_stack(bootstrap_plan, "aws:iam/role:Role", stack).state["arn"]
        assert aws["sessionName"] == f"pulumi-deploy-{stack}"
    assert settings_of(bootstrap_plan, "prod")["operationContext"]["oidc"]["aws"]["duration"] == "3h0m0s"


def test_with_esc_an_environment_logs_in_and_deployments_carry_no_oidc(esc_plan):
    """For unprotected stacks; a protected one keeps Deployments' own token (test_deploy_role_trust.py)."""
    environment = of_stack(esc_plan, "pulumiservice:index:Environment", "dev").raw_inputs
    assert (environment["project"], environment["name"]) == ("airflow-on-aws", "airflow-on-aws-dev")
    document = yaml.safe_load(aws_login_environment("arn:aws:iam::123456789012:role/pulumi-deploy-airflow-dev", "s", 3))
    login = document["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]
    assert login == {"roleArn": "arn:aws:iam::123456789012:role/pulumi-deploy-airflow-dev", "sessionName": "s", "duration": "3h"}
    assert document["values"]["environmentVariables"]["AWS_SESSION_TOKEN"] == "${aws.login.sessionToken}"
    assert "oidc" not in settings_of(esc_plan, "dev")["operationContext"]
    steps = esc_plan.raw_outputs["finishByHand"]
    assert any("environment: [airflow-on-aws/airflow-on-aws-dev]" in s for s in steps)
    assert not any("airflow-on-aws-prod]" in s for s in steps)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_file_the_program_loads_triggers_a_deployment(bootstrap_plan, stack):
    paths = settings_of(bootstrap_plan, stack)["vcs"]["paths"]
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED_FILES, stack], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300, check=True
    )
    program_files = [f for f in json.loads(loaded.stdout) if not f.startswith(("offline/", "tests/"))]
    runtime = {"dev": "components/managed/managed_airflow.py", "prod": "components/self_managed/kubernetes_cluster.py"}[stack]
    assert runtime in program_files and "stackconfig/settings.py" in program_files
    delivered = [f"Pulumi.{stack}.yaml", "dags/hello_secrets.py"]
    delivered += {"dev": ["airflow-requirements.txt", "plugins/platform_macros.py"], "prod": ["docker/Dockerfile", "docker/constraints.txt"]}[stack]
    missed = [f for f in program_files + delivered if not matches(f, paths)]
    assert missed == [], f"changes to these would not deploy {stack}: {missed}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_unrelated_changes_deploy_nothing(bootstrap_plan, stack):
    paths = settings_of(bootstrap_plan, stack)["vcs"]["paths"]
    other = {"dev": "prod", "prod": "dev"}[stack]
    for unrelated in ("README.md", f"Pulumi.{other}.yaml", "bootstrap/__main__.py", "tests/unit/test_builders.py",
                      ".github/workflows/preview.yml", "gate/__main__.py", "local/twin.py"):
        assert not matches(unrelated, paths), unrelated


def test_a_repository_folder_prefixes_the_paths_and_the_gate_runs_there():
    from tests.bootstrap.conftest import run_bootstrap

    plan = run_bootstrap(repoDir="platform/airflow")
    assert plan.error is None, plan.error
    settings = settings_of(plan, "dev")
    assert settings["sourceContext"]["git"]["repoDir"] == "platform/airflow"
    assert all(p.startswith("platform/airflow/") for p in settings["vcs"]["paths"])
    assert '/platform/airflow" && make gate STACK=dev' in settings["operationContext"]["preRunCommands"][1]


def test_deployments_record_what_the_role_and_path_filters_were_built_for(bootstrap_plan):
    from bootstrap.deployment_triggers import BUILT_FOR_VARIABLE, built_for_json
    from stackconfig.load import from_stack_file

    for stack in ("dev", "prod"):
        variables = settings_of(bootstrap_plan, stack)["operationContext"]["environmentVariables"]
        assert variables[BUILT_FOR_VARIABLE] == built_for_json(stack, from_stack_file(PROJECT_DIR, stack), "airflow-on-aws", "")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"flavour": "managed"}, "flavour"),
        ({"environmentName": "airflow-production"}, "environmentName"),
        ({"mwaa": {"kmsKey": "none"}}, "mwaa.kmsKey"),
        ({"airflow": {"secrets": {"variablesPrefix": "other/variables"}}}, "airflow.secrets.variablesPrefix"),
    ],
)
def test_the_gate_sees_a_stack_file_that_outgrew_its_deploy_role(change, field):
    from bootstrap.deployment_triggers import built_for_json, stale_deploy_settings
    from stackconfig.load import from_stack_file

    recorded = built_for_json("prod", from_stack_file(PROJECT_DIR, "prod"), "airflow-on-aws", "")
    assert stale_deploy_settings(recorded, "prod", from_stack_file(PROJECT_DIR, "prod"), "airflow-on-aws") == []
    stale = stale_deploy_settings(recorded, "prod", from_stack_file(PROJECT_DIR, "prod", change), "airflow-on-aws")
    assert any(field in line.split(": the deploy role")[0].split(" / ") for line in stale), stale


def test_the_gate_sees_a_deploy_role_built_by_an_older_version_of_the_project(monkeypatch):
    """A project upgrade that adds a grant (this one: the SSM records of the deployed Airflow version) asks for the
    bootstrap again, before the deployment would fail with AccessDenied."""
    import json

    from bootstrap import deploy_policy
    from bootstrap.deployment_triggers import built_for_json, stale_deploy_settings
    from stackconfig.load import from_stack_file

    settings = from_stack_file(PROJECT_DIR, "prod")
    older = tuple(g for g in deploy_policy.GRANTS if g.sid != "DeployedAirflowVersion")
    monkeypatch.setattr(deploy_policy, "GRANTS", older)
    recorded = built_for_json("prod", settings, "airflow-on-aws", "")
    monkeypatch.undo()
    stale = stale_deploy_settings(recorded, "prod", settings, "airflow-on-aws")
    assert len(stale) == 1 and stale[0].startswith("the deploy policy:"), stale
    before = json.loads(recorded)
    before.pop("grants")  # recorded by a bootstrap from before grants were recorded
    assert stale_deploy_settings(json.dumps(before), "prod", settings, "airflow-on-aws")


def test_the_gate_fails_with_re_run_the_bootstrap(capsys, monkeypatch, tmp_path):
    from bootstrap.deployment_triggers import BUILT_FOR_VARIABLE, built_for_json
    from gate.__main__ import main
    from stackconfig.load import from_stack_file

    other = from_stack_file(PROJECT_DIR, "prod", {"flavour": "managed"})
    monkeypatch.setenv(BUILT_FOR_VARIABLE, built_for_json("prod", other, "airflow-on-aws", ""))
    # The stale record alone fails the gate (1), before it would look for its Airflow (missing here: 2).
    assert main(["--stack", "prod", "--airflow-python", str(tmp_path / "no-airflow")]) == 1
    out = capsys.readouterr().out
    assert "FAIL  the stack file has changed what the bootstrap built" in out and "re-run the bootstrap" in out
    assert "nothing was deployed" in out
    assert "flavour: the deploy role was built for 'managed', the stack file now gives 'self-managed'" in out
