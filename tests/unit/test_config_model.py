"""The config model on its own (no Pulumi): defaults, class-aware sizing, error wording."""

from __future__ import annotations

import pytest

from stackconfig import ConfigError
from stackconfig.load import parse


def settings(**raw):
    return parse(raw, stack="dev", project="airflow-on-aws", region="eu-west-1")


def test_defaults_deploy_a_small_private_environment():
    s = settings()
    assert s.name == "airflow-dev"
    assert s.mwaa.environment_class == "mw1.small" and s.mwaa.webserver_access_mode == "PRIVATE_ONLY"
    sizing = {f: getattr(s.mwaa, f) for f in ("min_workers", "max_workers", "schedulers", "min_webservers", "max_webservers")}
    assert sizing == {"min_workers": 1, "max_workers": 10, "schedulers": 2, "min_webservers": 2, "max_webservers": 2}
    assert s.protect_data is True
    assert s.secret_prefixes.variables == "airflow-dev/variables"


def test_micro_defaults_to_one_of_each():
    s = settings(mwaa='{"environmentClass": "mw1.micro"}')
    assert {getattr(s.mwaa, f) for f in ("min_workers", "max_workers", "schedulers", "min_webservers", "max_webservers")} == {1}


def test_numbers_and_booleans_from_config_set_path_become_airflow_text():
    s = settings(airflow='{"configurationOptions": {"core.parallelism": 8, "webserver.expose_config": true}}')
    assert s.airflow.configuration_options == {"core.parallelism": 8, "webserver.expose_config": "true"}


def test_error_message_names_key_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as raised:
        settings(mwaa='{"environmentClass": "mw1.small", "maxWorkers": 40}')
    message = str(raised.value)
    assert "mwaa.maxWorkers = 40: 1 to 25" in message
    assert "nothing was created" in message


def test_secret_seeds_need_secret_config():
    raw = {"airflow": '{"variables": {"greeting": "plain-value-7f3a"}}'}
    with pytest.raises(ConfigError) as raised:
        parse(raw, stack="dev", project="p", region="eu-west-1")
    assert "airflow.variables.greeting" in str(raised.value)
    assert "plain-value-7f3a" not in str(raised.value)
    ok = parse(raw, stack="dev", project="p", region="eu-west-1", secret_keys={"airflow"})
    assert ok.airflow.variables["greeting"].get_secret_value() == "plain-value-7f3a"
    assert "plain-value-7f3a" not in repr(ok)


def test_a_protected_self_managed_stack_must_choose_who_reaches_its_api():
    """The protected default opens the API to no one by chance: it asks, naming the key, before anything exists."""
    with pytest.raises(ConfigError) as err:
        settings(flavour="self-managed")
    assert [i.key for i in err.value.issues] == ["cluster.publicAccessCidrs"]


PRIVATE_API = '{"endpointPublicAccess": false}'


def test_self_managed_defaults_deploy_and_multi_az_follows_protect_data():
    s = settings(flavour="self-managed", cluster=PRIVATE_API)
    assert not s.managed
    assert s.cluster.kubernetes_version == "1.35" and s.cluster.min_nodes <= s.cluster.desired_nodes <= s.cluster.max_nodes
    assert s.database.multi_az is True  # protectData is true by default
    assert settings(flavour="self-managed", protectData=False).database.multi_az is False
    assert settings(flavour="self-managed", cluster=PRIVATE_API, database='{"multiAz": false}').database.multi_az is False


def test_self_managed_files_deliver_dags_only(tmp_path):
    from stackconfig.load import PROJECT_DIR

    s = settings(flavour="self-managed", cluster=PRIVATE_API)
    files = s.files(PROJECT_DIR)
    assert files.requirements_file is None and files.plugins_dir is None and files.startup_script is None
    assert files.docker_dir == PROJECT_DIR / "docker"
    assert settings().files(PROJECT_DIR).requirements_file is not None


def test_self_managed_version_must_be_one_the_image_is_offered_for():
    with pytest.raises(ConfigError) as raised:
        settings(flavour="self-managed", airflow='{"version": "2.10.3"}')
    message = str(raised.value)
    assert "airflow.version = '2.10.3': a version the image is offered for: 2.9.3, 2.11.2, 3.3.2" in message
    assert "make image-constraints AIRFLOW_VERSION=2.10.3" in message


def test_an_unset_version_is_the_29_line_of_each_flavour():
    assert settings().airflow.version == "2.9.2"  # MWAA's 2.9
    assert settings(flavour="self-managed", cluster=PRIVATE_API).airflow.version == "2.9.3"  # the line's last patch


def test_protected_self_managed_stacks_keep_a_week_of_backups():
    with pytest.raises(ConfigError) as raised:
        settings(flavour="self-managed", database='{"backupRetentionDays": 3}')
    assert "database.backupRetentionDays = 3: at least 7 days while protectData is true" in str(raised.value)
    assert settings(flavour="self-managed", protectData=False, database='{"backupRetentionDays": 3}').database.backup_retention_days == 3


def test_managed_stacks_do_not_check_self_managed_rules():
    # A managed stack may carry an Airflow version the image is not built for: only MWAA's list applies.
    assert settings(airflow='{"version": "2.10.3", "requirementsFile": ""}').airflow.version == "2.10.3"


@pytest.mark.parametrize("schedule, accepted", [
    ("30 3 * * *", True), ("@daily", True), ("*/15 0-6 * * MON-FRI", True), ("0 0 1 JAN,JUL *", True),
    ("0 3 ? * *", True), ("61 * * * *", False), ("0 3 * *", False), ("0 3 * * 7", False), ("5-2 * * * *", False),
    ("0 3 * * * *", False), ("0 */0 * * *", False), ("@often", False), (" @daily", False), ("1/ * * * *", False),
    ("0 ３ * * *", False)])
def test_a_cleanup_schedule_is_one_a_cronjob_takes(schedule, accepted):
    """Kubernetes' CronJob parser (robfig/cron, standard): five fields in their ranges, or a macro."""
    from stackconfig import limits

    assert limits.cron_schedule(schedule) is accepted


@pytest.mark.parametrize("name, accepted", [("airflow.example.com", True), ("a-b.c", True), ("airflow", False),
                                            ("-x.example.com", False), ("x..com", False), ("https://a.com", False),
                                            ("a" * 64 + ".com", False)])
def test_a_webserver_hostname_is_a_dns_name(name, accepted):
    from stackconfig import limits

    assert limits.dns_name(name) is accepted
