"""`make prices` (cost/refresh.py) against a Price List served on loopback: offer files in the bulk format (AWS
Billing User Guide, "Reading the offer files"; field names and value formats as real files have them), whose
products are eu-west-1's as terracost's committed dump of the Price List holds them (SKUs, usage types, prices),
beside the look-alikes a real file holds: a Windows twin, an unused capacity reservation, an Outposts SKU, a Reserved
term, later price tiers, the regional NAT's hour, a high-resolution alarm, a free-tier "Global-" row, MWAA's
products without a family, and a dashboard priced once for all regions in the all-region file.

What this cannot show: that AWS's files of today hold the attribute values the selectors name; a refresh that
finds none of a key's products says so and changes nothing."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

from cost import refresh
from cost.dimensions import dimension
from cost.table import Price, PriceTable

REGION = "eu-west-1"
PREFIX = "EU-"  # eu-west-1's usage-type prefix, which its code does not spell


def _product(sku: str, family: str, usagetype: str, **attributes: str) -> dict:
    product = {"sku": sku, "productFamily": family,
               "attributes": {"servicecode": "x", "location": "EU (Ireland)", "locationType": "AWS Region",
                              "regionCode": REGION, "usagetype": usagetype, **attributes}}
    if not family:
        del product["productFamily"]  # MWAA's and public IPv4's products carry none
    return product


def _global(sku: str, family: str, usagetype: str) -> dict:
    return {"sku": sku, "productFamily": family, "attributes": {
        "servicecode": "AmazonCloudWatch", "location": "Any", "locationType": "Other", "usagetype": usagetype}}


def _on_demand(sku: str, usd: str, unit: str, *tiers: tuple[str, str, str]) -> dict:
    dims = {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {"rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7", "description": "d",
                                             "beginRange": "0", "endRange": "Inf", "unit": unit,
                                             "pricePerUnit": {"USD": usd}, "appliesTo": []}}
    for begin, end, tier_usd in tiers:
        dims[f"{sku}.JRTCKXETXF.{begin}"] = {"rateCode": "r", "description": "tier", "beginRange": begin,
                                            "endRange": end, "unit": unit, "pricePerUnit": {"USD": tier_usd}}
    if tiers:
        dims[next(iter(dims))]["endRange"] = tiers[0][0]
    return {f"{sku}.JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
                                  "priceDimensions": dims, "termAttributes": {}}}


EC2_LINUX = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
             "licenseModel": "No License required", "capacitystatus": "Used", "marketoption": "OnDemand"}

OFFERS = {
    "AmazonEC2": (
        [
            _product("EC2A", "Compute Instance", f"{PREFIX}BoxUsage:m6i.large", instanceType="m6i.large", **EC2_LINUX),
            _product("EC2WIN", "Compute Instance", f"{PREFIX}BoxUsage:m6i.large", instanceType="m6i.large",
                     **{**EC2_LINUX, "operatingSystem": "Windows"}),
            _product("EC2UNUSED", "Compute Instance", f"{PREFIX}UnusedBox:m6i.large", instanceType="m6i.large",
                     **{**EC2_LINUX, "capacitystatus": "UnusedCapacityReservation"}),
            _product("EC2ALLOC", "Compute Instance", f"{PREFIX}Reservation:m6i.large", instanceType="m6i.large",
                     **{**EC2_LINUX, "capacitystatus": "AllocatedCapacityReservation"}),
            _product("EC2CAPBLOCK", "Compute Instance", f"{PREFIX}CapacityBlock:m6i.large", instanceType="m6i.large",
                     **{**EC2_LINUX, "marketoption": "CapacityBlock"}),
            _product("EC2OUTPOST", "Compute Instance", f"{PREFIX}BoxUsage:m6i.large", instanceType="m6i.large",
                     locationType="AWS Outposts", **EC2_LINUX),
            _product("NATH", "NAT Gateway", f"{PREFIX}NatGateway-Hours"),
            _product("NATB", "NAT Gateway", f"{PREFIX}NatGateway-Bytes"),
            _product("NATR", "NAT Gateway", f"{PREFIX}RegionalNatGateway-Hours"),
        ],
        {"EC2A": ("0.1070000000", "Hrs"), "EC2WIN": ("0.1990000000", "Hrs"), "EC2UNUSED": ("0.1070000000", "Hrs"),
         "EC2ALLOC": ("0.0000000000", "Hrs"), "EC2CAPBLOCK": ("0.0420000000", "Hrs"),
         "EC2OUTPOST": ("0.5000000000", "Hrs"), "NATH": ("0.0480000000", "Hrs"), "NATB": ("0.0480000000", "GB"),
         "NATR": ("0.0900000000", "Hrs")},
    ),
    "AmazonS3": (
        [_product("S3STD", "Storage", f"{PREFIX}TimedStorage-ByteHrs", volumeType="Standard",
                  storageClass="General Purpose"),
         _product("S3IA", "Storage", f"{PREFIX}TimedStorage-SIA-ByteHrs", volumeType="Standard - Infrequent Access",
                  storageClass="Infrequent Access")],
        {"S3STD": ("0.0230000000", "GB-Mo", ("51200", "512000", "0.0220000000")), "S3IA": ("0.0125000000", "GB-Mo")},
    ),
    "AmazonMWAA": (
        [_product("MWAAENV", "", f"{PREFIX}Airflow-SmallEnvironment", type="Environment", size="Small"),
         _product("MWAAWRK", "", f"{PREFIX}Airflow-SmallWorker", type="Worker", size="Small"),
         _product("MWAAMED", "", f"{PREFIX}Airflow-MediumEnvironment", type="Environment", size="Medium")],
        {"MWAAENV": ("0.5500000000", "Hrs"), "MWAAWRK": ("0.0600000000", "Hrs"), "MWAAMED": ("0.8300000000", "Hrs")},
    ),
    # Secrets Manager's usage type, spelt as a 2026 extract of the offers spells it (CUR data has "-Secrets").
    "AWSSecretsManager": (
        [_product("SMSEC", "Secret", f"{PREFIX}AWSSecretsManager-Secret"),
         _product("SMAPI", "API Request", f"{PREFIX}AWSSecretsManager-APIRequest")],
        {"SMSEC": ("0.4000000000", "Secrets"), "SMAPI": ("0.0000050000", "API Requests")},
    ),
    "AmazonCloudWatch": (
        [_product("GDMKAEDCSYJAKBZQ", "Alarm", f"{PREFIX}CW:AlarmMonitorUsage", group="Alarm"),
         _product("NMPYB5JQS73AVJ2X", "Alarm", f"{PREFIX}CW:HighResAlarmMonitorUsage", group="Alarm"),
         {**_global("FCH8WPMWVXA4B6VM", "Bundle", "Global-CW:AlarmMonitorUsage")},
         _product("58YXNUN4MF8JD9ZA", "Metric", f"{PREFIX}CW:MetricMonitorUsage", group="Metric")],
        {"GDMKAEDCSYJAKBZQ": ("0.1000000000", "Alarms"), "NMPYB5JQS73AVJ2X": ("0.3000000000", "Alarms"),
         "FCH8WPMWVXA4B6VM": ("0.0000000000", "Alarms"),
         "58YXNUN4MF8JD9ZA": ("0.3000000000", "Metrics", ("10000", "250000", "0.1000000000"))},
    ),
}

# The all-region file of an offer: the products priced once for every region.
GLOBAL_OFFERS = {
    "AmazonCloudWatch": (
        [_global("DASH", "Dashboard", "DashboardsUsageHour"), _global("DASHB", "Dashboard", "DashboardsUsageHour-Basic")],
        {"DASH": ("3.0000000000", "Dashboards"), "DASHB": ("3.0000000000", "Dashboards")},
    ),
}


def _offer_file(code: str, offers: dict = OFFERS) -> dict:
    products, prices = offers[code]
    terms = {p["sku"]: _on_demand(p["sku"], *prices[p["sku"]]) for p in products}
    reserved = {"EC2A": {"EC2A.4NA7Y494T4": {"offerTermCode": "4NA7Y494T4", "sku": "EC2A", "priceDimensions": {
        "r": {"unit": "Hrs", "beginRange": "0", "pricePerUnit": {"USD": "0.0660000000"}}}}}} if code == "AmazonEC2" \
        else {}
    return {"formatVersion": "v1.0", "disclaimer": "d", "offerCode": code, "version": "20261115000000",
            "publicationDate": "2026-11-15T00:00:00Z", "products": {p["sku"]: p for p in products},
            "terms": {"OnDemand": terms, "Reserved": reserved}}


OTHER = "us-east-1"  # a second region: most older meters there carry no prefix, newer ones "USE1-"


def _in_other_region(offer: dict) -> dict:
    """The same offer file for us-east-1: the region's code and prefix, and every price 10% lower."""
    text = json.dumps(offer).replace('"regionCode": "eu-west-1"', f'"regionCode": "{OTHER}"')
    text = text.replace(f'"{PREFIX}AWSSecretsManager', '"USE1-AWSSecretsManager').replace(f'"{PREFIX}', '"')
    other = json.loads(text)
    for terms in other["terms"]["OnDemand"].values():
        for term in terms.values():
            for rate in term["priceDimensions"].values():
                rate["pricePerUnit"]["USD"] = f"{float(rate['pricePerUnit']['USD']) * 0.9:.10f}"
    return other


