"""The bundled rules as hand-written Python: plain code over the engine's encoded facts, no rule engine.

A reference for how fast the same work can go: index the facts once, then decide every rule per flow, findings
first and in stratum order (the negated findings of a flow are known before `cultural-friction-short-of-security`
asks for them). Written by hand from src/nea_policy/rules/*.yaml: when a rule changes, this file must change
too, and tests/test_benchmark_peers.py fails until it does.

Encoded facts hold levels as ranks (none 0, low 1, moderate 2, high 3, severe 4); a field the fact file leaves out
is absent, and a test on an absent field does not hold (`.get(field, -1) >= MODERATE` is false for it).
"""

from __future__ import annotations

from typing import Any

# (kind, conclusion id, subject type, subject key), as in peer_clips.
Result = tuple[str, str, str, str]

MODERATE, HIGH = 2, 3
F, R = "finding", "recommendation"


def evaluate(facts: list[dict[str, Any]]) -> set[Result]:
    """Every finding and recommendation the bundled rules derive from these encoded facts."""
    countries: dict[str, dict[str, Any]] = {}
    regions: dict[str, dict[str, Any]] = {}
    relations: dict[str, dict[str, Any]] = {}
    agreements: set[tuple[str, str]] = set()
    flows: list[dict[str, Any]] = []
    for fact in facts:
        t = fact["t"]
        if t == "flow":
            flows.append(fact)
        elif t == "country":
            countries[fact["code"]] = fact
        elif t == "region":
            regions[fact["key"]] = fact
        elif t == "relation":
            relations[fact["key"]] = fact
        elif t == "agreement":
            agreements.add((fact["pair"], fact["kind"]))
    out: set[Result] = set()
    add = out.add
    for flow in flows:
        key = flow["key"]
        get = flow.get
        origin = countries.get(flow["origin"])
        host = countries.get(flow["destination"])
        region = regions.get(get("destination_region"))  # type: ignore[arg-type]
        pair = flow["pair"]
        relation = relations.get(pair)
        origin_short_of_work = origin is not None and (origin.get("surplus_labor", -1) >= MODERATE or origin.get("rural_unemployment", -1) >= MODERATE)

        # --- findings (stratum 0) ---
        complementary = origin_short_of_work and (
            (host is not None and host.get("labor_shortage", -1) >= MODERATE)  # complementary-economies
            or (region is not None and region.get("labor_shortage", -1) >= MODERATE)  # complementary-economies-in-region
        )
        if complementary:
            add((F, "complementary-economies", "flow", key))
        alarm = (get("host_fear", -1) >= MODERATE or get("nationalist_framing") is True) and get("estimate_exaggeration", -1) >= 2
        if alarm:
            add((F, "alarmist-threat-perception", "flow", key))
        if (
            region is not None
            and relation is not None
            and region.get("population_decline", -1) >= MODERATE
            and region.get("economic_decline", -1) >= MODERATE
            and relation.get("proximity") is True
            and relation.get("rising_power") == flow["origin"]
        ):
            add((F, "host-region-vulnerability", "region", region["key"]))
            add((R, "invest-in-host-region-economy", "region", region["key"]))
        recruiter = get("recruiter_exploitation", -1)
        employer = get("employer_exploitation", -1)
        exploited = recruiter >= MODERATE or employer >= MODERATE or get("cheap_labor_as_training") is True
        if exploited:
            add((F, "exploitative-recruitment", "flow", key))
        irregular = get("illegal_work", -1) >= MODERATE or get("illegal_work_by_students") is True
        if irregular:
            add((F, "irregular-labor", "flow", key))
        status = get("legal_status")
        # legal-status-limbo, and legal-status-limbo-under-temporary-protection (the same finding)
        limbo = status == "unclear" or status == "temporary-protection"
        if limbo:
            add((F, "legal-status-limbo", "flow", key))
        abuse = get("abuse", -1)
        servitude = get("indentured_servitude") is True
        prostitution = get("forced_prostitution") is True
        hidden = (abuse >= MODERATE or employer >= HIGH or servitude or prostitution) and get("fear_of_exposure", -1) >= HIGH
        if hidden:
            add((F, "hidden-exploitation", "flow", key))
        food_insecure = origin is not None and origin.get("food_insecurity", -1) >= HIGH
        crisis = food_insecure or (origin is not None and origin.get("economic_collapse", -1) >= HIGH)
        if crisis:
            add((F, "crisis-at-origin", "flow", key))
        tone = get("media_tone")
        hostile_media = tone == "negative" or tone == "hostile"
        superficial = get("superficial_interaction") is True
        ignorance = get("public_ignorance", -1) >= MODERATE
        friction = relation is not None and relation.get("cultural_gap", -1) >= HIGH and get("stereotypes", -1) >= MODERATE and (hostile_media or ignorance or superficial)
        if friction:
            add((F, "cultural-friction", "flow", key))
        human = origin is not None and (abuse >= MODERATE or get("persecution_risk_on_return", -1) >= MODERATE or recruiter >= HIGH or prostitution or servitude or food_insecure)
        if human:
            add((F, "human-security-challenge", "flow", key))
        national = get("host_fear", -1) >= HIGH and get("nationalist_framing") is True
        if national:
            add((F, "national-security-concern", "flow", key))

        # --- stratum 1: negation of the findings above ---
        friction_only = friction and not human and not national
        if friction_only:
            add((F, "cultural-friction-short-of-security", "flow", key))

        # --- recommendations ---
        if relation is not None and relation.get("proximity") is True and complementary and alarm and (pair, "migration-and-trade-regime") not in agreements:
            add((R, "cooperative-migration-and-trade-regime", "relation", pair))
        if host is not None:
            host_code = host["key"]
            if host.get("restrictive_migration_policy") is True and complementary and irregular:
                add((R, "liberalize-labor-import", "country", host_code))
            conventions = host.get("accepted_conventions")
            if exploited and conventions is not None and "migrant-workers-convention-1990" not in conventions:
                add((R, "adopt-international-conventions", "country", host_code))
            if limbo and get("persecution_risk_on_return", -1) >= MODERATE:
                add((R, "identify-refugees", "flow", key))
            if crisis and hidden and (status == "irregular" or status == "unclear"):
                add((R, "humanitarian-assistance", "flow", key))
            if limbo and get("has_work_and_shelter") is True:
                add((R, "semi-resident-status", "flow", key))
            if friction:
                add((R, "cultural-orientation", "flow", key))
                if superficial or ignorance:
                    add((R, "community-relations-programs", "flow", key))
                if hostile_media:
                    add((R, "fair-media-coverage", "flow", key))
        if origin is not None and exploited and recruiter >= MODERATE:
            add((R, "enforce-against-exploitative-recruitment", "country", origin["key"]))
        if complementary and (recruiter >= MODERATE or get("illegal_work", -1) >= MODERATE) and (pair, "labor-migration-regime") not in agreements:
            add((R, "bilateral-labor-migration-regime", "flow", key))
        if friction_only and relation is not None and (relation.get("sovereignty_dispute") is True or relation.get("diplomatic_tension", -1) >= MODERATE):
            add((R, "citizen-exchanges", "relation", pair))
    return out
