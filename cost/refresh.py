"""`python -m cost.refresh [--region eu-west-1 ...] [--add KEY ...]` (`make prices`): the table's prices read anew from
the AWS Price List's bulk offer files, which need no AWS account or credentials.

For each region and each offer (service) its keys need, it reads the offer's region index
(`/offers/v1.0/aws/<offer>/current/region_index.json`), downloads that region's offer file, and finds each key's
product by its selector (cost/dimensions.py) and the product's On-Demand price in the key's unit. A key must come
to exactly one price: none, or several that differ, stops the refresh with the products it found, and the table is
left as it was. The offer files' layout: AWS Billing User Guide, "Reading the offer files" (products by SKU with
productFamily and attributes; terms.OnDemand by SKU, then offer term, then price dimension with unit, beginRange
and pricePerUnit.USD).

The EC2 offer file of one region is several hundred MB: it is streamed to a cache folder and read twice as a stream
(ijson), products then terms, never held in memory.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Optional

import ijson

from cost.dimensions import Dimension, UnknownDimension, UnknownRegion, dimension, usage_prefixes
from cost.table import TABLE, Price, PriceError, PriceTable

PRICE_LIST = "https://pricing.us-east-1.amazonaws.com"
TIMEOUT_SECONDS = 60
RETRY_SECONDS = 5
GLOBAL = "global"  # the offer's all-region file, where products priced once for every region are


class RefreshError(RuntimeError):
    """The Price List could not be read, or a key did not come to one price; the table is unchanged."""

    def __init__(self, message: str, found: Optional[dict[str, Price]] = None):
        super().__init__(message)
        self.found = found or {}  # the other keys of the same offer, which did come to one price


@dataclass(frozen=True)
class Offer:
    """One region's offer file of one service, as downloaded."""

    code: str
    url: str
    path: Path
    version: str
    publication_date: str


class _Passing(Exception):
    """A failure that may pass: ask again."""