@pytest.fixture
def price_list(tmp_path: Path):
    """A Price List on loopback; `.requests` lists the paths asked for."""
    root = tmp_path / "site"
    for code in OFFERS:
        regions = {}
        for region, offer in ((REGION, _offer_file(code)), (OTHER, _in_other_region(_offer_file(code)))):
            # The region index names a versioned file, as the real one does.
            path = f"/offers/v1.0/aws/{code}/20261115000000/{region}/index.json"
            (root / path.lstrip("/")).parent.mkdir(parents=True)
            (root / path.lstrip("/")).write_text(json.dumps(offer))
            regions[region] = {"regionCode": region, "currentVersionUrl": path}
        (root / "offers" / "v1.0" / "aws" / code / "current").mkdir(parents=True)
        (root / "offers" / "v1.0" / "aws" / code / "current" / "region_index.json").write_text(
            json.dumps({"formatVersion": "v1.0", "regions": regions}))
    for code in GLOBAL_OFFERS:
        (root / "offers" / "v1.0" / "aws" / code / "current" / "index.json").write_text(
            json.dumps(_offer_file(code, GLOBAL_OFFERS)))
    requests: list[str] = []
    failures: dict[str, list[str]] = {}  # path -> what to do on each of its next requests: "503" or "short"

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):  # noqa: N802 (the handler's method name)
            requests.append(self.path)
            planned = failures.get(self.path)
            if planned:
                what = planned.pop(0)
                if what == "503":
                    self.send_error(503)
                    return
                body = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 3])  # then the connection closes: a body cut short
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield type("PriceList", (str,), {"requests": requests, "failures": failures})(url)
    server.shutdown()


