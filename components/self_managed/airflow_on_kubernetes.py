"""Airflow on the EKS cluster: the objects of k8s/ as pulumi-kubernetes resources, with generated secrets.

The objects' shape never depends on Outputs, so the list is built once from placeholders to name the resources.
Each resource takes its content from the objects built with the real values of just the Outputs it uses (the
image, the buckets, its role ARN): an object that uses none is plain, so a new image shows in a preview only on the
objects that carry it, and the migration Job's replacement stands out. Nothing runs before the
migration Job has finished: the Deployments depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from k8s import pgbouncer
from k8s.environment import (ADMIN_PASSWORD_KEY, ASYNC_CONNECTION_KEY, CONFIG_MAP as SETTINGS_CONFIG_MAP, DIRECT_CONNECTION_KEY, JWT_SECRET_KEY,
                             PGBOUNCER_USERS_KEY, SSO_CLIENT_SECRET_KEY, secrets_checksum)
from k8s.pod_template import CONFIG_MAP as POD_TEMPLATE_CONFIG_MAP
from k8s.kinds import KINDS, snake
from k8s.manifests import airflow_objects, late_fields_used, with_values
from k8s.service import WEBSERVER_SERVICE
from k8s.spec import PLACEHOLDER as _PLACEHOLDER, AirflowSpec, webserver_url



def _resource_class(kind: str) -> Any:
    """pulumi_kubernetes' class for a kind of k8s/kinds.py (k8s.apps.v1.Deployment, ...)."""
    group, version = KINDS[kind].sdk_module
    return getattr(getattr(getattr(k8s, group), version), kind)


def _resource_name(name: str, kind: str, object_name: str) -> str:
    """The Pulumi name of an object: its Kubernetes name, less what changes with the image (the migration Job's
    digest) or the Airflow version (the settings and pod template ConfigMaps), so that a new one replaces the old
    under the same URN (the names these resources had before their Kubernetes names carried it)."""
    if kind == "Job":
        return f"{name}-job-migrate"
    for versioned in (SETTINGS_CONFIG_MAP, POD_TEMPLATE_CONFIG_MAP):
        if kind == "ConfigMap" and object_name.startswith(f"{versioned}-"):
            return f"{name}-configmap-{versioned}"
    return f"{name}-{kind.lower()}-{object_name}"


def _named_for_the_version(kind: str, object_name: str) -> bool:
    return kind == "ConfigMap" and object_name.startswith((f"{SETTINGS_CONFIG_MAP}-", f"{POD_TEMPLATE_CONFIG_MAP}-"))


@dataclass
class AirflowOnKubernetesArgs:
    # The plain settings (namespace, replicas, resources, ...); the fields below replace its placeholders.
    spec: AirflowSpec
    image: pulumi.Input[str]
    dag_bucket: pulumi.Input[str]
    log_bucket: pulumi.Input[str]
    role_arns: Mapping[str, pulumi.Input[str]]
    # Airflow's connection straight to the instance; with PgBouncer the pods' goes through it, built from these.
    sql_alchemy_conn: pulumi.Input[str]
    provider: k8s.Provider
    # Airflow 3's async engine's, straight to the instance (used without PgBouncer).
    async_sql_alchemy_conn: pulumi.Input[str] = ""
    database_host: pulumi.Input[str] = ""
    database_username: pulumi.Input[str] = ""
    database_password: pulumi.Input[str] = ""
    # sso.clientSecret, with single sign-on (the spec's sso_issuer_url).
    sso_client_secret: Optional[pulumi.Input[str]] = None
    # What the migration Job waits for besides the objects: the database's snapshot before an Airflow upgrade.
    before_migration: list[pulumi.Resource] = field(default_factory=list)


