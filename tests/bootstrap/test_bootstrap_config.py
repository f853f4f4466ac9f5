"""Bad bootstrap config stops the program before anything is created, naming the key as typed."""

from __future__ import annotations

import shutil

from bootstrap.settings import parse
from stackconfig.errors import ConfigError
from stackconfig.load import PROJECT_DIR
from tests.bootstrap.conftest import run_bootstrap


def errors(**config) -> str:
    plan = run_bootstrap(**config)
    assert plan.error is not None
    assert plan.created == []
    return str(plan.error)


def test_bad_values_name_their_keys():
    message = errors(organization="acme data", repository="airflow-on-aws", oidcProvider="arn:aws:iam::1:oidc-provider/x", credentials="keys")
    assert "organization = 'acme data'" in message
    assert "repository = 'airflow-on-aws': the repository as owner/name" in message
    assert "oidcProvider = 'arn:aws:iam::1:oidc-provider/x'" in message
    assert "credentials = 'keys'" in message


def test_bad_stack_triggers_name_their_keys():
    message = errors(stacks={"dev": {"branch": "feature//x"}, "prod": {"branch": "release", "colour": 1, "sessionHours": 13}})
    assert "stacks.dev.branch = 'feature//x': a git branch name" in message
    assert "stacks.prod.colour = 1: not a known key" in message
    assert "stacks.prod.sessionHours = 13" in message


def test_a_stack_without_a_stack_file_is_refused():
    message = errors(stacks={"staging": {"branch": "main"}})
    assert "stacks.staging = 'staging': a stack of airflow-on-aws with a Pulumi.staging.yaml" in message


def test_environment_names_that_overlap_are_refused(tmp_path):
    """Each role manages `<environment>-*`: an environment named `airflow` would reach into `airflow-prod`'s."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "airflow-requirements.txt", "Makefile"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    for folder in ("dags", "plugins", "docker"):
        shutil.copytree(PROJECT_DIR / folder, tmp_path / folder)
    dev = tmp_path / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("config:\n", "config:\n  airflow-on-aws:environmentName: airflow\n", 1))
    try:
        parse({"organization": "acme", "repository": "acme/airflow", "stacks": {"dev": {"branch": "main"}, "prod": {"branch": "release"}}},
              stack="admin", region="eu-west-1", app_dir=tmp_path)
    except ConfigError as err:
        assert "stacks.dev = 'airflow': an environment name that is no prefix of stack prod's (airflow-prod)" in str(err)
    else:
        raise AssertionError("overlapping names were accepted")


def test_every_bootstrap_key_is_declared_and_documented():
    import yaml

    from bootstrap.settings import BootstrapSettings, StackTrigger

    declared = yaml.safe_load((PROJECT_DIR / "bootstrap" / "Pulumi.yaml").read_text())["config"]
    keys = [f.alias or n for n, f in BootstrapSettings.model_fields.items()]
    assert sorted(declared) == sorted(keys)
    readme = (PROJECT_DIR / "docs" / "deploying.md").read_text()
    documented = keys + [f"stacks.<stack>.{f.alias or n}" for n, f in StackTrigger.model_fields.items()]
    assert [k for k in documented if f"`{k}`" not in readme] == []


def test_a_self_managed_stack_needs_an_agent_pool_with_docker():
    """Its preview and update build the image with BuildKit; Pulumi's hosted runners have no Docker daemon."""
    message = errors(stacks={"dev": {"branch": "main"}, "prod": {"branch": "release"}})
    assert "stacks.prod.agentPoolId = (not set): required: prod is self-managed" in message
    assert "stacks.dev.agentPoolId" not in message  # dev is managed: nothing to build


def test_the_shipped_admin_stack_gives_its_self_managed_stack_an_agent_pool():
    import yaml

    stacks = yaml.safe_load((PROJECT_DIR / "bootstrap" / "Pulumi.admin.yaml").read_text())["config"]["airflow-on-aws-bootstrap:stacks"]
    assert stacks["prod"]["agentPoolId"]
