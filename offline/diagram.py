"""`python -m offline.diagram --stack prod`: the stack's architecture as a picture, drawn from its offline plan: the
VPC with its subnets per zone, NAT gateways and endpoints, the Airflow runtime (MWAA, or EKS with its node group,
Airflow's pods, RDS and ECR), the buckets, key, secrets, logs and alarms, and the main data paths (DAGs from the
bucket, task logs to S3, secrets lookups, the metadata database). Writes docs/diagrams/<stack>.dot, .svg and .png;
Graphviz's `dot` renders them (Debian's `graphviz`).

Everything drawn comes from the plan: a resource the stack does not create is not in its picture.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Optional

import graphviz

from offline.engine import PROJECT_DIR, Plan, RecordedResource, run_stack

OUT_DIR = PROJECT_DIR / "docs" / "diagrams"
FONT = "Helvetica"
# Colours of the kinds of thing drawn, so that a picture reads at a glance.
NETWORK, COMPUTE, DATA, SECURITY, OBSERVE = "#e8f1fb", "#fdf0e1", "#e9f6ec", "#fbe9ec", "#f1ecf8"


def _of(plan: Plan, typ: str) -> list[RecordedResource]:
    return sorted(plan.of_type(typ), key=lambda r: r.name)


def _id(resource: RecordedResource) -> str:
    """A node's name in the DOT source: the resource's Pulumi name (a URN's colons read as DOT's node ports)."""
    return re.sub(r"\W", "_", resource.name)


def _node(graph: graphviz.Digraph, key: str, label: str, fill: str, shape: str = "box", **attrs: str) -> None:
    graph.node(key, label.replace("\n", "\\n"), shape=shape, style="rounded,filled", fillcolor=fill, fontname=FONT,
               fontsize="11", **attrs)


# What each bucket is for, by the component that creates it (components/shared/, components/self_managed/).
BUCKET_ROLES = {"AccessLogBucket": "access logs", "TaskLogBucket": "task logs", "DagBucket": "DAGs"}


def _bucket_role(bucket: RecordedResource, managed: bool) -> str:
    owner = (bucket.parent or "").rsplit("::", 1)[0].rsplit(":", 1)[-1]
    role = BUCKET_ROLES.get(owner, "data")
    # MWAA reads its plugins and requirements from the DAG bucket too; the self-managed image carries them.
    return "DAGs, plugins, requirements" if role == "DAGs" and managed else role


def _deployments(plan: Plan) -> list[tuple[str, object]]:
    """(name, replicas) of the Airflow Deployments the stack applies."""
    found = []
    for resource in _of(plan, "kubernetes:apps/v1:Deployment"):
        metadata, spec = resource.inputs.get("metadata") or {}, resource.inputs.get("spec") or {}
        name = metadata.get("name") if isinstance(metadata, dict) else None
        replicas = spec.get("replicas", 1) if isinstance(spec, dict) else 1
        found.append((str(name or resource.name), int(replicas) if isinstance(replicas, (int, float)) else "?"))
    return sorted(found)


def _secrets_prefixes(plan: Plan) -> list[str]:
    backend = plan.outputs.get("secretsBackend") or {}
    kwargs = backend.get("secrets.backend_kwargs") if isinstance(backend, dict) else None
    try:
        options = json.loads(kwargs) if isinstance(kwargs, str) else (kwargs or {})
    except ValueError:
        options = {}
    return [f"{options[k]}/*" for k in ("variables_prefix", "connections_prefix") if options.get(k)]


def diagram(plan: Plan) -> graphviz.Digraph:
    region = plan.outputs.get("region", "")
    flavour = plan.outputs.get("flavour", "")
    graph = graphviz.Digraph(name=plan.stack, comment=f"{plan.project} stack {plan.stack}: drawn from its offline plan")
    graph.attr(rankdir="LR", fontname=FONT, fontsize="12", compound="true", newrank="true", nodesep="0.25",
               ranksep="0.6", label=f"{plan.project} · stack {plan.stack} · {flavour} · {region}", labelloc="t")
    graph.attr("edge", fontname=FONT, fontsize="9", color="#555555")

    subnets = _of(plan, "aws:ec2/subnet:Subnet")
    nats = _of(plan, "aws:ec2/natGateway:NatGateway")
    subnet_ids = {r.id: r for r in subnets if r.id}
    by_zone: dict[str, list[RecordedResource]] = defaultdict(list)
    for subnet in subnets:
        by_zone[str(subnet.inputs.get("availabilityZone", "?"))].append(subnet)

    _node(graph, "internet", "Internet", "#ffffff", shape="ellipse")
    vpcs = _of(plan, "aws:ec2/vpc:Vpc")
    # A stack that adopts a VPC (network.vpcId) creates none: its runtime is drawn in the one it names.
    vpc_label = f"VPC {vpcs[0].inputs.get('cidrBlock', '')}" if vpcs else f"existing VPC {plan.outputs.get('vpcId', '')}"
    with graph.subgraph(name="cluster_vpc") as net:
        net.attr(label=vpc_label, style="rounded,dashed", color="#4a78b5", fontname=FONT)
        for zone in sorted(by_zone):
            with net.subgraph(name=f"cluster_zone_{zone}") as z:
                z.attr(label=f"zone {zone}", style="rounded", color="#9bb7dc", fontname=FONT)
                for subnet in sorted(by_zone[zone], key=lambda s: s.name):
                    tier = (subnet.inputs.get("tags") or {}).get("tier", "")
                    _node(z, _id(subnet), f"{tier} subnet\n{subnet.inputs.get('cidrBlock', '')}", NETWORK)
                    for nat in nats:
                        if subnet_ids.get(nat.inputs.get("subnetId")) is subnet:
                            _node(z, _id(nat), "NAT gateway", NETWORK, shape="octagon")
                            z.edge(_id(subnet), _id(nat), style="invis")
        for endpoint in _of(plan, "aws:ec2/vpcEndpoint:VpcEndpoint"):
            service = str(endpoint.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
            kind = str(endpoint.inputs.get("vpcEndpointType", "Interface")).lower()
            _node(net, _id(endpoint), f"{service} endpoint\n({kind})", NETWORK, shape="cds")
        runtime = _runtime(net, plan)
    for gateway in _of(plan, "aws:ec2/internetGateway:InternetGateway"):
        _node(graph, _id(gateway), "internet gateway", NETWORK, shape="octagon")
        graph.edge(_id(gateway), "internet", dir="both")
        for nat in nats:
            graph.edge(_id(nat), _id(gateway), label="egress")

    with graph.subgraph(name="cluster_regional") as regional:
        regional.attr(label=f"regional services · {region}", style="rounded,dashed", color="#888888", fontname=FONT)
        buckets = {}
        for bucket in _of(plan, "aws:s3/bucket:Bucket"):
            role = _bucket_role(bucket, flavour == "managed")
            buckets[role] = _id(bucket)
            _node(regional, _id(bucket), f"S3 bucket\n{role}", DATA, shape="cylinder")
        for key in _of(plan, "aws:kms/key:Key"):
            _node(regional, _id(key), "KMS key\n(the stack's own)", SECURITY, shape="component")
        prefixes = _secrets_prefixes(plan)
        if prefixes:
            _node(regional, "secrets", "Secrets Manager\n" + "\n".join(prefixes), SECURITY, shape="component")
        for repository in _of(plan, "aws:ecr/repository:Repository"):
            _node(regional, _id(repository), "ECR repository\nthe Airflow image", COMPUTE, shape="folder")
        groups = _of(plan, "aws:cloudwatch/logGroup:LogGroup")
        if groups:
            _node(regional, "logs", f"CloudWatch Logs\n{len(groups)} log groups", OBSERVE, shape="note")
        alarms = _of(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
        topics = _of(plan, "aws:sns/topic:Topic")
        if alarms:
            dashboards = len(_of(plan, "aws:cloudwatch/dashboard:Dashboard"))
            _node(regional, "alarms", f"CloudWatch\n{len(alarms)} alarms, {dashboards} dashboard(s)", OBSERVE,
                  shape="note")
            for topic in topics:
                _node(regional, _id(topic), "SNS topic\nalarm notifications", OBSERVE, shape="note")
                regional.edge("alarms", _id(topic))

    _data_paths(graph, plan, runtime, buckets, bool(prefixes), groups, bool(alarms))
    return graph


def _runtime(net: graphviz.Digraph, plan: Plan) -> dict[str, str]:
    """The Airflow runtime inside the VPC; returns the node names the data paths join."""
    joins: dict[str, str] = {}
    for environment in _of(plan, "aws:mwaa/environment:Environment"):
        i = environment.inputs
        workers = f"{i.get('minWorkers', 1)}-{i.get('maxWorkers', '?')} workers"
        access = {"PRIVATE_ONLY": "private UI", None: "private UI"}.get(i.get("webserverAccessMode"), "public UI")
        _node(net, _id(environment), f"Amazon MWAA\n{i.get('environmentClass', '')} · {workers}\n"
              f"Airflow {i.get('airflowVersion', '')} · {access}", COMPUTE, shape="box3d")
        joins.update(airflow=_id(environment), mwaa=_id(environment), ui=_id(environment))
        if i.get("webserverAccessMode") in ("PUBLIC_ONLY", "PUBLIC_AND_PRIVATE"):
            joins["ui public"] = "yes"
    clusters = _of(plan, "eks:index:Cluster")
    if clusters:
        cluster = clusters[0]
        with net.subgraph(name="cluster_eks") as eks:
            eks.attr(label=f"EKS {cluster.inputs.get('version', '')} · namespace {plan.outputs.get('namespace', '')}",
                     style="rounded,filled", fillcolor="#fffaf3", color="#d9a55b", fontname=FONT)
            for group in _of(plan, "eks:index:ManagedNodeGroup"):
                scaling = group.inputs.get("scalingConfig") or {}
                types = ", ".join(group.inputs.get("instanceTypes") or [])
                _node(eks, _id(group), f"node group\n{types}\n{scaling.get('minSize', '?')}-{scaling.get('maxSize', '?')} "
                      f"nodes · {group.inputs.get('capacityType', '')}", COMPUTE, shape="box3d")
                joins["nodes"] = _id(group)
            for name, replicas in _deployments(plan):
                key = "pod_" + re.sub(r"\W", "_", name)
                _node(eks, key, f"{name}\n×{replicas}", COMPUTE)
                joins[name.removeprefix("airflow-")] = key
            _node(eks, "pod_workers", "worker pods\none per task", COMPUTE, peripheries="2")
            for service in _of(plan, "kubernetes:core/v1:Service"):
                spec = service.inputs.get("spec") or {}
                if isinstance(spec, dict) and spec.get("type") == "LoadBalancer":
                    annotations = (service.inputs.get("metadata") or {}).get("annotations") or {}
                    internal = annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal") == "true"
                    _node(net, _id(service), f"network load balancer\n{'internal' if internal else 'internet-facing'}",
                          NETWORK, shape="hexagon")
                    joins["load balancer"] = _id(service)
            joins["workers"] = "pod_workers"
            joins["airflow"] = joins.get("scheduler", "pod_workers")
            if "webserver" in joins:
                joins["ui"] = joins["webserver"]
    for database in _of(plan, "aws:rds/instance:Instance"):
        i = database.inputs
        _node(net, _id(database), f"RDS PostgreSQL {i.get('engineVersion', '')}\n{i.get('instanceClass', '')}"
              f"{' · Multi-AZ' if i.get('multiAz') else ''}\nmetadata database", DATA, shape="cylinder")
        joins["database"] = _id(database)
    return joins


def _data_paths(graph: graphviz.Digraph, plan: Plan, joins: dict[str, str], buckets: dict[str, str],
                secrets: bool, groups: list[RecordedResource], alarms: bool) -> None:
    """The main paths. On EKS every Airflow pod (its components and the worker pods) reads the DAGs, the secrets
    and the database and sends StatsD (components/self_managed/workload_identity_policy.py AIRFLOW_ACCESS,
    k8s/metrics.py): those edges go to or from the cluster's box as a whole."""
    eks = "pod_workers" in joins
    every_pod = {"lhead": "cluster_eks"} if eks else {}
    from_every_pod = {"ltail": "cluster_eks"} if eks else {}
    dags = next((urn for role, urn in buckets.items() if role.startswith("DAGs")), None)
    if dags and "airflow" in joins:
        graph.edge(dags, joins["airflow"], label="DAGs" + (" (every Airflow pod)" if eks else ""), color="#2e7d32",
                   **every_pod)
    if buckets.get("task logs") and "airflow" in joins:
        graph.edge(joins["airflow"], buckets["task logs"], label="task logs (written, read)", color="#2e7d32",
                   dir="both", **from_every_pod)
    every_bucket = plan.of_type("aws:s3/bucket:Bucket")

    def bucket_in(resource: RecordedResource, prop: str) -> Optional[str]:
        return next((_id(b) for b in every_bucket if b.urn in resource.property_dependencies.get(prop, [])), None)

    for logging in plan.of_type("aws:s3/bucketLogging:BucketLogging"):
        source, target = bucket_in(logging, "bucket"), bucket_in(logging, "targetBucket")
        if source and target:
            graph.edge(source, target, label="access logs", style="dashed")
    if secrets and "airflow" in joins:
        graph.edge(joins["airflow"], "secrets", label="Variables, Connections", color="#b23a48", **from_every_pod)
    if "database" in joins and "airflow" in joins:
        via = joins.get("pgbouncer")
        if via:
            graph.edge(joins["airflow"], via, label="SQL (every Airflow pod)")
            graph.edge(via, joins["database"], label="TLS")
        else:
            graph.edge(joins["airflow"], joins["database"], label="TLS", **from_every_pod)
    for repository in _of(plan, "aws:ecr/repository:Repository"):
        if "nodes" in joins:
            graph.edge(_id(repository), joins["nodes"], label="image")
    _log_paths(graph, joins, groups)
    if "metrics" in joins:
        graph.edge(joins["airflow"], joins["metrics"], label="StatsD (every Airflow process)", style="dashed")
        if "node-readiness" in joins:
            graph.edge(joins["node-readiness"], joins["metrics"], label="StatsD", style="dashed")
    if alarms and "airflow" in joins:
        graph.edge(joins.get("metrics", joins["airflow"]), "alarms", label="metrics", style="dashed")
    if "ui" in joins and joins.get("ui public"):
        graph.edge("internet", joins["ui"], label="UI (public)")
    if "ui" in joins and "load balancer" in joins:
        graph.edge(joins["load balancer"], joins["ui"], label="UI")


