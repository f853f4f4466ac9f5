"""The Kubernetes side of the self-managed stacks, as the program registers it: every object valid for the cluster's
version, wired to the AWS side (image, buckets, IRSA roles, database), secrets kept secret, in the right order."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
import yaml

from k8s import identities
from offline import run_stack
from offline.engine import SECRET, UNKNOWN
from offline.render import kubernetes_objects

CLUSTER = "eks:index:Cluster"


def _objects(plan) -> dict[str, dict]:
    """By kind/name; the two ConfigMaps named for the Airflow version also by their name less the version."""
    found = {f"{obj['kind']}/{obj['metadata']['name']}": {"object": obj, "resource": r} for obj, r in kubernetes_objects(plan)}
    suffix = "-" + str(plan.outputs.get("airflowVersion", "")).replace(".", "-")
    for key in [k for k in found if k.startswith("ConfigMap/") and k.endswith(suffix)]:
        found[key.removesuffix(suffix)] = found[key]
    return found


def test_every_object_is_valid_for_the_clusters_version(self_managed_plan):
    version = self_managed_plan.one(CLUSTER).inputs["version"] + ".0"
    objects = _objects(self_managed_plan)
    assert len(objects) >= 20
    for key, entry in objects.items():
        obj = entry["object"]
        if obj["kind"] != "Secret":
            assert SECRET not in json.dumps(obj), f"{key} carries a secret: its whole content would be hidden in diffs"
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_pod_template_is_valid_and_runs_the_image_as_the_worker(self_managed_plan):
    plan = self_managed_plan
    objects = _objects(plan)
    template = yaml.safe_load(objects["ConfigMap/airflow-pod-template"]["object"]["data"]["pod_template.yaml"])
    kubernetes_validate.validate(template, plan.one(CLUSTER).inputs["version"] + ".0", strict=True)
    assert template["spec"]["containers"][0]["name"] == "base"
    assert template["spec"]["containers"][0]["image"] == plan.outputs["image"]
    assert template["spec"]["serviceAccountName"] == identities.WORKER


def test_service_accounts_carry_their_irsa_roles(self_managed_plan):
    objects = _objects(self_managed_plan)
    roles = self_managed_plan.outputs["serviceAccountRoles"]
    for account in identities.AIRFLOW_SERVICE_ACCOUNTS:
        annotations = objects[f"ServiceAccount/{account}"]["object"]["metadata"]["annotations"]
        assert annotations["eks.amazonaws.com/role-arn"] == roles[account]


def test_settings_point_at_this_stacks_buckets_image_and_database(self_managed_plan):
    plan = self_managed_plan
    objects = _objects(plan)
    data = objects["ConfigMap/airflow-config"]["object"]["data"]
    assert data["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] == f"s3://{plan.outputs['taskLogBucket']}/task-logs"
    assert data["AIRFLOW__KUBERNETES_EXECUTOR__NAMESPACE"] == "airflow"
    image = plan.outputs["image"]
    assert f"{data['AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_REPOSITORY']}:{data['AIRFLOW__KUBERNETES_EXECUTOR__WORKER_CONTAINER_TAG']}" == image
    scheduler = objects["Deployment/airflow-scheduler"]["object"]["spec"]["template"]["spec"]
    sync = next(c for c in scheduler["containers"] if c["name"] == "dag-sync")
    assert sync["args"][sync["args"].index("--bucket") + 1] == plan.outputs["dagBucket"]
    secret = objects["Secret/airflow-secrets"]
    assert set(secret["object"]["stringData"].values()) == {SECRET}
    values = secret["resource"].raw_inputs["stringData"]
    # The pods reach the database through PgBouncer, which verifies RDS's certificate; the migrations go straight.
    assert values["sql-alchemy-conn"].split("@")[1] == "airflow-pgbouncer.airflow.svc.cluster.local:6543/airflow"
    direct = values["sql-alchemy-conn-direct"]
    assert plan.outputs["databaseEndpoint"] in direct and direct.endswith("?sslmode=verify-full&sslrootcert=/opt/image/rds-global-bundle.pem")
    ini = objects["ConfigMap/airflow-pgbouncer"]["object"]["data"]["pgbouncer.ini"]
    assert f"airflow = host={plan.outputs['databaseEndpoint']} port=5432 dbname=airflow" in ini
    assert "server_tls_sslmode = verify-full" in ini and "server_tls_ca_file = /opt/image/rds-global-bundle.pem" in ini
    assert values["pgbouncer-users"].startswith('"airflow" "') and SECRET not in ini


def test_nothing_runs_before_the_migrations(self_managed_plan):
    objects = _objects(self_managed_plan)
    job = next(v["resource"] for k, v in objects.items() if k.startswith("Job/"))
    for before in ("Secret/airflow-secrets", "ConfigMap/airflow-config", "ServiceAccount/airflow-migrate", "Namespace/airflow"):
        assert objects[before]["resource"].urn in job.dependencies, before
    for component in ("scheduler", "webserver", "triggerer"):
        assert job.urn in objects[f"Deployment/airflow-{component}"]["resource"].dependencies


def test_prod_runs_two_schedulers_and_webservers_behind_an_internal_load_balancer(prod):
    objects = _objects(prod)
    for component in ("scheduler", "webserver"):
        assert objects[f"Deployment/airflow-{component}"]["object"]["spec"]["replicas"] >= 2
    annotations = objects["Service/airflow-webserver"]["object"]["metadata"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"


def test_an_internet_facing_webserver_is_limited_to_its_ranges_and_serves_tls():
    certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    plan = run_stack("dev", config={"flavour": "self-managed", "workloads": {
        "webserverExposure": "internet-facing", "webserverAllowedCidrs": ["203.0.113.0/24"], "webserverCertificateArn": certificate}})
    assert plan.error is None
    service = _objects(plan)["Service/airflow-webserver"]["object"]
    assert "service.beta.kubernetes.io/aws-load-balancer-internal" not in service["metadata"]["annotations"]
    assert service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"] == certificate
    assert service["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert service["spec"]["ports"][0]["port"] == 443
    # Without a host name, Airflow links to the load balancer's own name, over HTTPS with the certificate.
    url = f"https://{plan.outputs['webserverHostname']}"
    assert plan.outputs["webserverHostname"].endswith(".elb.eu-west-1.amazonaws.com")
    assert _objects(plan)["ConfigMap/airflow-config"]["object"]["data"]["AIRFLOW__WEBSERVER__BASE_URL"] == url
    assert plan.outputs["webserverUrl"] == url


@pytest.mark.parametrize("certificate, scheme", [(None, "http"), (
    "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555", "https")])
def test_a_configured_hostname_is_airflows_base_url_on_every_pod(certificate, scheme):
    workloads = {"webserverHostname": "airflow.example.com", **({"webserverCertificateArn": certificate} if certificate else {})}
    plan = run_stack("dev", config={"flavour": "self-managed", "workloads": workloads})
    assert plan.error is None
    objects = _objects(plan)
    config_map = objects["ConfigMap/airflow-config"]
    assert config_map["object"]["data"]["AIRFLOW__WEBSERVER__BASE_URL"] == f"{scheme}://airflow.example.com"
    assert plan.outputs["webserverUrl"] == f"{scheme}://airflow.example.com"
    # Known from config: the settings need not wait for the load balancer.
    assert objects["Service/airflow-webserver"]["resource"].urn not in config_map["resource"].dependencies


def test_the_load_balancer_is_awaited_for_its_name_only_before_the_settings_that_carry_it(self_managed_plan):
    """pulumi-kubernetes' default await for a Service also wants endpoints on ready pods; the webservers start only
    after the migration Job, which comes after the settings: a first `pulumi up` would wait for ever. The waitFor
    annotation replaces that await with the load balancer's name; the Job does not wait for the Service itself."""
    objects = _objects(self_managed_plan)
    service = objects["Service/airflow-webserver"]
    assert service["object"]["metadata"]["annotations"]["pulumi.com/waitFor"] == (
        "jsonpath={.status.loadBalancer.ingress[0].hostname}")
    assert service["resource"].urn in objects["ConfigMap/airflow-config"]["resource"].dependencies
    job = next(v["resource"] for k, v in objects.items() if k.startswith("Job/"))
    assert service["resource"].urn not in job.dependencies


