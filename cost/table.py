"""The price table, `cost/prices.json`: per region offered, each key's On-Demand unit price in USD with where it
was read and when. `make prices` rewrites a region's entries from the AWS Price List (cost/refresh.py); until a
machine that reaches the Price List has run it, an entry says which other public source it was read from."""

from __future__ import annotations

import json
from collections import Counter
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from cost.dimensions import UnknownDimension, dimension

TABLE = Path(__file__).with_name("prices.json")

# What an entry's `kind` says of its source, strongest first.
KINDS = {
    "price-list": "read from the AWS Price List's offer file by `make prices`",
    "aws": "stated by AWS on a pricing page, blog post or documentation page",
    "derived": "computed from the AWS Price List by an open-source tool whose committed output is cited",
    "secondary": "a third-party page quoting AWS's price; replace with `make prices`",
}


class PriceError(LookupError):
    """A price the table cannot give: the message says what is missing and how to add it."""


class MissingPrice(PriceError):
    """The region is in the table, the key is not."""

    def __init__(self, message: str, key: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Price:
    usd: float
    source: str
    date: str  # the day the source was published or last changed (YYYY-MM-DD), or "undated" when it gives none
    kind: str
    note: str = ""  # how the figure was read from the source (a line divided by its quantity, say)


@dataclass
class PriceTable:
    regions: dict[str, dict[str, Price]]
    about: str = ""
    # What every region should price: the keys `make prices` reads for each, whether or not a price is known yet.
    keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys = sorted(set(self.keys) | {key for entries in self.regions.values() for key in entries})

    @classmethod
    def load(cls, path: Path = TABLE) -> "PriceTable":
        data = json.loads(path.read_text(encoding="utf-8"))
        regions = {region: {key: Price(**entry) for key, entry in entries.items()}
                   for region, entries in data["regions"].items()}
        table = cls(regions=regions, about=data.get("about", ""), keys=data.get("keys", []))
        table.validate()
        return table

    def validate(self) -> None:
        """Every key names a known dimension, every price is a non-negative number with a source and a kind."""
        problems = []
        for key in self.keys:
            try:
                dimension(key)
            except UnknownDimension as err:
                problems.append(str(err))
        for region, entries in self.regions.items():
            for key, price in entries.items():
                try:
                    dimension(key)
                except UnknownDimension as err:
                    problems.append(f"{region}: {err}")
                if not isinstance(price.usd, (int, float)) or isinstance(price.usd, bool) or price.usd < 0:
                    problems.append(f"{region} {key}: usd must be a number of at least 0, not {price.usd!r}")
                if not price.source.strip() or not (price.date == "undated" or re.fullmatch(r"\d{4}-\d{2}-\d{2}",
                                                                                             price.date)):
                    problems.append(f"{region} {key}: every price says where it was read and its source's date "
                                    f"(YYYY-MM-DD, or undated), not {price.date!r}")
                if price.kind not in KINDS:
                    problems.append(f"{region} {key}: kind {price.kind!r} is not one of {', '.join(KINDS)}")
        if problems:
            raise PriceError("cost/prices.json: " + "; ".join(problems))

    def price(self, region: str, key: str) -> Price:
        if region not in self.regions:
            raise PriceError(
                f"no prices for region {region!r} (aws:region): the table has {', '.join(sorted(self.regions))}. "
                f"Add it with `make prices REGION={region}` on a machine that reaches the AWS Price List")
        entry = self.regions[region].get(key)
        if entry is None:
            raise MissingPrice(
                f"no price for {dimension(key).what} ({key}) in {region}: add it with "
                f"`make prices REGION={region} ADD={key}` on a machine that reaches the AWS Price List, or enter "
                f"it in cost/prices.json with its source", key)
        return entry

    def as_json(self) -> dict:
        return {
            "about": self.about,
            "keys": self.keys,
            "regions": {region: {key: asdict(price) for key, price in sorted(entries.items())}
                        for region, entries in sorted(self.regions.items())},
        }

    def write(self, path: Path = TABLE) -> None:
        self.validate()
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n", encoding="utf-8")


def kinds_used(kinds: Iterable[str]) -> Mapping[str, int]:
    """How many prices of each kind, strongest first."""
    return dict(sorted(Counter(kinds).items(), key=lambda item: list(KINDS).index(item[0])))


def coverage(table: PriceTable) -> str:
    """Per region, how many of the table's keys it prices and from which kinds of source; the keys it lacks."""
    every = table.keys
    lines = []
    for region, entries in sorted(table.regions.items()):
        kinds = ", ".join(f"{n} {kind}" for kind, n in kinds_used(p.kind for p in entries.values()).items())
        lines.append(f"{region}: {len(entries)} of {len(every)} keys ({kinds})")
        lacking = [key for key in every if key not in entries]
        if lacking:
            lines.append("  lacks " + ", ".join(lacking))
    return "\n".join(lines)


if __name__ == "__main__":
    print(coverage(PriceTable.load()))