def _log_paths(graph: graphviz.Digraph, joins: dict[str, str], groups: list[RecordedResource]) -> None:
    """Who writes the stack's log groups: MWAA its components' logs; on EKS the control plane, RDS and the VPC's
    flow logs (Airflow's pods send their task logs to S3)."""
    owners: dict[tuple[str, str], None] = {}
    for group in groups:
        name = str(group.inputs.get("name", ""))
        if "mwaa" in joins:
            owners[(joins["mwaa"], "")] = None
        elif name.startswith("/aws/eks/") and "nodes" in joins:
            owners[(joins["nodes"], "cluster_eks")] = None
        elif name.startswith("/aws/rds/") and "database" in joins:
            owners[(joins["database"], "")] = None
        elif name.startswith("/aws/vpc/") and "database" in joins:
            owners[(joins["database"], "cluster_vpc")] = None
    for (source, tail), _ in owners.items():
        label = {"cluster_eks": "control plane logs", "cluster_vpc": "flow logs"}.get(tail, "logs")
        graph.edge(source, "logs", label=label, style="dashed", **({"ltail": tail} if tail else {}))


def render(source: str, fmt: str, dot: Optional[str] = None) -> bytes:
    """`source` rendered by Graphviz's `dot` as `fmt` (svg, png)."""
    program = dot or shutil.which("dot")
    if program is None:
        raise FileNotFoundError("Graphviz's dot is not installed: sudo apt-get install graphviz (Debian, Ubuntu) "
                                "or brew install graphviz")
    done = subprocess.run([program, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace"))
    return done.stdout


def write(stack: str, out_dir: Path = OUT_DIR) -> list[Path]:
    plan = run_stack(stack)
    if plan.error is not None:
        raise SystemExit(str(plan.error))
    source = diagram(plan).source
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stack}.dot"]
    written[0].write_text(source, encoding="utf-8")
    for fmt in ("svg", "png"):
        path = out_dir / f"{stack}.{fmt}"
        path.write_bytes(render(source, fmt))
        written.append(path)
    return written


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="make diagram", description=__doc__)
    parser.add_argument("--stack", required=True, action="append", help="a stack file's name (repeat for several)")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    try:
        for stack in args.stack:
            for path in write(stack, args.out):
                print(path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
