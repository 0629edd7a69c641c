"""The fact model: what a scenario file may say about countries, regions, relations, agreements and migrant flows."""

from __future__ import annotations

import difflib
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from nea_policy.errors import Problem, ScenarioError
from nea_policy.model.display import shown
from nea_policy.model.documents import (
    DEFAULT_MAX_BYTES,
    Document,
    load_document,
    parse_document,
)
from nea_policy.model.iso_countries import ISO_ALPHA2, USER_ASSIGNED, USER_ASSIGNED_TEXT
from nea_policy.model.limits import DEFAULT_LIMITS, SizeLimits, size_problems


class Level(str, Enum):
    """An ordinal degree, for everything the article describes as more or less: none < low < moderate < high < severe."""

    none = "none"
    low = "low"
    moderate = "moderate"
    high = "high"
    severe = "severe"

    @property
    def rank(self) -> int:
        """Position on the scale, 0 (none) to 4 (severe); what the engine compares."""
        return LEVEL_ORDER.index(self.value)


LEVEL_ORDER: tuple[str, ...] = ("none", "low", "moderate", "high", "severe")


class FlowKind(str, Enum):
    """The kinds of people a flow is made of (the article's inclusive definition of human flows).

    refugees: people who fled persecution, war or violence at home, whether or not a state has recognised them
    (the kind says who they are; their legal status says what the host has decided about them).
    """

    permanent_migrants = "permanent-migrants"
    temporary_workers = "temporary-workers"
    traders = "traders"
    tourists = "tourists"
    businesspeople = "businesspeople"
    educators = "educators"
    students = "students"
    trainees = "trainees"
    entertainers = "entertainers"
    sex_workers = "sex-workers"
    seamen = "seamen"
    asylum_seekers = "asylum-seekers"
    refugees = "refugees"
    family_visitors = "family-visitors"


class LegalStatus(str, Enum):
    """Legal status of the people in a flow.

    regular: lawfully present; irregular: present without permission, and that much is clear; unclear: contested,
    no one knows what rights they can claim (North Koreans in China); mixed: some regular, some not;
    temporary-protection: protected as a group, for a time, with no one's refugee status determined;
    pending-asylum: individual asylum claims lodged and awaiting a decision.
    """

    regular = "regular"
    irregular = "irregular"
    unclear = "unclear"
    mixed = "mixed"
    temporary_protection = "temporary-protection"
    pending_asylum = "pending-asylum"


class MediaTone(str, Enum):
    """How the host country's media cover the people in a flow."""

    positive = "positive"
    balanced = "balanced"
    mixed = "mixed"
    negative = "negative"
    hostile = "hostile"


class EstimateKind(str, Enum):
    """Who made a size estimate and how: alarmist speculation, careful study, official statistics."""

    alarmist = "alarmist"
    careful = "careful"
    official = "official"


class Convention(str, Enum):
    """International conventions and protocols a country may have accepted."""

    refugee_convention_1951 = "refugee-convention-1951"
    refugee_protocol_1967 = "refugee-protocol-1967"
    migrant_workers_convention_1990 = "migrant-workers-convention-1990"
    trafficking_protocol_2000 = "trafficking-protocol-2000"
    smuggling_protocol_2000 = "smuggling-protocol-2000"
    ilo_migration_for_employment_c97 = "ilo-c97"
    ilo_migrant_workers_c143 = "ilo-c143"


class AgreementKind(str, Enum):
    """Kinds of cooperation regime two sides (countries or parties) may already have.

    migration-partnership: cooperation on migration control, returns, resettlement or funding for refugees
    (the EU-Turkey statement of 2016).
    """

    migration_and_trade_regime = "migration-and-trade-regime"
    labor_migration_regime = "labor-migration-regime"
    trade_agreement = "trade-agreement"
    visa_agreement = "visa-agreement"
    exchange_program = "exchange-program"
    migration_partnership = "migration-partnership"


class PartyKind(str, Enum):
    """What kind of party a supranational or regional body is: supranational (its members pool sovereignty, the EU)
    or regional (an intergovernmental organisation, ASEAN)."""

    supranational = "supranational"
    regional = "regional"


CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}$",
        description=f"ISO 3166-1 alpha-2 country code, e.g. CN, JP, KP, KR, MN, RU; for a fictional country a user-assigned code ({USER_ASSIGNED_TEXT})",
    ),
]
PartyCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$", description="code of a supranational or regional party, e.g. EU, ASEAN, AU, EAEU")]
SideCode = Annotated[
    str, Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$", description="a side of a relation or agreement: a declared country's code, or a declared party's (EU, ASEAN ...)")
]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80, description="lower-case id: letters, digits and hyphens")]
Text = Annotated[str, Field(max_length=2000)]
Sector = Annotated[str, Field(min_length=1, max_length=80)]


class _Strict(BaseModel):
    """Base of every fact model: unknown fields are errors, numbers must be finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_enum_values=False, frozen=False)


class EconomicConditions(_Strict):
    """Fields shared by countries and regions: labor market, economy and population."""

    labor_shortage: Level | None = Field(None, description="shortage of workers in the economy")
    labor_shortage_sectors: list[Sector] = Field(default_factory=list, description="sectors short of labor, e.g. construction, agriculture")
    surplus_labor: Level | None = Field(None, description="surplus labor / lack of employment at home")
    rural_unemployment: Level | None = Field(None, description="unemployment in the countryside")
    regional_development_gap: Level | None = Field(None, description="development gaps between regions that drive internal and external migration")
    consumer_goods_shortfall: Level | None = Field(None, description="shortfalls in consumer goods production")
    population_decline: Level | None = Field(None, description="how fast the population is falling")
    economic_decline: Level | None = Field(None, description="how far the economy is deteriorating")


class Country(EconomicConditions):
    """A country of origin or destination, with the conditions the article treats as reasons."""

    code: CountryCode
    name: Text = Field(description="the country's name as it reads mid-sentence, e.g. China, the Philippines, Country A")
    food_insecurity: Level | None = Field(None, description="hunger and shortage of food")
    economic_collapse: Level | None = Field(None, description="failure of the economic system (calamitous economy, disasters)")
    international_isolation: Level | None = Field(None, description="isolation from the international community")
    restrictive_migration_policy: StrictBool | None = Field(None, description="whether the country limits legal entry of migrants")
    accepted_conventions: list[Convention] = Field(default_factory=list, description="international conventions and protocols the country has accepted")

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in ISO_ALPHA2 and code not in USER_ASSIGNED:
            raise ValueError(
                f"{code!r} is not an ISO 3166-1 alpha-2 country code; a fictional country takes a user-assigned code ({USER_ASSIGNED_TEXT}),"
                " and a union or organisation such as the EU is declared under parties"
            )
        return code

    @model_validator(mode="after")
    def _named(self) -> Country:
        if self.code in USER_ASSIGNED and not self.name.strip():
            raise ValueError(f"{self.code} is a user-assigned code, so its name is all a reader gets; give the country a name, e.g. Country A")
        return self


class Party(_Strict):
    """A supranational or regional party (the EU, ASEAN...): a side of relations and agreements, never a flow's origin or destination."""

    code: PartyCode
    name: Text = Field(description="the party's name as it reads mid-sentence, e.g. the European Union")
    kind: PartyKind | None = Field(None, description="supranational (the EU) or regional (ASEAN)")

    @field_validator("code")
    @classmethod
    def _not_a_country(cls, code: str) -> str:
        if code in ISO_ALPHA2 or code in USER_ASSIGNED:
            raise ValueError(f"{code!r} is a country code; a party takes a code of its own, e.g. EU, ASEAN, AU")
        return code

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("a party needs a name, e.g. the European Union")
        return name


class Region(EconomicConditions):
    """A sub-national region (e.g. the Russian Far East) that a flow may go to."""

    id: Identifier
    name: Text
    country: CountryCode