def test_the_deployments_roll_on_the_digest_of_the_secrets_they_read(self_managed_plan):
    from k8s.environment import secrets_checksum

    objects = _objects(self_managed_plan)
    values = objects["Secret/airflow-secrets"]["resource"].raw_inputs["stringData"]
    deployments = [v["object"] for k, v in objects.items() if k.startswith("Deployment/") and "secretKeyRef" in str(v["object"])]
    assert len(deployments) >= 3
    for deployment in deployments:  # those that read the Secret
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["checksum/secrets"] == secrets_checksum(values), deployment["metadata"]["name"]


def test_the_image_carries_the_projects_plugins_as_airflows_plugins_folder(self_managed_plan):
    image = self_managed_plan.one("docker-build:index:Image").inputs
    assert image["context"]["location"] == "docker" and image["context"]["named"] == {"plugins": {"location": "plugins"}}
    data = _objects(self_managed_plan)["ConfigMap/airflow-config"]["object"]["data"]
    assert data["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/image/plugins"
    from stackconfig.project_files import PROJECT_DIR

    dockerfile = (PROJECT_DIR / "docker" / "Dockerfile").read_text()
    assert "COPY --from=plugins . /opt/image/plugins/" in dockerfile


def test_without_plugins_the_image_gets_an_empty_plugins_context():
    plan = run_stack("dev", config={"flavour": "self-managed", "airflow": {"pluginsDir": ""}})
    assert plan.error is None
    assert plan.one("docker-build:index:Image").inputs["context"]["named"] == {"plugins": {"location": "docker/no-plugins"}}


def test_changed_settings_roll_the_pods():
    plans = [run_stack("prod"), run_stack("prod", config={"airflow": {"configurationOptions": {"core.parallelism": 64}}})]
    checksums = [
        _objects(p)["Deployment/airflow-scheduler"]["object"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        for p in plans
    ]
    assert checksums[0] != checksums[1]
    assert run_stack("prod").error is None


@pytest.mark.parametrize("tier,tag", [("private", "kubernetes.io/role/internal-elb"), ("public", "kubernetes.io/role/elb")])
def test_subnets_tell_kubernetes_where_load_balancers_go(prod, tier, tag):
    subnets = [s for s in prod.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["tier"] == tier]
    assert subnets and all(s.inputs["tags"][tag] == "1" for s in subnets)


def carry_the_image(version: str) -> set[str]:
    """What embeds the image (the settings name the worker image, the pod template and the workloads run it, the
    metadata cleanup, PgBouncer and the node watcher, which run from it, too); the ConfigMaps are named for the
    Airflow version."""
    suffix = version.replace(".", "-")
    return {
        f"ConfigMap/airflow-config-{suffix}", f"ConfigMap/airflow-pod-template-{suffix}", "Job",
        "Deployment/airflow-scheduler", "Deployment/airflow-webserver", "Deployment/airflow-triggerer",
        "CronJob/airflow-metadata-cleanup", "Deployment/airflow-pgbouncer", "Deployment/airflow-node-readiness",
    }


def _unknown_anywhere(value) -> bool:
    if isinstance(value, dict):
        return any(map(_unknown_anywhere, value.values()))
    if isinstance(value, list):
        return any(map(_unknown_anywhere, value))
    return value == UNKNOWN


def test_a_preview_of_a_new_image_shows_only_the_objects_that_carry_it():
    """With docker/ changed, the image's ref is unknown in a preview: only what embeds it may show as unknown, so
    the diff stays readable and the migration Job's replacement (its name carries the digest) stands out."""
    plan = run_stack("prod", preview_changing=("docker-build:index:Image",))
    assert plan.error is None, plan.error
    assert plan.raw_outputs.get("image") in (None, UNKNOWN) or _unknown_anywhere(plan.outputs.get("image"))
    unknown, known = set(), set()
    for obj, resource in kubernetes_objects(plan):
        name = "Job" if obj["kind"] == "Job" else f"{obj['kind']}/{obj['metadata']['name'] if obj['metadata'] != UNKNOWN else '?'}"
        (unknown if _unknown_anywhere(resource.inputs) else known).add(name)
    assert unknown == carry_the_image(plan.outputs["airflowVersion"]), unknown
    assert {"Namespace/airflow", "Secret/airflow-secrets", "Service/airflow-webserver"} <= known
    job = next(r for o, r in kubernetes_objects(plan) if o["kind"] == "Job")
    assert job.inputs["metadata"] == UNKNOWN or _unknown_anywhere(job.inputs["metadata"])


def test_single_sign_on_renders_the_provider_and_keeps_its_secret_secret():
    """sso.* set as a user would (the client secret with --secret): the UI's settings name the provider, the
    Secret holds the client secret, nothing else shows it, and the redirect URI to register is an output."""
    config = {"workloads": {"webserverHostname": "airflow.example.com",
                            "webserverCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"}}
    # `pulumi config set --secret --path sso.clientSecret ...` makes the key `sso` a secret one.
    sso = {"issuerUrl": "https://idp.example.com/oauth2/default", "clientId": "airflow", "clientSecret": "the-client-secret",
           "roleMapping": {"airflow-admins": ["Admin"]}}
    plan = run_stack("prod", config=config, secret_config={"sso": sso})
    assert plan.error is None, plan.error
    assert plan.outputs["ssoRedirectUri"] == "https://airflow.example.com/oauth-authorized/oidc"
    objects = _objects(plan)
    data = objects["ConfigMap/airflow-config"]["object"]["data"]
    assert data["AIRFLOW_SSO_ISSUER_URL"] == "https://idp.example.com/oauth2/default"
    secret = objects["Secret/airflow-secrets"]["resource"].raw_inputs["stringData"]
    assert secret["sso-client-secret"] == "the-client-secret"
    shown = json.dumps({k: v["object"] for k, v in objects.items() if not k.startswith("Secret/")})
    assert "the-client-secret" not in shown and "the-client-secret" not in json.dumps(plan.outputs)