def _table(tmp_path: Path, keys: list[str]) -> Path:
    path = tmp_path / "prices.json"
    PriceTable(regions={REGION: {k: Price(usd=9.99, source="an old page", date="2025-01-01", kind="secondary")
                                 for k in keys}}).write(path)
    return path


KEYS = ["ec2:instance:m6i.large", "vpc:nat-gateway:hour", "vpc:nat-gateway:gb", "s3:standard",
        "mwaa:environment:mw1.small", "mwaa:worker:mw1.small", "cloudwatch:alarm", "cloudwatch:metric",
        "cloudwatch:dashboard", "secretsmanager:secret"]


def test_each_key_gets_its_one_on_demand_price_from_the_offer_file(tmp_path, price_list, capsys):
    keys = KEYS
    path = _table(tmp_path, keys)
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION]) == 0
    table = PriceTable.load(path)
    # Linux On-Demand, not Windows, the Outposts SKU or the Reserved term; the NAT hour, not the regional NAT's
    # hour or the bytes; the first tiers of S3 and of custom metrics; MWAA by type and size; the standard alarm,
    # not the high-resolution one or the free tier's row; the dashboard from the all-region file.
    assert {k: table.price(REGION, k).usd for k in keys} == {
        "ec2:instance:m6i.large": 0.107, "vpc:nat-gateway:hour": 0.048, "vpc:nat-gateway:gb": 0.048,
        "s3:standard": 0.023, "mwaa:environment:mw1.small": 0.55, "mwaa:worker:mw1.small": 0.06,
        "cloudwatch:alarm": 0.1, "cloudwatch:metric": 0.3, "cloudwatch:dashboard": 3.0, "secretsmanager:secret": 0.4}
    price = table.price(REGION, "ec2:instance:m6i.large")
    assert price.kind == "price-list" and price.date == "2026-11-15"
    assert price.source.endswith("/offers/v1.0/aws/AmazonEC2/20261115000000/eu-west-1/index.json")
    assert "AmazonEC2 offer, version 20261115000000" in price.note and "SKU EC2A" in price.note
    assert "AmazonCloudWatch/current/index.json" in table.price(REGION, "cloudwatch:dashboard").source
    assert "ec2:instance:m6i.large: 9.99 -> 0.107" in capsys.readouterr().out