class Relation(_Strict):
    """The bilateral relation between two countries, or between a country and a party (the EU-Turkey relation)."""

    between: list[SideCode] = Field(min_length=2, max_length=2, description="the two sides, e.g. [RU, CN] or [EU, TR]")
    proximity: StrictBool | None = Field(None, description="whether the two are neighbours")
    rising_power: SideCode | None = Field(None, description="which of the two is a rising power the other feels vulnerable to")
    sovereignty_dispute: StrictBool | None = Field(None, description="whether they dispute sovereignty over territory")
    diplomatic_tension: Level | None = Field(None, description="tension between the two governments")
    cultural_gap: Level | None = Field(None, description="how far apart the two cultures are")
    economic_ties: Level | None = Field(None, description="how close the economic ties are")

    @model_validator(mode="after")
    def _two_countries(self) -> Relation:
        if self.between[0] == self.between[1]:
            raise ValueError("a relation is between two different sides")
        if self.rising_power is not None and self.rising_power not in self.between:
            raise ValueError(f"rising_power {self.rising_power!r} must be one of the two countries {self.between}")
        return self


class Agreement(_Strict):
    """A cooperation regime that already exists between two sides (countries, or a country and a party)."""

    id: Identifier
    between: list[SideCode] = Field(min_length=2, max_length=2, description="the two sides, e.g. [CN, JP] or [EU, TR]")
    kind: AgreementKind


#: No estimate of people can exceed the world's population; the bound also keeps the ratios the engine derives finite.
MAX_ESTIMATE = 10_000_000_000


class Estimate(_Strict):
    """A size estimate as a range, with how it was made."""

    low: StrictInt = Field(ge=0, le=MAX_ESTIMATE, description="at least this many people (at most 10,000,000,000)")
    high: StrictInt = Field(ge=0, le=MAX_ESTIMATE, description="at most this many people (at most 10,000,000,000)")
    kind: EstimateKind
    by: Text | None = Field(None, description="who made the estimate")

    @model_validator(mode="after")
    def _ordered(self) -> Estimate:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


class Label(_Strict):
    """What somebody calls the people in a flow (defectors, refugees, economic migrants...)."""

    by: Text
    label: Text


class Flow(_Strict):
    """A migrant flow from an origin country to a destination country (and optionally a region of it)."""

    id: Identifier
    name: Text = Field(
        description="who the people are and where, as a plural noun phrase that reads mid-sentence, e.g. 'Chinese labor migrants in Japan',"
        " 'Syrian refugees in Turkey', 'workers from Country A in Country B'; reports capitalise it at the start of a sentence"
    )
    origin: CountryCode
    destination: CountryCode
    destination_region: Identifier | None = Field(None, description="id of a region of the destination country")
    kinds: list[FlowKind] = Field(default_factory=list, description="the kinds of people in the flow")
    sectors: list[Sector] = Field(default_factory=list, description="sectors the migrants work in")
    unskilled: StrictBool | None = Field(None, description="whether most are uneducated and unskilled")
    estimates: list[Estimate] = Field(default_factory=list, description="size estimates as ranges")
    count_reliability: Level | None = Field(None, description="how dependable the counts are")
    legal_status: LegalStatus | None = None
    labels: list[Label] = Field(default_factory=list, description="how governments, media and others label the people")
    recruiter_exploitation: Level | None = Field(None, description="deceit and exploitation by recruiters / labor exporters and their partners")
    employer_exploitation: Level | None = Field(None, description="exploitation by employers")
    cheap_labor_as_training: StrictBool | None = Field(None, description="hired as cheap labor under the guise of technical or industrial training")
    illegal_work: Level | None = Field(None, description="how much of the flow works illegally")
    illegal_work_by_students: StrictBool | None = Field(None, description="whether students work illegally")
    abuse: Level | None = Field(None, description="mental and physical abuse")
    indentured_servitude: StrictBool | None = None
    forced_prostitution: StrictBool | None = None
    fear_of_exposure: Level | None = Field(None, description="fear of exposure and arrest")
    under_reporting: StrictBool | None = Field(None, description="abuse goes unreported")
    persecution_risk_on_return: Level | None = Field(None, description="risk of persecution if forcibly returned")
    back_and_forth_trips: StrictBool | None = Field(None, description="migrants cross back and forth bringing food, necessities and money home")
    has_work_and_shelter: StrictBool | None = Field(None, description="whether (some of) the migrants can prove they have work and shelter")
    host_fear: Level | None = Field(None, description="fear of the flow in the host society (vulnerability, national-security concern)")
    nationalist_framing: StrictBool | None = Field(None, description="whether the flow is framed in nationalist terms ('yellow peril', 'peaceful invasion')")
    media_tone: MediaTone | None = None
    stereotypes: Level | None = Field(None, description="unfavorable stereotypes of the migrants in the host society")
    public_ignorance: Level | None = Field(None, description="the host public's ignorance of and lack of interest in the origin country")
    superficial_interaction: StrictBool | None = Field(None, description="whether personal interaction between migrants and hosts is superficial")


