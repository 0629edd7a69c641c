"""Seeded random scenarios for the benchmark: N countries, 10·N flows, with the fields the fact model offers."""

from __future__ import annotations

import random
from typing import Any

from nea_policy.model.fact_types import FACT_TYPES, FieldSpec
from nea_policy.model.iso_countries import ISO_ALPHA2

# Fields that identify or reference things; the generator sets them itself instead of drawing them at random.
_STRUCTURAL = {"key", "code", "name", "id", "country", "origin", "destination", "destination_region", "rising_power", "pair", "a", "b"}
_SECTORS = ("construction", "agriculture", "manufacturing", "fisheries", "services", "entertainment", "textiles", "care")


def _draw(rng: random.Random, spec: FieldSpec) -> Any:
    """A random value of the field's kind (None: leave the field out, as real fact files often do)."""
    if rng.random() < 0.45:
        return None
    if spec.kind in ("level", "enum"):
        return rng.choice(spec.values)
    if spec.kind == "bool":
        return rng.random() < 0.5
    if spec.kind in ("list[enum]", "list[level]"):
        return rng.sample(list(spec.values), rng.randint(0, min(3, len(spec.values))))
    if spec.kind == "list[text]":
        return rng.sample(_SECTORS, rng.randint(0, 3))
    return None


def _fields(rng: random.Random, type_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in FACT_TYPES[type_name].fields.items():
        if spec.derived or name in _STRUCTURAL:
            continue
        value = _draw(rng, spec)
        if value is not None:
            out[name] = value
    return out


def generate_scenario(n_countries: int, *, flows_per_country: int = 10, seed: int = 0) -> dict[str, Any]:
    """A valid scenario dict with n_countries places and flows_per_country·n_countries flows, reproducible by seed.

    There are only 249 ISO country codes: beyond that, the remaining places are sub-national regions
    (which flows may go to), so the fact count still grows with n_countries.
    """
    rng = random.Random(f"{seed}:{n_countries}:{flows_per_country}")
    codes = rng.sample(sorted(ISO_ALPHA2), min(n_countries, len(ISO_ALPHA2)))
    countries = [{"code": code, "name": f"Country {code}", **_fields(rng, "country")} for code in codes]
    regions = []
    for i in range(max(1, n_countries // 5) + n_countries - len(codes)):
        regions.append({"id": f"region-{i}", "name": f"Region {i}", "country": rng.choice(codes), **_fields(rng, "region")})
    region_of: dict[str, list[str]] = {}
    for region in regions:
        region_of.setdefault(region["country"], []).append(region["id"])
    flows = []
    pairs: set[tuple[str, str]] = set()
    for i in range(flows_per_country * n_countries):
        origin, destination = rng.sample(codes, 2)
        pairs.add(tuple(sorted((origin, destination))))  # type: ignore[arg-type]
        flow: dict[str, Any] = {"id": f"flow-{i}", "name": f"Flow {i} from {origin} to {destination}", "origin": origin, "destination": destination}
        if destination in region_of and rng.random() < 0.5:
            flow["destination_region"] = rng.choice(region_of[destination])
        flow.update(_fields(rng, "flow"))
        if rng.random() < 0.5:
            careful = rng.randint(1_000, 500_000)
            flow["estimates"] = [
                {"low": careful // 2, "high": careful, "kind": "careful"},
                {"low": careful, "high": careful * rng.randint(1, 8), "kind": "alarmist"},
            ]
        if rng.random() < 0.4:
            flow["labels"] = [{"by": "government", "label": "economic migrants"}, {"by": "media", "label": rng.choice(["refugees", "defectors", "illegal migrants"])}]
        flows.append(flow)
    relations = []
    for a, b in sorted(pairs):
        relation: dict[str, Any] = {"between": [a, b], **_fields(rng, "relation")}
        if rng.random() < 0.2:
            relation["rising_power"] = rng.choice([a, b])
        relations.append(relation)
    agreements = []
    for i, (a, b) in enumerate(sorted(pairs)):
        if rng.random() < 0.15:
            agreements.append({"id": f"agreement-{i}", "between": [a, b], "kind": rng.choice(FACT_TYPES["agreement"].fields["kind"].values)})
    return {
        "title": f"Generated region: {n_countries} countries, {len(flows)} flows (seed {seed})",
        "countries": countries,
        "regions": regions,
        "relations": relations,
        "agreements": agreements,
        "flows": flows,
    }