def test_every_region_gets_every_key_and_the_all_region_file_is_read_once(tmp_path, price_list):
    path = _table(tmp_path, KEYS)  # the table knows eu-west-1 only
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION,
                         "--region", OTHER]) == 0
    table = PriceTable.load(path)
    assert set(table.regions[OTHER]) == set(table.regions[REGION]) == set(KEYS)
    # us-east-1's own products: no prefix on the older meters, USE1- on Secrets Manager, prices of its own.
    assert table.price(OTHER, "vpc:nat-gateway:hour").usd == pytest.approx(0.048 * 0.9)
    assert table.price(OTHER, "secretsmanager:secret").usd == pytest.approx(0.4 * 0.9)
    assert "/us-east-1/index.json" in table.price(OTHER, "ec2:instance:m6i.large").source
    # The dashboard is one global product, for both regions, downloaded once.
    assert table.price(OTHER, "cloudwatch:dashboard").usd == table.price(REGION, "cloudwatch:dashboard").usd == 3.0
    assert price_list.requests.count("/offers/v1.0/aws/AmazonCloudWatch/current/index.json") == 1


def test_a_passing_failure_is_asked_again_and_a_lasting_one_named(tmp_path, price_list, monkeypatch, capsys):
    monkeypatch.setattr(refresh, "RETRY_SECONDS", 0)
    offer = "/offers/v1.0/aws/AmazonS3/20261115000000/eu-west-1/index.json"
    price_list.failures[offer] = ["503", "short"]  # a 5xx, then a body shorter than its Content-Length
    path = _table(tmp_path, ["s3:standard"])
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION]) == 0
    assert price_list.requests.count(offer) == 3 and PriceTable.load(path).price(REGION, "s3:standard").usd == 0.023
    price_list.failures[offer] = ["short"] * 3
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert f"cannot read {price_list}{offer}: " in err and "bytes (3 attempts)" in err


def test_a_truncated_offer_file_is_an_error_not_a_traceback(tmp_path, price_list, capsys):
    offer = Path(str(tmp_path / "site" / "offers/v1.0/aws/AmazonS3/20261115000000/eu-west-1/index.json"))
    offer.write_text(offer.read_text()[: len(offer.read_text()) // 2])
    path = _table(tmp_path, ["s3:standard"])
    before = path.read_text()
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert "AmazonS3/20261115000000/eu-west-1/index.json is not a whole offer file" in err and "unchanged" in err
    assert path.read_text() == before


def test_keep_going_writes_what_was_found_and_names_what_was_not(tmp_path, price_list, capsys):
    path = _table(tmp_path, ["ec2:instance:m6i.large", "ec2:instance:m7i.large", "s3:standard"])
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION, "--keep-going"]) == 1
    table = PriceTable.load(path)
    assert table.price(REGION, "ec2:instance:m6i.large").kind == "price-list"  # found beside the missing one
    assert table.price(REGION, "s3:standard").kind == "price-list"
    assert table.price(REGION, "ec2:instance:m7i.large").kind == "secondary"  # left as it was
    assert "ec2:instance:m7i.large (EC2 m7i.large (Linux, On-Demand)): not found" in capsys.readouterr().err