class Scenario(_Strict):
    """A whole fact file: who is who, how they relate, and the flows between them."""

    title: Text = "Untitled scenario"
    description: Text | None = None
    countries: list[Country] = Field(min_length=1)
    parties: list[Party] = Field(default_factory=list, description="supranational or regional parties (the EU, ASEAN...) that are a side of a relation or agreement")
    regions: list[Region] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    agreements: list[Agreement] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        problems = reference_problems(self)
        if problems:
            raise ScenarioError(problems)
        return self


def pair_key(a: str, b: str) -> str:
    """Order-free key of a pair of countries, e.g. CN-RU for [RU, CN]; lets a flow join its relation with one equality."""
    return "-".join(sorted((a, b)))


def reference_problems(scenario: Scenario | dict[str, Any]) -> list[Problem]:
    """Every reference in the scenario to something it does not declare (countries, parties, regions), and duplicate ids.

    Works on a validated Scenario and on the raw data of a file whose fields have errors too, so that a file's
    reference problems are reported in the same round as its field errors; values that are not well-formed (a code
    that is not a code) are left to the field errors.
    """
    problems: list[Problem] = []
    codes: set[str] = set()
    parties: set[str] = set()
    for i, country in _entries(scenario, "countries"):
        code = _code(_get(country, "code"))
        if code is None:
            continue
        if code in codes:
            problems.append(Problem("duplicate_country", f"country {code} is declared twice; keep one", f"countries[{i}].code"))
        codes.add(code)
    for i, party in _entries(scenario, "parties"):
        code = _code(_get(party, "code"))
        if code is None or code in ISO_ALPHA2 or code in USER_ASSIGNED:
            continue  # a country code as a party's is a field error of its own
        if code in codes:
            problems.append(Problem("duplicate_code", f"{code} is declared both as a country and as a party; keep one", f"parties[{i}].code"))
        elif code in parties:
            problems.append(Problem("duplicate_party", f"party {code} is declared twice; keep one", f"parties[{i}].code"))
        parties.add(code)
    declared = ", ".join(sorted(codes))

    def need(code: Any, where: str, what: str, *, party_ok: bool = False) -> None:
        code = _code(code)
        if code is None or code in codes or (party_ok and code in parties):
            return
        if code in parties:
            problems.append(
                Problem("party_not_a_country", f"{what} {code!r} is a party, not a country", where, "a flow goes from one country to another and a region belongs to a country; name a country")
            )
            return
        known = sorted(codes | parties) if party_ok else sorted(codes)
        close = difflib.get_close_matches(code, known, n=1)
        hint = f"did you mean {close[0]}?" if close else ("declare it under countries or parties" if party_ok else "declare it under countries")
        kind = "country or party" if party_ok else "country"
        listed = ", ".join(known) if party_ok else declared
        problems.append(Problem("undeclared_country", f"{what} {code!r} is not a declared {kind}; declared: {listed}", where, hint))

    region_country: dict[str, str | None] = {}
    for i, region in _entries(scenario, "regions"):
        region_id = _get(region, "id")
        need(_get(region, "country"), f"regions[{i}].country", f"region {region_id!r}: country")
        if not isinstance(region_id, str):
            continue
        if region_id in region_country:
            problems.append(Problem("duplicate_id", f"region id {region_id!r} is used twice", f"regions[{i}].id"))
        region_country[region_id] = _code(_get(region, "country"))
    pairs: set[str] = set()
    for i, relation in _entries(scenario, "relations"):
        sides = _sides(_get(relation, "between"))
        for j, code in enumerate(sides):
            need(code, f"relations[{i}].between[{j}]", "relation: side", party_ok=True)
        if len(sides) == 2 and all(isinstance(s, str) for s in sides):
            key = pair_key(*sides)
            if key in pairs:
                problems.append(Problem("duplicate_relation", f"the relation {key} is described twice; merge them", f"relations[{i}]"))
            pairs.add(key)
    seen_agreements: set[str] = set()
    for i, agreement in _entries(scenario, "agreements"):
        agreement_id = _get(agreement, "id")
        for j, code in enumerate(_sides(_get(agreement, "between"))):
            need(code, f"agreements[{i}].between[{j}]", f"agreement {agreement_id!r}: side", party_ok=True)
        if isinstance(agreement_id, str):
            if agreement_id in seen_agreements:
                problems.append(Problem("duplicate_id", f"agreement id {agreement_id!r} is used twice", f"agreements[{i}].id"))
            seen_agreements.add(agreement_id)
    flow_ids: set[str] = set()
    for i, flow in _entries(scenario, "flows"):
        flow_id = _get(flow, "id")
        origin, destination = _code(_get(flow, "origin")), _code(_get(flow, "destination"))
        need(origin, f"flows[{i}].origin", f"flow {flow_id!r}: origin")
        need(destination, f"flows[{i}].destination", f"flow {flow_id!r}: destination")
        if origin is not None and origin == destination:
            problems.append(Problem("same_origin_and_destination", f"flow {flow_id!r} goes from {origin} to itself; internal migration is not a cross-border flow", f"flows[{i}]"))
        region_id = _get(flow, "destination_region")
        if isinstance(region_id, str):
            if region_id not in region_country:
                problems.append(Problem("undeclared_region", f"flow {flow_id!r}: destination_region {region_id!r} is not a declared region", f"flows[{i}].destination_region", "declare it under regions"))
            elif region_country[region_id] is not None and destination is not None and region_country[region_id] != destination:
                problems.append(Problem("region_outside_destination", f"flow {flow_id!r}: region {region_id!r} is in {region_country[region_id]}, not in the destination {destination}", f"flows[{i}].destination_region"))
        if isinstance(flow_id, str):
            if flow_id in flow_ids:
                problems.append(Problem("duplicate_id", f"flow id {flow_id!r} is used twice", f"flows[{i}].id"))
            flow_ids.add(flow_id)
    return problems


