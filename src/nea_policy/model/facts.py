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
from nea_policy.model.iso_countries import ISO_ALPHA2
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
    """The kinds of people a flow is made of (the article's inclusive definition of human flows)."""

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
    family_visitors = "family-visitors"


class LegalStatus(str, Enum):
    """Legal status of the people in a flow: regular, irregular, unclear/contested, or mixed."""

    regular = "regular"
    irregular = "irregular"
    unclear = "unclear"
    mixed = "mixed"


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
    """Kinds of cooperation regime two countries may already have."""

    migration_and_trade_regime = "migration-and-trade-regime"
    labor_migration_regime = "labor-migration-regime"
    trade_agreement = "trade-agreement"
    visa_agreement = "visa-agreement"
    exchange_program = "exchange-program"


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code, e.g. CN, JP, KP, KR, MN, RU")]
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
    name: Text
    food_insecurity: Level | None = Field(None, description="hunger and shortage of food")
    economic_collapse: Level | None = Field(None, description="failure of the economic system (calamitous economy, disasters)")
    international_isolation: Level | None = Field(None, description="isolation from the international community")
    restrictive_migration_policy: StrictBool | None = Field(None, description="whether the country limits legal entry of migrants")
    accepted_conventions: list[Convention] = Field(default_factory=list, description="international conventions and protocols the country has accepted")

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in ISO_ALPHA2:
            raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
        return code


class Region(EconomicConditions):
    """A sub-national region (e.g. the Russian Far East) that a flow may go to."""

    id: Identifier
    name: Text
    country: CountryCode


class Relation(_Strict):
    """The bilateral relation between two countries."""

    between: list[CountryCode] = Field(min_length=2, max_length=2, description="the two countries, e.g. [RU, CN]")
    proximity: StrictBool | None = Field(None, description="whether the two are neighbours")
    rising_power: CountryCode | None = Field(None, description="which of the two is a rising power the other feels vulnerable to")
    sovereignty_dispute: StrictBool | None = Field(None, description="whether they dispute sovereignty over territory")
    diplomatic_tension: Level | None = Field(None, description="tension between the two governments")
    cultural_gap: Level | None = Field(None, description="how far apart the two cultures are")
    economic_ties: Level | None = Field(None, description="how close the economic ties are")

    @model_validator(mode="after")
    def _two_countries(self) -> Relation:
        if self.between[0] == self.between[1]:
            raise ValueError("a relation is between two different countries")
        if self.rising_power is not None and self.rising_power not in self.between:
            raise ValueError(f"rising_power {self.rising_power!r} must be one of the two countries {self.between}")
        return self


class Agreement(_Strict):
    """A cooperation regime that already exists between two countries."""

    id: Identifier
    between: list[CountryCode] = Field(min_length=2, max_length=2)
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
    name: Text
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