def test_keep_going_survives_a_price_list_it_cannot_reach(tmp_path, capsys):
    path = _table(tmp_path, ["s3:standard"])
    before = path.read_text()
    assert refresh.main(["--prices", str(path), "--base-url", "http://127.0.0.1:9", "--region", REGION,
                         "--keep-going"]) == 1
    err = capsys.readouterr().err
    assert "eu-west-1 AmazonS3: cannot read http://127.0.0.1:9/offers/v1.0/aws/AmazonS3/current/region_index.json" in err
    assert path.read_text() == before  # nothing was found, so nothing is written over


def test_a_region_of_unknown_usage_prefix_is_refused_before_any_download(tmp_path, price_list, capsys):
    path = _table(tmp_path, ["s3:standard"])
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", "mx-central-1"]) == 1
    assert "the usage-type prefix of mx-central-1 is not known" in capsys.readouterr().err
    assert price_list.requests == []


def test_a_key_the_offer_file_does_not_hold_changes_nothing(tmp_path, price_list, capsys):
    path = _table(tmp_path, ["ec2:instance:m6i.large", "ec2:instance:m7i.large"])
    before = path.read_text()
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert "ec2:instance:m7i.large (EC2 m7i.large (Linux, On-Demand)): not found in AmazonEC2 for eu-west-1" in err
    assert "is unchanged" in err and path.read_text() == before


def test_a_selector_that_finds_two_prices_is_refused_with_both(tmp_path, price_list, monkeypatch, capsys):
    loose = dimension("ec2:instance:m6i.large")
    attrs = {k: v for k, v in loose.selector.attributes.items() if k != "operatingSystem"}
    monkeypatch.setattr(refresh, "dimension", lambda key: type(loose)(
        loose.key, loose.what, loose.per, type(loose.selector)(**{**loose.selector.__dict__, "attributes": attrs})))
    path = _table(tmp_path, ["ec2:instance:m6i.large"])
    assert refresh.main(["--prices", str(path), "--base-url", price_list, "--region", REGION]) == 1
    err = capsys.readouterr().err
    assert "several prices" in err and "EC2A at 0.1070000000" in err and "EC2WIN at 0.1990000000" in err


def test_an_unreachable_price_list_says_so_and_changes_nothing(tmp_path, capsys):
    path = _table(tmp_path, ["s3:standard"])
    before = path.read_text()
    assert refresh.main(["--prices", str(path), "--base-url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "cannot read http://127.0.0.1:9/offers/v1.0/aws/AmazonS3/current/region_index.json" in err
    assert path.read_text() == before


def test_usage_types_match_exactly_after_the_regions_own_prefix():
    hours = dimension("vpc:nat-gateway:hour").selector
    candidates = ("NatGateway-Hours", "EU-NatGateway-Hours", "USE1-NatGateway-Hours", "APS1-NatGateway-Hours",
                  "EU-RegionalNatGateway-Hours", "EU-NatGateway-Bytes", "EU-NatGateway-Hours-Additional")
    assert [u for u in candidates if hours.usage_matches(u, "eu-west-1")] == ["EU-NatGateway-Hours"]
    # us-east-1: bare for older meters, USE1- for newer ones.
    assert [u for u in candidates if hours.usage_matches(u, "us-east-1")] == ["NatGateway-Hours",
                                                                             "USE1-NatGateway-Hours"]
    # Look-alikes a suffix match would take (the notes of cost/dimensions.py).
    lcu = dimension("elb:nlb:lcu").selector
    assert not lcu.usage_matches("EU-Outposts-LCUUsage", "eu-west-1") and lcu.usage_matches("EU-LCUUsage", "eu-west-1")
    nlb = dimension("elb:nlb:hour").selector
    assert not nlb.usage_matches("USE1-TS-LoadBalancerUsage", "us-east-1")
    assert not nlb.usage_matches("TS-LoadBalancerUsage", "us-east-1")
    assert not dimension("cloudwatch:alarm").selector.usage_matches("EU-CW:HighResAlarmMonitorUsage", "eu-west-1")
    assert not dimension("rds:backup").selector.usage_matches("EU-RDSCustom:ChargedBackupUsage", "eu-west-1")
    # KMS is prefixed with the region's own code (us-east-1-KMS-Keys, ap-southeast-1-KMS-Keys).
    assert dimension("kms:key").selector.usage_matches("ap-southeast-1-KMS-Keys", "ap-southeast-1")