_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")


def _get(entry: Any, name: str) -> Any:
    if isinstance(entry, BaseModel):
        return getattr(entry, name, None)
    return entry.get(name) if isinstance(entry, dict) else None


def _entries(scenario: Scenario | dict[str, Any], name: str) -> list[tuple[int, Any]]:
    items = _get(scenario, name)
    return list(enumerate(items)) if isinstance(items, list) else []


def _sides(value: Any) -> list[Any]:
    return value if isinstance(value, list) and len(value) <= 2 else []


def _code(value: Any) -> str | None:
    """A well-formed code, or None (a malformed one is a field error of its own)."""
    return value if isinstance(value, str) and _CODE.match(value) else None


# --- turning input into a Scenario, with errors that name the place --------------------------------


def scenario_from_document(document: Document, *, limits: SizeLimits = DEFAULT_LIMITS) -> Scenario:
    """Validate a parsed file as a Scenario; every problem at once, each with file:line and field path.

    A scenario over the size limits is refused before it is validated (the engine refuses it too).
    """
    data = document.data
    if not isinstance(data, dict):
        raise ScenarioError([Problem("not_a_mapping", f"the top level must be a mapping (countries:, flows: ...), not {_type_name(data)}", document.locate(()), path=())])
    too_large = size_problems(data, limits, document.locate)
    if too_large:
        raise ScenarioError(too_large)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        # Field errors and reference errors in one round: the references are checked on the raw data too.
        problems = validation_problems(exc, document) + [_locate_problem(p, document) for p in reference_problems(data)]
    except ScenarioError as exc:
        problems = [_locate_problem(p, document) for p in exc.problems]
    # in file order, as a student reads the file (pydantic reports in field-declaration order)
    problems.sort(key=lambda p: _position(p.location))
    raise ScenarioError(problems) from None


