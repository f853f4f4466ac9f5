"""`make cost` (cost/estimate.py, offline/cost.py) over the four stack/flavour plans: what each line counts comes
from the stack files' own settings, every price from the shipped table, and the total is the lines' sum."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from cost.estimate import NOT_BILLED, RULES, Assumptions, EstimateError, estimate
from cost.table import PriceError, PriceTable
from offline import cost as cli
from tests.conftest import PROJECT_DIR

TABLE = PriceTable.load()


def _config(stack: str) -> dict:
    config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("airflow-on-aws:")} | {
        "region": config["aws:region"]}


def _estimate(plans, name: str, **assumptions):
    plan = plans[name]
    return estimate(plan.resources, stack=name, flavour=plan.outputs["flavour"], region=plan.outputs["region"],
                    table=TABLE, assumptions=Assumptions(**assumptions))


def _lines(result, key: str):
    return [line for line in result.lines if line.key == key]


def _one(result, key: str):
    found = _lines(result, key)
    assert len(found) == 1, f"{key}: {found}"
    return found[0]


@pytest.mark.parametrize("name", ["dev", "prod", "dev+self-managed", "prod+managed"])
def test_every_line_takes_its_price_from_the_table_or_says_it_has_none(stack_plans, name):
    result = _estimate(stack_plans, name)
    region = stack_plans[name].outputs["region"]
    assert result.region == region and result.lines
    prices = TABLE.regions[region]
    for line in result.lines:
        if line.key in prices:
            assert line.source == prices[line.key].source and line.kind == prices[line.key].kind
            assert line.unit_usd == prices[line.key].usd or line.assumption == "spotDiscount"
        else:
            assert line.unit_usd is None and line.monthly_usd == 0 and line.key in result.missing
    assert result.missing == list(dict.fromkeys(line.key for line in result.lines if line.key not in prices))
    assert result.complete == (not result.missing)
    assert result.total_usd == pytest.approx(sum(line.quantity * line.unit_usd for line in result.lines
                                                 if line.unit_usd is not None))


def test_the_self_managed_stack_counts_what_its_file_configures(stack_plans):
    config = _config("prod")
    cluster, database = config["cluster"], config["database"]
    result = _estimate(stack_plans, "prod")
    hours = Assumptions().hoursPerMonth
    nodes = _one(result, f"ec2:instance:{cluster['nodeInstanceTypes'][0]}")
    assert nodes.quantity == cluster["desiredNodes"] * hours
    assert _one(result, "ebs:gp3").quantity == cluster["desiredNodes"] * cluster["nodeDiskSizeGb"]
    deployment = "multi-az" if database["multiAz"] else "single-az"
    assert _one(result, f"rds:postgres:{database['instanceClass']}:{deployment}").quantity == hours
    assert _one(result, f"rds:gp3:{deployment}").quantity == database["allocatedStorageGb"]
    assert _one(result, "eks:cluster:standard").quantity == hours
    zones = len(config["network"]["availabilityZones"])
    assert config["network"]["natGateways"] == "perAz"
    assert _one(result, "vpc:nat-gateway:hour").quantity == zones * hours
    assert _one(result, "vpc:public-ipv4:hour").quantity == zones * hours  # each NAT gateway's Elastic IP
    assert _one(result, "elb:nlb:hour").quantity == hours  # the web server's Service
    assert _one(result, "kms:key").quantity == 1  # mwaa.kmsKey: create
    assert _one(result, "cloudwatch:vended-logs-ingest").assumption == "flowLogGbPerMonth"


def test_spot_nodes_are_the_types_mean_on_demand_price_less_the_stated_discount(stack_plans):
    cluster = _config("dev")["cluster"]
    assert cluster["capacityType"] == "SPOT"
    result = _estimate(stack_plans, "dev+self-managed", spotDiscount=0.7)
    line = _one(result, f"ec2:instance:{cluster['nodeInstanceTypes'][0]}")
    mean = sum(TABLE.price("eu-west-1", f"ec2:instance:{t}").usd for t in cluster["nodeInstanceTypes"]) / len(
        cluster["nodeInstanceTypes"])
    assert line.unit_usd == pytest.approx(mean * 0.3) and line.assumption == "spotDiscount"
    assert line.quantity == cluster["desiredNodes"] * Assumptions().hoursPerMonth


def test_mwaa_bills_what_its_class_does_not_include(stack_plans):
    mwaa = _config("prod")["mwaa"]
    klass, hours = mwaa["environmentClass"], Assumptions().hoursPerMonth
    result = _estimate(stack_plans, "prod+managed", mwaaExtraWorkers=1.5)
    assert _one(result, f"mwaa:environment:{klass}").quantity == hours
    assert _one(result, f"mwaa:scheduler:{klass}").quantity == (mwaa["schedulers"] - 2) * hours
    workers = _lines(result, f"mwaa:worker:{klass}")
    assert [w.quantity for w in workers] == [(mwaa["minWorkers"] - 1) * hours, 1.5 * hours]
    assert "above minWorkers" in workers[1].item and result.assumptions_read["mwaaExtraWorkers"] == 1.5
    assert not _lines(result, f"mwaa:webserver:{klass}")  # minWebservers 2 is what the environment includes
    # mw1.micro: one scheduler-worker and one web server, nothing additional.
    dev = _estimate(stack_plans, "dev")
    assert [line.key for line in dev.lines if line.key.startswith("mwaa:")] == [
        "mwaa:environment:mw1.micro", "mwaa:metadata-storage"]


def test_an_assumption_moves_its_line_and_the_total_by_its_price(stack_plans):
    base = _estimate(stack_plans, "prod")
    more = _estimate(stack_plans, "prod", natGbPerMonth=600)
    per_gb = TABLE.price("eu-west-1", "vpc:nat-gateway:gb").usd
    assert more.total_usd - base.total_usd == pytest.approx(500 * per_gb)


def test_json_has_the_total_and_the_lines_behind_it(capsys):
    assert cli.main(["--stack", "prod", "--format", "json", "--assume", "natGbPerMonth=250 logGbPerMonth=30"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["totalMonthlyUsd"] == pytest.approx(sum(line["monthlyUsd"] for line in document["lines"]),
                                                        abs=0.01 * len(document["lines"]))
    assert document["assumptions"]["natGbPerMonth"] == 250 and document["assumptions"]["logGbPerMonth"] == 30
    assert document["region"] == "eu-west-1" and document["flavour"] == "self-managed"
    unpriced = [line["priceKey"] for line in document["lines"] if line["unitUsd"] is None]
    assert document["unpriced"] == list(dict.fromkeys(unpriced)) and document["complete"] == (not unpriced)
    assert all(line["source"] and line["sourceKind"] for line in document["lines"] if line["unitUsd"] is not None)


def test_text_prints_the_total_the_assumptions_used_and_what_is_not_counted(capsys):
    assert cli.main(["--stack", "dev"]) == 0
    out = capsys.readouterr().out
    total = cli.stack_estimate("dev").total_usd
    assert "Total a month" in out and f"${total:,.2f}" in out
    assert "natGbPerMonth = 100" in out and "spotDiscount" not in out  # dev's MWAA has no Spot nodes
    assert "data transfer out to the internet" in out


@pytest.mark.parametrize("argument, message", [
    ("natGbPerMonth=-1", "--assume natGbPerMonth='-1': expected a finite number of at least 0"),
    ("natGbPerMonth=inf", "--assume natGbPerMonth='inf': expected a finite number of at least 0"),
    ("hoursPerMonth=0", "--assume hoursPerMonth='0': expected hours above 0 and at most 744"),
    ("spotDiscount=1.5", "--assume spotDiscount='1.5': expected a fraction from 0 to below 1"),
    ("natGB=5", "--assume 'natGB=5': expected name=value with a name of hoursPerMonth, natGbPerMonth"),
    ("eksExtendedSupport=yes", "--assume eksExtendedSupport='yes': expected true or false"),
])
def test_a_bad_assumption_is_refused_with_what_is_allowed(capsys, argument, message):
    assert cli.main(["--stack", "dev", "--assume", argument]) == 1
    assert message in capsys.readouterr().err


def test_a_region_without_prices_is_refused_with_the_regions_offered(stack_plans):
    plan = stack_plans["dev"]
    with pytest.raises(PriceError, match=r"no prices for region 'sa-east-1' \(aws:region\): the table has "
                                         r"ap-southeast-1, eu-central-1, eu-west-1, us-east-1.*make prices "
                                         r"REGION=sa-east-1"):
        estimate(plan.resources, stack="dev", flavour="managed", region="sa-east-1", table=TABLE)


def test_a_price_missing_from_the_table_leaves_its_line_unpriced_and_says_how_to_add_it(tmp_path, capsys):
    entries = {k: v for k, v in TABLE.regions["eu-west-1"].items() if k != "ec2:instance:m6i.xlarge"}
    path = tmp_path / "prices.json"
    PriceTable(regions={"eu-west-1": entries}).write(path)
    assert cli.main(["--stack", "prod", "--prices", str(path)]) == 0
    out = capsys.readouterr().out
    assert "EC2 m6i.xlarge nodes (On-Demand) x 3" in out and "no price" in out
    assert "Total a month of the priced lines (INCOMPLETE)" in out
    assert "  - ec2:instance:m6i.xlarge (EC2 m6i.xlarge (Linux, On-Demand))" in out
    add = [line for line in out.splitlines() if 'make prices REGION=eu-west-1 ADD="' in line]
    assert len(add) == 1 and "ec2:instance:m6i.xlarge" in add[0].split("ADD=")[1].strip('"').split()
    # --strict: an incomplete estimate is an error.
    assert cli.main(["--stack", "prod", "--prices", str(path), "--strict"]) == 1
    assert "the estimate is incomplete (--strict)" in capsys.readouterr().err


def test_a_resource_type_with_no_rule_stops_the_estimate(stack_plans):
    plan = stack_plans["dev"]
    stray = dataclasses.replace(plan.resources[-1], type="aws:elasticache/cluster:Cluster", name="cache")
    with pytest.raises(EstimateError, match=r"no rule for aws:elasticache/cluster:Cluster: price it in "
                                            r"cost/estimate.py \(RULES\), or name it in NOT_BILLED"):
        estimate([*plan.resources, stray], stack="dev", flavour="managed", region="eu-west-1", table=TABLE)
    assert not set(RULES) & set(NOT_BILLED)


def test_the_table_covers_the_regions_offered_and_every_entry_says_its_source():
    assert set(TABLE.regions) >= {"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1"}
    for region, entries in TABLE.regions.items():
        assert entries, region
        for key, price in entries.items():
            assert price.source.startswith("https://") and price.date and price.note, (region, key)


def test_the_table_refuses_an_entry_without_its_source(tmp_path: Path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"regions": {"eu-west-1": {"kms:key": {
        "usd": 1.0, "source": " ", "date": "2026-11-01", "kind": "aws"}}}}))
    with pytest.raises(PriceError, match="eu-west-1 kms:key: every price says where it was read and its source's date"):
        PriceTable.load(path)
    path.write_text(json.dumps({"regions": {"eu-west-1": {"kms:key": {
        "usd": 1.0, "source": "https://aws.amazon.com/kms/pricing/", "date": "1 May 2026", "kind": "aws"}}}}))
    with pytest.raises(PriceError, match=r"source's date \(YYYY-MM-DD, or undated\), not '1 May 2026'"):
        PriceTable.load(path)
    path.write_text(json.dumps({"regions": {"eu-west-1": {"ec2:instanc:m6i.large": {
        "usd": 1.0, "source": "s", "date": "d", "kind": "guess"}}}}))
    with pytest.raises(PriceError, match="names no price this project knows.*kind 'guess' is not one of"):
        PriceTable.load(path)


def test_nodes_are_counted_at_the_desired_size_not_the_minimum(stack_plans):
    plan = stack_plans["prod"]
    resources = [dataclasses.replace(r, inputs={**r.inputs, "scalingConfig": {"minSize": 3, "desiredSize": 5,
                                                                               "maxSize": 12}})
                 if r.type == "eks:index:ManagedNodeGroup" else r for r in plan.resources]
    result = estimate(resources, stack="prod", flavour="self-managed", region="eu-west-1", table=TABLE)
    assert _one(result, "ec2:instance:m6i.xlarge").quantity == 5 * Assumptions().hoursPerMonth
    assert _one(result, "ebs:gp3").quantity == 5 * _config("prod")["cluster"]["nodeDiskSizeGb"]


def test_cost_readme_documents_every_assumption_with_its_default():
    import re

    text = (PROJECT_DIR / "cost" / "README.md").read_text()
    documented = dict(re.findall(r"^\| `(\w+)` \| ([\w.]+) \|", text, flags=re.M))
    defaults = {f.name: f.default for f in dataclasses.fields(Assumptions)}
    assert set(documented) == set(defaults)
    for name, default in defaults.items():
        expected = "unset" if default is None else str(default).lower() if isinstance(default, bool) else f"{default:g}"
        assert documented[name] == expected, name


def test_a_small_plan_comes_to_the_figure_worked_by_hand():
    """One NAT gateway with its Elastic IP, a metric math alarm over two metrics and a key, in eu-west-1 at
    prices set here: 730 h x 0.05 + 100 GB x 0.04 + 730 h x 0.005 + 2 x 0.10 + 1.00 = 36.50 + 4.00 + 3.65 + 0.20 + 1.00
    = 45.35."""
    from cost.table import Price

    def res(typ, name, **inputs):
        return dataclasses.make_dataclass("R", ["type", "name", "inputs", "id"])(typ, name, inputs, None)

    plan = [res("aws:ec2/natGateway:NatGateway", "nat"), res("aws:ec2/eip:Eip", "ip"),
            res("aws:cloudwatch/metricAlarm:MetricAlarm", "stuck", metricQueries=[
                {"id": "a", "metric": {"metricName": "x"}}, {"id": "b", "metric": {"metricName": "y"}},
                {"id": "e", "expression": "a + b", "returnData": True}]),
            res("aws:kms/key:Key", "key")]
    prices = {"vpc:nat-gateway:hour": 0.05, "vpc:nat-gateway:gb": 0.04, "vpc:public-ipv4:hour": 0.005,
              "cloudwatch:alarm": 0.10, "kms:key": 1.00}
    table = PriceTable(regions={"eu-west-1": {k: Price(usd=v, source="s", date="undated", kind="aws")
                                              for k, v in prices.items()}})
    result = estimate(plan, stack="t", flavour="managed", region="eu-west-1", table=table)
    assert result.complete and round(result.total_usd, 2) == 45.35
    assert _one(result, "cloudwatch:alarm").quantity == 2


def test_mwaa_averages_above_the_minimum_stop_at_the_maximum(stack_plans):
    mwaa = _config("prod")["mwaa"]
    result = _estimate(stack_plans, "prod+managed", mwaaExtraWorkers=50, mwaaExtraWebservers=50)
    klass, hours = mwaa["environmentClass"], Assumptions().hoursPerMonth
    extra_workers = [w for w in _lines(result, f"mwaa:worker:{klass}") if "above minWorkers" in w.item]
    assert [w.quantity for w in extra_workers] == [(mwaa["maxWorkers"] - mwaa["minWorkers"]) * hours]
    extra_web = [w for w in _lines(result, f"mwaa:webserver:{klass}") if "above minWebservers" in w.item]
    assert [w.quantity for w in extra_web] == [(mwaa["maxWebservers"] - mwaa["minWebservers"]) * hours]
    # dev's mw1.micro has maxWorkers 1: no worker above its minimum, whatever the average says.
    dev = _estimate(stack_plans, "dev", mwaaExtraWorkers=3)
    assert not [line for line in dev.lines if "above minWorkers" in line.item]
    assert dev.assumptions_read["mwaaExtraWorkers"] == 0  # the value used is what is printed
    text = cli.as_text(dev)
    assert "mwaaExtraWorkers = 0 (asked 3; the plan allows no more)" in text


def test_every_assumption_a_rule_reads_is_printed_even_at_zero(stack_plans):
    result = _estimate(stack_plans, "prod")
    assert result.assumptions_read["rdsBackupExtraGb"] == 0 and "eksExtendedSupport" in result.assumptions_read
    managed = _estimate(stack_plans, "prod+managed")
    assert {"mwaaExtraWorkers", "mwaaExtraWebservers", "mwaaMetadataGb"} <= set(managed.assumptions_read)
    assert "spotDiscount" not in result.assumptions_read  # prod's nodes are On-Demand


def test_the_node_volume_is_the_launch_template_the_group_names(stack_plans):
    plan = stack_plans["prod"]
    template = plan.one("aws:ec2/launchTemplate:LaunchTemplate")
    decoy = dataclasses.replace(template, id="lt-other", name="other", inputs={**template.inputs, "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 999, "volumeType": "gp3"}}]})
    result = estimate([decoy, *plan.resources], stack="prod", flavour="self-managed", region="eu-west-1", table=TABLE)
    cluster = _config("prod")["cluster"]
    assert _one(result, "ebs:gp3").quantity == cluster["desiredNodes"] * cluster["nodeDiskSizeGb"]
    orphan = [dataclasses.replace(r, inputs={**r.inputs, "launchTemplate": {"id": "lt-gone"}})
              if r.type == "eks:index:ManagedNodeGroup" else r for r in plan.resources]
    with pytest.raises(EstimateError, match="its launch template lt-gone is not in the plan"):
        estimate(orphan, stack="prod", flavour="self-managed", region="eu-west-1", table=TABLE)


@pytest.mark.parametrize("name", ["dev", "prod", "dev+self-managed", "prod+managed"])
def test_make_prices_would_fill_every_price_the_shipped_stacks_need(stack_plans, name):
    """The table's keys are what `make prices` reads for every region: each one a shipped plan needs is there,
    priced or not yet."""
    needed = {line.key for line in _estimate(stack_plans, name).lines}
    assert needed <= set(TABLE.keys), sorted(needed - set(TABLE.keys))


def test_an_internet_facing_load_balancer_also_pays_for_its_public_addresses(stack_plans):
    plan = stack_plans["prod"]
    facing = [dataclasses.replace(r, inputs={**r.inputs, "metadata": {**r.inputs["metadata"], "annotations": {
        k: v for k, v in r.inputs["metadata"]["annotations"].items() if not k.endswith("-internal")}}})
        if r.type == "kubernetes:core/v1:Service" and r.inputs.get("spec", {}).get("type") == "LoadBalancer" else r
        for r in plan.resources]
    result = estimate(facing, stack="prod", flavour="self-managed", region="eu-west-1", table=TABLE)
    zones = len(_config("prod")["network"]["availabilityZones"])
    ipv4 = _lines(result, "vpc:public-ipv4:hour")
    assert [line.quantity for line in ipv4] == [zones * 730, zones * 730]  # the NAT gateways', then the NLB's
    assert "load balancer" in ipv4[1].item


def test_log_storage_follows_the_groups_retention_and_counts_for_ever_as_a_year(stack_plans):
    plan = stack_plans["prod"]
    groups = plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    months = [g.inputs["retentionInDays"] / (365 / 12) for g in groups]
    result = _estimate(stack_plans, "prod")
    assert result.assumptions_read["logStorageMonths"] == round(sum(months) / len(months), 2)
    kept = [dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "retentionInDays"})
            if r.type == "aws:cloudwatch/logGroup:LogGroup" else r for r in plan.resources]
    forever = estimate(kept, stack="prod", flavour="self-managed", region="eu-west-1", table=TABLE)
    assert forever.assumptions_read["logStorageMonths"] == 12


def test_a_kubernetes_version_past_standard_support_pays_the_extended_surcharge(stack_plans):
    from datetime import date

    from stackconfig.limits import EKS_STANDARD_SUPPORT_ENDS

    plan = stack_plans["prod"]
    version = _config("prod")["cluster"]["kubernetesVersion"]
    ends = date.fromisoformat(EKS_STANDARD_SUPPORT_ENDS[version])

    def on(day, **assumptions):
        return estimate(plan.resources, stack="prod", flavour="self-managed", region="eu-west-1", table=TABLE,
                        assumptions=Assumptions(**assumptions), today=day)

    before = on(date.fromordinal(ends.toordinal() - 1))
    assert not _lines(before, "eks:cluster:extended") and before.assumptions_read["eksExtendedSupport"] is False
    after = on(ends)
    surcharge = _one(after, "eks:cluster:extended")
    assert surcharge.quantity == 730 and after.assumptions_read["eksExtendedSupport"] is True
    assert f"Kubernetes {version}'s standard support ended {ends.isoformat()}" in surcharge.item
    assert after.total_usd - before.total_usd == pytest.approx(730 * TABLE.price("eu-west-1", "eks:cluster:extended").usd)
    # Stated, it wins over the calendar: an upgrade planned before the estimate's month.
    assert not _lines(on(ends, eksExtendedSupport=False), "eks:cluster:extended")
    # Stated before the version's end, the line says it is assumed, not that standard support ended.
    assumed = _one(on(date.fromordinal(ends.toordinal() - 1), eksExtendedSupport=True), "eks:cluster:extended")
    assert "standard support ended" not in assumed.item and "as assumed" in assumed.item