def reference_problems(scenario: Scenario) -> list[Problem]:
    """Every reference in the scenario to something it does not declare (countries, regions), and duplicate ids."""
    problems: list[Problem] = []
    codes: set[str] = set()
    for i, country in enumerate(scenario.countries):
        if country.code in codes:
            problems.append(Problem("duplicate_country", f"country {country.code} is declared twice; keep one", f"countries[{i}].code"))
        codes.add(country.code)

    def need(code: str | None, where: str, what: str) -> None:
        if code is not None and code not in codes:
            close = difflib.get_close_matches(code, sorted(codes), n=1)
            hint = f"did you mean {close[0]}?" if close else "declare it under countries"
            problems.append(Problem("undeclared_country", f"{what} {code!r} is not a declared country; declared: {', '.join(sorted(codes))}", where, hint))

    region_country: dict[str, str] = {}
    for i, region in enumerate(scenario.regions):
        need(region.country, f"regions[{i}].country", f"region {region.id!r}: country")
        if region.id in region_country:
            problems.append(Problem("duplicate_id", f"region id {region.id!r} is used twice", f"regions[{i}].id"))
        region_country[region.id] = region.country
    pairs: set[str] = set()
    for i, relation in enumerate(scenario.relations):
        for j, code in enumerate(relation.between):
            need(code, f"relations[{i}].between[{j}]", "relation: country")
        key = pair_key(*relation.between)
        if key in pairs:
            problems.append(Problem("duplicate_relation", f"the relation {key} is described twice; merge them", f"relations[{i}]"))
        pairs.add(key)
    seen_agreements: set[str] = set()
    for i, agreement in enumerate(scenario.agreements):
        for j, code in enumerate(agreement.between):
            need(code, f"agreements[{i}].between[{j}]", f"agreement {agreement.id!r}: country")
        if agreement.id in seen_agreements:
            problems.append(Problem("duplicate_id", f"agreement id {agreement.id!r} is used twice", f"agreements[{i}].id"))
        seen_agreements.add(agreement.id)
    flow_ids: set[str] = set()
    for i, flow in enumerate(scenario.flows):
        need(flow.origin, f"flows[{i}].origin", f"flow {flow.id!r}: origin")
        need(flow.destination, f"flows[{i}].destination", f"flow {flow.id!r}: destination")
        if flow.origin == flow.destination:
            problems.append(Problem("same_origin_and_destination", f"flow {flow.id!r} goes from {flow.origin} to itself; internal migration is not a cross-border flow", f"flows[{i}]"))
        if flow.destination_region is not None:
            owner = region_country.get(flow.destination_region)
            if owner is None:
                problems.append(Problem("undeclared_region", f"flow {flow.id!r}: destination_region {flow.destination_region!r} is not a declared region", f"flows[{i}].destination_region", "declare it under regions"))
            elif owner != flow.destination:
                problems.append(Problem("region_outside_destination", f"flow {flow.id!r}: region {flow.destination_region!r} is in {owner}, not in the destination {flow.destination}", f"flows[{i}].destination_region"))
        if flow.id in flow_ids:
            problems.append(Problem("duplicate_id", f"flow id {flow.id!r} is used twice", f"flows[{i}].id"))
        flow_ids.add(flow.id)
    return problems


# --- turning input into a Scenario, with errors that name the place --------------------------------


def scenario_from_document(document: Document, *, limits: SizeLimits = DEFAULT_LIMITS) -> Scenario:
    """Validate a parsed file as a Scenario; every problem at once, each with file:line and field path.

    A scenario over the size limits is refused before it is validated (the engine refuses it too).
    """
    data = document.data
    if not isinstance(data, dict):
        raise ScenarioError(
            f"the top level must be a mapping (countries:, flows: ...), not {_type_name(data)}",
            code="not_a_mapping",
            location=document.locate(()),
        )
    too_large = size_problems(data, limits, document.locate)
    if too_large:
        raise ScenarioError(too_large)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems_from_validation(exc, document)
        # in file order, as a student reads the file (pydantic reports in field-declaration order)
        problems.sort(key=lambda p: _line_number(p.location))
        raise ScenarioError(problems) from None
    except ScenarioError as exc:
        raise ScenarioError([_locate_problem(p, document) for p in exc.problems]) from None


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


def _line_number(location: str) -> int:
    parts = location.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isascii() and parts[1].isdigit() else 0


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


def _model_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that holds the value at path (for 'did you mean')."""
    model: Any = Scenario
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


def _problems_from_validation(exc: ValidationError, document: Document) -> list[Problem]:
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
            owner = _model_at(path[:-1])
            choices = sorted(owner.model_fields) if owner else []
            close = difflib.get_close_matches(str(name), choices, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else (f"allowed fields: {', '.join(choices)}" if choices else "")
            problems.append(Problem("unknown_field", f"{field_path}: unknown field {shown(name, 40)}", where, hint))
        elif kind == "missing":
            problems.append(Problem("missing_field", f"{field_path}: required field is missing", where, "add it"))
        elif kind == "enum":
            allowed = error.get("ctx", {}).get("expected", "")
            problems.append(Problem("bad_value", f"{field_path}: {shown(given)} is not allowed; allowed: {allowed}", where))
        elif isinstance(error.get("ctx", {}).get("error"), ScenarioError):
            for p in error["ctx"]["error"].problems:
                problems.append(_locate_problem(p, document))
        else:
            message = error["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            problems.append(Problem(_code_for(kind), f"{field_path}: {message} (given: {_short(given)})", where))
    return problems


def _locate_problem(problem: Problem, document: Document) -> Problem:
    path = _parse_path(problem.location)
    return Problem(problem.code, f"{problem.location}: {problem.message}", document.locate(path), problem.hint)


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