def load_scenario(source: Scenario | dict[str, Any] | str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: SizeLimits = DEFAULT_LIMITS) -> Scenario:
    """A Scenario from a Scenario, a dict, or a path to a YAML/JSON fact file."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, dict):
        return scenario_from_document(Document(name="<scenario>", data=source), limits=limits)
    if isinstance(source, (str, Path)):
        return scenario_from_document(load_document(source, max_bytes=max_bytes, max_nodes=limits.max_nodes), limits=limits)
    raise TypeError(f"expected a Scenario, a dict or a path, got {type(source).__name__}")


def parse_scenario_text(text: str, name: str = "<stdin>", fmt: str | None = None) -> Scenario:
    """A Scenario from the text of a fact file."""
    return scenario_from_document(parse_document(text, name, fmt=fmt))


def _position(location: str) -> tuple[int, int]:
    """(line, column) of a `file:line:col` location, (0, 0) when it has none."""
    parts = location.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    if len(parts) >= 2 and parts[-1].isdigit():
        return int(parts[-1]), 0
    return 0, 0



def _type_name(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "nothing"}.get(type(value), type(value).__name__)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,79}")


def _path_text(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _NAME.fullmatch(str(part)):
            # A key that is not a name (`x[0]`, one holding controls or a megabyte) is quoted, so it reads as one key.
            out += f"[{shown(part, 40)}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _real_path(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """The parts of a pydantic error location that are keys and indexes of the data (not validator or union tags)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif index == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            pass  # a missing field: the last part names what is not there
        else:
            continue
        path.append(part)
    return tuple(path)


def _model_at(path: tuple[str | int, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class that holds the value at path (for 'did you mean')."""
    model: Any = root
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        model = _inner_model(annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return annotation


def validation_problems(exc: ValidationError, document: Document, root: type[BaseModel] = Scenario) -> list[Problem]:
    """The errors of validating a document as `root` (a Scenario, or a request holding scenarios) as located problems,
    each with its field path, in the words fact files get ('did you mean' among the fields of the model there)."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        # pydantic may put validator or union-branch tags in loc; keep only real path parts
        path = _real_path(tuple(error["loc"]), document.data)
        where = document.locate(path)
        field_path = _path_text(path) or "(top level)"
        kind = error["type"]
        given = error.get("input")
        if kind == "extra_forbidden":
            name = path[-1] if path else "?"
            owner = _model_at(path[:-1], root)
            choices = sorted(owner.model_fields) if owner else []
            close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else (f"allowed fields: {', '.join(choices)}" if choices else "")
            problems.append(Problem("unknown_field", f"{field_path}: unknown field {shown(name, 40)}", where, hint, path=path))
        elif kind == "missing":
            problems.append(Problem("missing_field", f"{field_path}: required field is missing", where, "add it", path=path))
        elif kind == "enum":
            allowed = error.get("ctx", {}).get("expected", "")
            problems.append(Problem("bad_value", f"{field_path}: {shown(given)} is not allowed; allowed: {allowed}", where, path=path))
        elif isinstance(error.get("ctx", {}).get("error"), ScenarioError):
            for p in error["ctx"]["error"].problems:
                problems.append(_locate_problem(p, document))
        else:
            message = error["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            problems.append(Problem(_code_for(kind), f"{field_path}: {message} (given: {_short(given)})", where, path=path))
    return problems


def _locate_problem(problem: Problem, document: Document) -> Problem:
    path = _parse_path(problem.location)
    return Problem(problem.code, f"{problem.location}: {problem.message}", document.locate(path), problem.hint, path=path)


def _parse_path(text: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for chunk in text.replace("]", "").replace("[", ".").split("."):
        if chunk == "":
            continue
        parts.append(int(chunk) if chunk.isascii() and chunk.isdigit() else chunk)
    return tuple(parts)


def _code_for(kind: str) -> str:
    if kind.endswith("_type") or kind in {"bool_parsing", "int_parsing", "string_type", "list_type", "model_type"}:
        return "wrong_type"
    return "bad_value"


def _short(value: Any) -> str:
    return shown(value)