class AirflowOnKubernetes(pulumi.ComponentResource):
    admin_username: str
    admin_password: pulumi.Output[str]
    webserver_hostname: pulumi.Output[str]
    webserver_url: pulumi.Output[str]
    applied: list[pulumi.Resource]

    def __init__(self, name: str, args: AirflowOnKubernetesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("airflowaws:index:AirflowOnKubernetes", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        fernet = random.RandomBytes(f"{name}-fernet-key", length=32, opts=child)
        secret_key = random.RandomPassword(f"{name}-webserver-secret-key", length=48, special=False, opts=child)
        admin_password = random.RandomPassword(f"{name}-admin-password", length=24, special=False, opts=child)
        secret_values = {
            # Fernet keys are URL-safe base64 of 32 bytes.
            "fernet-key": fernet.base64.apply(lambda b: b.replace("+", "-").replace("/", "_")),
            "sql-alchemy-conn": args.sql_alchemy_conn,
            "webserver-secret-key": secret_key.result,
            ADMIN_PASSWORD_KEY: admin_password.result,
        }
        if args.spec.sso_issuer_url:
            secret_values[SSO_CLIENT_SECRET_KEY] = args.sso_client_secret
        if args.spec.pgbouncer_replicas:
            login = pulumi.Output.all(args.database_username, args.database_password)
            secret_values.update({
                "sql-alchemy-conn": login.apply(lambda v: pgbouncer.pooled_url(args.spec, v[0], v[1])),
                DIRECT_CONNECTION_KEY: args.sql_alchemy_conn,
                PGBOUNCER_USERS_KEY: login.apply(lambda v: pgbouncer.users_file(v[0], v[1])),
            })
            if args.spec.airflow3:
                secret_values[ASYNC_CONNECTION_KEY] = login.apply(
                    lambda v: pgbouncer.pooled_url(args.spec, v[0], v[1], asynchronous=True))
        if args.spec.airflow3:
            secret_values[ASYNC_CONNECTION_KEY] = args.async_sql_alchemy_conn
            # Signs the JWTs of Airflow 3's api-server; generated once, like the fernet key, shared by every pod.
            # 64 characters: HS512 wants a key of at least 64 bytes (PyJWT warns below that).
            jwt_secret = random.RandomPassword(f"{name}-jwt-secret", length=64, special=False, opts=child)
            secret_values[JWT_SECRET_KEY] = jwt_secret.result

        # Only the Secret's data is secret: built apart, so the rest of the objects stays readable in diffs.
        secret_data = pulumi.Output.secret(pulumi.Output.all(**secret_values))
        late: dict[str, pulumi.Input[str]] = {
            # A digest, not the values (k8s/environment.py): shown in plain text so the Deployments' diffs stay readable.
            "secrets_checksum": pulumi.Output.unsecret(secret_data.apply(secrets_checksum)),
            "image": args.image,
            "dag_bucket": args.dag_bucket,
            "log_bucket": args.log_bucket,
            "database_host": args.database_host,
            **{f"role_arns:{account}": arn for account, arn in args.role_arns.items()},
        }
        if args.spec.webserver_hostname_configured:  # workloads.webserverHostname: known from config
            late["webserver_url"] = args.spec.webserver_url
        placeholders = {key: _PLACEHOLDER for key in secret_values}
        skeleton = airflow_objects(args.spec, placeholders)
        used = late_fields_used(args.spec, placeholders)

        def part(index: int, key: str) -> Any:
            """Field `key` of object `index`, with the late values it uses; plain when it uses none."""
            fields = used[index][key]
            if not fields:
                return skeleton[index][key]
            missing = [f for f in fields if f not in late]
            if missing:  # k8s/manifests.py orders the objects so that what gives a late value comes first
                raise RuntimeError(f"{skeleton[index]['kind']} {skeleton[index]['metadata']['name']} needs {missing} "
                                   "before the object that gives it")
            return pulumi.Output.all(*[late[f] for f in fields]).apply(
                lambda values: airflow_objects(with_values(args.spec, dict(zip(fields, values))), placeholders)[index][key]
            )

        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        created: dict[str, pulumi.Resource] = {}
        namespace: Optional[pulumi.Resource] = None
        migration: Optional[pulumi.Resource] = None
        for index, shape in enumerate(skeleton):
            kind, object_name = shape["kind"], shape["metadata"]["name"]
            cls = _resource_class(kind)
            kwargs = {snake(field): part(index, field) for field in KINDS[kind].fields if field in shape}
            if kind == "Secret":
                kwargs["string_data"] = secret_data
            depends = [namespace] if namespace is not None else []
            if kind in ("Deployment", "CronJob") and migration is not None:
                depends.append(migration)  # Airflow starts on a migrated database only
            if kind == "Job":
                # Accounts, settings and secrets first; on an Airflow upgrade also the database's snapshot. Not the
                # load balancer as such: the settings wait for its name when the base URL is that name.
                depends = [r for key, r in created.items() if key != f"Service/{WEBSERVER_SERVICE}"]
                depends += args.before_migration
            resource_name = _resource_name(name, kind, object_name)
            resource = cls(
                resource_name,
                metadata=part(index, "metadata"),
                **kwargs,
                opts=pulumi.ResourceOptions.merge(
                    on_cluster,
                    pulumi.ResourceOptions(
                        depends_on=depends,
                        custom_timeouts=pulumi.CustomTimeouts(create="30m", update="30m") if kind == "Job" else None,
                        # A new image gets a new Job (its name carries the image digest); the old one goes first.
                        delete_before_replace=kind == "Job",
                        # The old version's settings stay for its pods: Pulumi would delete a replaced ConfigMap at
                        # the start of the next update, under old pods that restart while a retried migration runs.
                        # Server-side apply upserts, so coming back to a version adopts its kept ConfigMap.
                        retain_on_delete=_named_for_the_version(kind, object_name),
                    ),
                ),
            )
            created[f"{kind}/{object_name}"] = resource
            if kind == "Namespace":
                namespace = resource
            if kind == "Job":
                migration = resource
            if kind == "Service" and object_name == WEBSERVER_SERVICE:
                self.webserver_hostname = _load_balancer_hostname(resource)
                late.setdefault("webserver_url", self.webserver_hostname.apply(
                    # Empty only if the Service was not awaited: Airflow then treats the option as unset.
                    lambda host: webserver_url(host, args.spec.webserver_certificate_arn) if host else ""))
        # Every object, the migration Job and the Deployments' rollouts included (pulumi-kubernetes awaits them).
        self.applied = list(created.values())

        self.admin_username = args.spec.admin_username
        self.admin_password = pulumi.Output.secret(admin_password.result)
        self.webserver_url = pulumi.Output.from_input(late["webserver_url"])
        self.register_outputs({"adminUsername": self.admin_username, "webserverHostname": self.webserver_hostname,
                               "webserverUrl": self.webserver_url})


def _load_balancer_hostname(service: pulumi.Resource) -> pulumi.Output[str]:
    """The DNS name AWS gave the Service's load balancer (pulumi-kubernetes waits for it before the Service is
    ready)."""
    return service.status.apply(  # type: ignore[attr-defined]
        lambda status: status.load_balancer.ingress[0].hostname
        if status and status.load_balancer and status.load_balancer.ingress
        else ""
    )

