"""The scenario template `nea-policy new` writes: every part of a fact file, commented, valid as written."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from nea_policy.errors import InputError
from nea_policy.language.reads import STRUCTURE, ruleset_reads
from nea_policy.language.rules import RuleSet, load_ruleset
from nea_policy.model.facts import (
    LEVEL_ORDER,
    AgreementKind,
    Convention,
    EstimateKind,
    FlowKind,
    LegalStatus,
    MediaTone,
    PartyKind,
)
from nea_policy.model.iso_countries import USER_ASSIGNED_TEXT
from nea_policy.model.paths import COLLECTIONS, MODELS
from nea_policy.model.files import write_text

_TEMPLATE = """\
# A nea-policy scenario. Fill it in, then:
#   nea-policy check {name}
#   nea-policy evaluate {name}
# Completion in editors (YAML language server): run `nea-policy schema facts > facts.schema.json`
# and make the first line of this file: # yaml-language-server: $schema=facts.schema.json
# Leave out (or comment out) what your sources do not say: an unknown fact never satisfies a rule.
# A field marked "read by no rule" describes the scenario but changes no result (yet).
# Levels, everywhere below: {levels}.
# Countries are ISO 3166-1 alpha-2 codes (CN, JP, KP, KR, MN, RU ...), in capitals. A fictional or unlisted
# country takes a user-assigned code ({user_assigned}) and a name: {{code: XA, name: Country A}}.
# Names are written as they read mid-sentence (the Philippines, Chinese workers in Japan); reports
# capitalise them at the start of a sentence.

title: My scenario
description: >-
  One or two sentences on the situation: who moves where, and why it matters.

countries:
  - code: CN
    name: China
    surplus_labor: high                 # surplus labor / lack of employment at home
    rural_unemployment: high
    # regional_development_gap: high
    # food_insecurity: none
    # economic_collapse: none
    # international_isolation: none
    # population_decline: none
    # economic_decline: none
    # consumer_goods_shortfall: none
    # accepted_conventions: []          # {conventions}
  - code: JP
    name: Japan
    labor_shortage: moderate
    labor_shortage_sectors: [construction, agriculture]
    restrictive_migration_policy: true  # limits legal entry of migrants
    # accepted_conventions: [refugee-convention-1951]

# Supranational or regional parties (optional): a side of relations and agreements, never a flow's
# origin or destination. kind: {party_kinds}
parties: []
#  - code: EU
#    name: the European Union
#    kind: supranational

# Sub-national regions a flow may go to (optional). A region belongs to one declared country.
regions: []
#  - id: hokkaido
#    name: Hokkaido
#    country: JP
#    labor_shortage: high
#    labor_shortage_sectors: [fishing, care]
#    surplus_labor: none
#    rural_unemployment: low
#    regional_development_gap: moderate
#    consumer_goods_shortfall: none
#    population_decline: moderate
#    economic_decline: moderate

# Relations between two declared countries, or a country and a party (optional; the order does not matter).
relations:
  - between: [CN, JP]
    proximity: true                     # neighbours?
    # rising_power: CN                  # one of the two, if the other feels vulnerable to it
    # sovereignty_dispute: false
    # diplomatic_tension: low
    # cultural_gap: moderate
    # economic_ties: high

# Cooperation regimes that already exist (optional). kind: {agreement_kinds}
agreements: []
#  - id: cn-jp-training
#    between: [CN, JP]
#    kind: labor-migration-regime