def _get(url: str, into: Optional[Path] = None, attempts: int = 3) -> bytes:
    """The document at `url` (or streamed into a file). Asked again on what passes: a 404 just after a region
    file is published (the index names it before it is served), a 5xx, a timeout, a reset, or a body shorter than
    its Content-Length (which the stream does not raise on: it just ends)."""
    for attempt in range(1, attempts + 1):
        try:
            try:
                with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
                    if into is None:
                        return response.read()
                    expected = response.headers.get("Content-Length")
                    with into.open("wb") as out:
                        shutil.copyfileobj(response, out, length=1 << 20)
                    if expected is not None and into.stat().st_size != int(expected):
                        raise _Passing(f"{into.stat().st_size} of {expected} bytes")
                    return b""
            except urllib.error.HTTPError as err:  # before URLError, its base class
                if err.code != 404 and err.code < 500:
                    raise RefreshError(f"cannot read {url}: HTTP {err.code}") from err
                raise _Passing(f"HTTP {err.code}") from err
            except urllib.error.URLError as err:
                if isinstance(err.reason, (TimeoutError, ConnectionError)):
                    raise _Passing(repr(err.reason)) from err
                # Refused or unresolvable: asking again would not help.
                raise RefreshError(f"cannot read {url}: {err.reason}") from err
            except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
                raise _Passing(repr(err)) from err
        except _Passing as err:
            if attempt == attempts:
                raise RefreshError(f"cannot read {url}: {err} ({attempts} attempts)") from err
            time.sleep(RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")


def download(base_url: str, code: str, region: str, cache: Path) -> Offer:
    """One region's offer file of a service, or (region GLOBAL) its all-region file."""
    if region == GLOBAL:
        url = f"{base_url}/offers/v1.0/aws/{code}/current/index.json"
    else:
        index_url = f"{base_url}/offers/v1.0/aws/{code}/current/region_index.json"
        try:
            regions = json.loads(_get(index_url)).get("regions", {})
        except (ValueError, AttributeError) as err:
            raise RefreshError(f"{index_url} is not a region index: {err}") from err
        if region not in regions:
            raise RefreshError(f"the Price List has no {code} offer for {region} ({index_url})")
        # A versioned path (.../<code>/<version>/<region>/index.json): the source names the exact version read.
        url = base_url + regions[region]["currentVersionUrl"]
    path = cache / f"{code}-{region}.json"
    _get(url, into=path)
    version, published = "", ""
    try:
        with path.open("rb") as stream:
            # The offer's header comes before its products: read it and stop.
            for prefix, _event, value in ijson.parse(stream):
                if prefix == "version":
                    version = value
                elif prefix == "publicationDate":
                    published = value
                elif prefix == "products":
                    break
    except ijson.JSONError as err:
        raise RefreshError(f"{url} is not a whole offer file ({err}): read it again") from err
    return Offer(code=code, url=url, path=path, version=version, publication_date=published)


def _product_matches(dim: Dimension, product: dict, region: str) -> bool:
    selector = dim.selector
    attributes = product.get("attributes") or {}
    if (product.get("productFamily") or "") != selector.family:
        return False
    if selector.global_product:
        # Priced once for all regions: no region of its own, no region prefix.
        if attributes.get("regionCode") or not selector.usage_matches(attributes.get("usagetype", ""), ""):
            return False
    else:
        # Outposts, Local Zones and Wavelength Zones price the same product apart from the region itself; the
        # free tiers' "Global-" rows have no region.
        if attributes.get("locationType", "AWS Region") != "AWS Region" or attributes.get("regionCode") != region:
            return False
        if not selector.usage_matches(attributes.get("usagetype", ""), region):
            return False
    return all(attributes.get(name) == value for name, value in selector.attributes.items())


def _first_tier(dimension_: dict) -> bool:
    return str(dimension_.get("beginRange", "0")) in ("0", "0.0")


def prices_in(offer: Offer, dims: Iterable[Dimension], region: str) -> dict[str, Price]:
    dims = list(dims)
    try:
        found = _on_demand_prices(offer, dims, region)
    except ijson.JSONError as err:
        raise RefreshError(f"{offer.url} is not a whole offer file ({err}): read it again") from err
    return _one_price_each(offer, dims, region, found)


def _on_demand_prices(offer: Offer, dims: list[Dimension], region: str) -> dict[str, dict[str, Decimal]]:
    """Each key's matching SKUs with their first-tier On-Demand price: products first, then terms, as streams."""
    skus: dict[str, list[Dimension]] = defaultdict(list)
    with offer.path.open("rb") as stream:
        for sku, product in ijson.kvitems(stream, "products"):
            for dim in dims:
                if _product_matches(dim, product, region):
                    skus[sku].append(dim)
    found: dict[str, dict[str, Decimal]] = defaultdict(dict)  # key -> sku -> USD
    with offer.path.open("rb") as stream:
        for sku, terms in ijson.kvitems(stream, "terms.OnDemand"):
            for dim in skus.get(sku, ()):
                for term in terms.values():
                    for rate in term.get("priceDimensions", {}).values():
                        if dim.selector.unit_matches(rate.get("unit", "")) and _first_tier(rate):
                            found[dim.key][sku] = Decimal(rate["pricePerUnit"]["USD"])
    return found


def _one_price_each(offer: Offer, dims: list[Dimension], region: str,
                    found: dict[str, dict[str, Decimal]]) -> dict[str, Price]:
    prices, problems = {}, []
    for dim in dims:
        by_sku = found.get(dim.key, {})
        distinct = set(by_sku.values())
        if len(distinct) != 1:
            detail = ", ".join(f"{sku} at {usd}" for sku, usd in sorted(by_sku.items())) or "no product"
            problems.append(f"{dim.key} ({dim.what}): {'several prices' if distinct else 'not found'} in "
                            f"{offer.code} for {region} [{detail}]; its selector is in cost/dimensions.py")
            continue
        sku = sorted(by_sku)[0]
        prices[dim.key] = Price(
            usd=float(distinct.pop()), source=offer.url, date=offer.publication_date[:10] or "undated",
            kind="price-list",
            note=f"AWS Price List {offer.code} offer, version {offer.version}: the On-Demand first-tier price of SKU "
                 f"{sku}{f' (and {len(by_sku) - 1} more at the same price)' if len(by_sku) > 1 else ''}, unit "
                 f"{dim.selector.unit}")
    if problems:
        raise RefreshError("; ".join(problems), found=prices)
    return prices


def refresh(table: PriceTable, regions: list[str], add: list[str], base_url: str, cache: Path,
            keep_going: bool = False) -> tuple[list[str], list[str]]:
    """Every key of the table (its `keys`) and the `add`ed ones read anew for each of `regions`, in place; what
    changed and what failed, a line each. A failure raises, and changes nothing, unless `keep_going`: then what
    was found is kept and what failed is returned."""
    changes, failures = [], []
    new: dict[str, dict[str, Price]] = {}
    every_key = set(table.keys) | set(add)
    if not every_key:
        raise RefreshError("the table names no keys: name them with --add")
    for region in regions:
        usage_prefixes(region)  # an unknown region stops before anything is downloaded
    downloaded: dict[tuple[str, str], Offer] = {}
    try:
        for region in regions:
            by_offer: dict[tuple[str, str], list[Dimension]] = defaultdict(list)
            for key in sorted(every_key):
                dim = dimension(key)
                by_offer[(dim.selector.offer, GLOBAL if dim.selector.global_product else region)].append(dim)
            new[region] = {}
            for (code, where), dims in sorted(by_offer.items()):
                try:
                    if (code, where) not in downloaded:  # an all-region file serves every region
                        downloaded[(code, where)] = download(base_url, code, where, cache)
                    new[region].update(prices_in(downloaded[(code, where)], dims, region))
                except RefreshError as err:
                    if not keep_going:
                        raise
                    failures.append(f"{region} {code}: {err}")
                    new[region].update(err.found)
                if where != GLOBAL and (code, where) in downloaded:
                    downloaded.pop((code, where)).path.unlink(missing_ok=True)
    finally:
        for offer in downloaded.values():
            offer.path.unlink(missing_ok=True)
    for region, entries in new.items():
        old = table.regions.get(region, {})
        for key, price in sorted(entries.items()):
            before = old.get(key)
            if before is None or before.usd != price.usd:
                changes.append(f"{region} {key}: {'new' if before is None else before.usd} -> {price.usd}")
        table.regions[region] = {**old, **entries}
    table.keys = sorted(every_key)
    return changes, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make prices", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--region", action="append", default=[], help="a region to refresh (default: every one "
                        "in the table); each gets every key of the table's `keys`")
    parser.add_argument("--add", action="append", default=[], metavar="KEY",
                        help="a key to add, e.g. ec2:instance:m7g.large (cost/dimensions.py)")
    parser.add_argument("--base-url", default=PRICE_LIST, help=f"the Price List's address (default {PRICE_LIST})")
    parser.add_argument("--prices", type=Path, default=TABLE, help="the price table (default: cost/prices.json)")
    parser.add_argument("--keep-going", action="store_true",
                        help="write the prices found even when some keys find none (and exit 1, naming them)")
    args = parser.parse_args(argv)
    try:
        table = PriceTable.load(args.prices)
        for key in args.add:
            dimension(key)
        regions = args.region or sorted(table.regions)
        with tempfile.TemporaryDirectory(prefix="prices-") as cache:
            changes, failures = refresh(table, regions, list(args.add), args.base_url.rstrip("/"), Path(cache),
                                        keep_going=args.keep_going)
        table.write(args.prices)
    except (RefreshError, PriceError, UnknownDimension, UnknownRegion, OSError) as err:
        print(f"error: {err}\nerror: {args.prices} is unchanged", file=sys.stderr)
        return 1
    print("\n".join(changes) if changes else "no price changed")
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