# Migrant flows from an origin country to a destination country.
flows:
  - id: cn-to-jp                        # lower-case letters, digits and hyphens
    name: Chinese workers in Japan       # who and where, as a plural noun phrase
    origin: CN
    destination: JP
    # destination_region: hokkaido      # the id of a region of the destination
    kinds: [temporary-workers, trainees] # {kinds}
    #   refugees: fled persecution, war or violence (who they are; legal_status says what the host decided)
    sectors: [manufacturing]
    unskilled: true
    legal_status: mixed                 # {legal_status}
    #   temporary-protection: protected as a group, for a time, with no one's refugee status determined
    #   pending-asylum: individual asylum claims lodged and awaiting a decision
    estimates: []                       # size ranges; kind: {estimate_kinds}
    #  - {{low: 100000, high: 150000, kind: official, by: immigration statistics}}
    labels: []
    #  - {{by: media, label: trainees}}
    # count_reliability: low
    recruiter_exploitation: high        # deceit by recruiters / labor exporters
    # employer_exploitation: high
    # cheap_labor_as_training: true     # cheap labor under the guise of training
    illegal_work: moderate
    # illegal_work_by_students: false
    # abuse: none
    # indentured_servitude: false
    # forced_prostitution: false
    # fear_of_exposure: none
    # under_reporting: false
    # persecution_risk_on_return: none
    # back_and_forth_trips: false
    # has_work_and_shelter: true
    # host_fear: low                    # fear in the host society
    # nationalist_framing: false        # "yellow peril", "peaceful invasion"
    # media_tone: balanced              # {media_tones}
    # stereotypes: low
    # public_ignorance: low
    # superficial_interaction: false
"""


def _values(enum: type[Enum]) -> str:
    return ", ".join(str(member.value) for member in enum)


def scenario_template(name: str = "scenario.yaml", ruleset: RuleSet | None = None) -> str:
    """The commented template; the allowed values in its comments come from the fact model itself.

    The fields no rule of the rule set (default: the bundled rules) reads are marked "read by no rule".
    """
    text = _TEMPLATE.format(
        name=name,
        levels=" < ".join(LEVEL_ORDER),
        conventions=_values(Convention),
        agreement_kinds=_values(AgreementKind),
        kinds=_values(FlowKind),
        legal_status=_values(LegalStatus),
        estimate_kinds=_values(EstimateKind),
        media_tones=_values(MediaTone),
        party_kinds=_values(PartyKind),
        user_assigned=USER_ASSIGNED_TEXT,
    )
    return mark_unread(text, ruleset if ruleset is not None else load_ruleset())


UNREAD_MARK = "read by no rule"
_SECTION = re.compile(r"^([a-z_]+):")
_FIELD = re.compile(r"^\s*(#\s*)?(- )?([a-z_]+):(\s|$)")


def template_fields(text: str) -> list[tuple[int, str, str]]:
    """(line index, collection, field) of every field line of a template, commented out or not."""
    found = []
    section = None
    for index, line in enumerate(text.splitlines()):
        head = _SECTION.match(line)
        if head:
            section = head.group(1) if head.group(1) in COLLECTIONS else None
            continue
        match = _FIELD.match(line)
        if section is not None and match and match.group(3) in MODELS[section].model_fields:
            found.append((index, section, match.group(3)))
    return found


def mark_unread(text: str, ruleset: RuleSet) -> str:
    """The template with each field that no rule of the rule set reads marked, so a student knows it changes no result."""
    reads = ruleset_reads(ruleset)
    lines = text.splitlines()
    for index, collection, field in template_fields(text):
        if field in STRUCTURE or (COLLECTIONS[collection], field) in reads:
            continue
        line = lines[index]
        comment = line.find(" # ")
        if line.lstrip().startswith("#"):
            lines[index] = f"{line}  ({UNREAD_MARK})"
        elif comment >= 0:
            lines[index] = f"{line[: comment + 3]}{UNREAD_MARK}; {line[comment + 3 :]}"
        else:
            lines[index] = f"{line.ljust(39)} # {UNREAD_MARK}"
    return "\n".join(lines) + "\n"


def write_template(path: str | Path, *, force: bool = False) -> Path:
    """Write the template to path; refuses to overwrite an existing file, or to write through a symbolic link, unless force."""
    target = Path(path)
    if target.is_dir():
        raise InputError("is a directory; name the new fact file, e.g. my-scenario.yaml", code="is_a_directory", location=str(target))
    return write_text(target, scenario_template(target.name), force=force, exclusive=True)
