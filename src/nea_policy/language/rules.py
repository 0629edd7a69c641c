"""Rules as data: the rule file model, loading a rules folder, and validating every rule against the fact types."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nea_policy.errors import InputError, Problem, ProblemCollector, RuleError
from nea_policy.language.conditions import (
    AnyOf,
    Comparison,
    Condition,
    ConditionSyntaxError,
    FieldRef,
    iter_comparisons,
    parse_condition,
)
from nea_policy.model.documents import Document, decode_bytes, load_document, parse_document
from nea_policy.model.fact_types import BASE_TYPES, FACT_TYPES, FINDING, FieldSpec
from nea_policy.model.facts import LEVEL_ORDER
from nea_policy.model.files import read_bytes

TEMPLATE_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\}")


class SourceRef(BaseModel):
    """Where in the article a rule comes from: the section and a verbatim quote."""

    model_config = ConfigDict(extra="forbid")
    section: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class AbsentSpec(BaseModel):
    """A negated pattern: no fact of this type satisfies these conditions."""

    model_config = ConfigDict(extra="forbid")
    fact: str
    as_: str | None = Field(None, alias="as")
    when: list[Any] = Field(default_factory=list)


class RuleSpec(BaseModel):
    """One rule as written in a rule file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Literal["finding", "recommendation"]
    title: str = Field(min_length=1)
    concludes: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    subject: str
    facts: dict[str, str] = Field(min_length=1)
    when: list[Any] = Field(default_factory=list)
    absent: list[AbsentSpec] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    addressees: list[str] = Field(default_factory=list)
    justification: str = Field(min_length=1)
    source: SourceRef
    override: bool = False


@dataclass(frozen=True)
class Absence:
    """A parsed `absent:` block."""

    alias: str
    fact_type: str
    finding: str | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Rule:
    """A validated rule, ready to compile: its aliases' types, parsed conditions and where it was written."""

    id: str
    kind: str
    title: str
    concludes: str
    subject: str
    aliases: dict[str, str]
    finding_aliases: dict[str, str]
    conditions: tuple[Condition, ...]
    absences: tuple[Absence, ...]
    actors: tuple[FieldRef, ...]
    addressees: tuple[str, ...]
    justification: str
    section: str
    quote: str
    file: str
    line: int
    pack: str

    @property
    def location(self) -> str:
        """`file:line` of the rule's id."""
        return f"{self.file}:{self.line}"

    def needed_findings(self) -> set[str]:
        """Findings this rule needs to hold (positively)."""
        return set(self.finding_aliases.values())

    def negated_findings(self) -> set[str]:
        """Findings whose absence this rule tests."""
        return {a.finding for a in self.absences if a.finding}

    def fields_used(self, conditions: tuple[Condition, ...] | list[Condition] | None = None) -> dict[str, list[str]]:
        """For each alias, the fields its conditions, actors and justification read (in first-use order).

        `conditions` replaces the rule's own, e.g. by those of one compiled branch (`compiler.expand_rule`).
        """
        used: dict[str, list[str]] = {alias: [] for alias in self.aliases}

        def note(ref: FieldRef) -> None:
            if ref.alias in used and ref.field not in used[ref.alias]:
                used[ref.alias].append(ref.field)

        for comparison in iter_comparisons(self.conditions if conditions is None else conditions):
            note(comparison.left)
            if isinstance(comparison.right, FieldRef):
                note(comparison.right)
        for absence in self.absences:
            for comparison in iter_comparisons(absence.conditions):
                for ref in (comparison.left, comparison.right):
                    if isinstance(ref, FieldRef) and ref.alias != absence.alias:
                        note(ref)
        for actor in self.actors:
            note(actor)
        for alias, name in TEMPLATE_FIELD.findall(self.justification):
            note(FieldRef(alias, name))
        return used

    def read_only_in_any(self, conditions: tuple[Condition, ...] | list[Condition] | None = None) -> set[tuple[str, str]]:
        """(alias, field) pairs that only `any:` branches test: when such a field is not set, its branch did not apply."""
        conditions = self.conditions if conditions is None else conditions
        elsewhere = {(c.left.alias, c.left.field) for c in conditions if isinstance(c, Comparison)}
        elsewhere |= {(c.right.alias, c.right.field) for c in conditions if isinstance(c, Comparison) and isinstance(c.right, FieldRef)}
        elsewhere |= {(a.alias, a.field) for a in self.actors} | set(TEMPLATE_FIELD.findall(self.justification))
        for absence in self.absences:
            elsewhere |= {(r.alias, r.field) for c in iter_comparisons(absence.conditions) for r in (c.left, c.right) if isinstance(r, FieldRef)}
        inside: set[tuple[str, str]] = set()
        for group in (c for c in conditions if isinstance(c, AnyOf)):
            for comparison in iter_comparisons([group]):
                if comparison.op == "is not set":
                    elsewhere.add((comparison.left.alias, comparison.left.field))
                inside.add((comparison.left.alias, comparison.left.field))
        return inside - elsewhere


@dataclass(frozen=True)
class Pack:
    """A folder of rules: its name, version and where it is."""

    name: str
    version: str
    path: str


@dataclass(frozen=True)
class RuleSet:
    """All rules an engine runs, with the packs they came from and a digest of the rule files."""

    rules: tuple[Rule, ...]
    packs: tuple[Pack, ...]
    digest: str

    @property
    def version(self) -> str:
        """Versions of the packs, joined ('nea-policy-rules 1.0.0')."""
        return ", ".join(f"{p.name} {p.version}" for p in self.packs)

    def by_id(self, rule_id: str) -> Rule:
        """The rule with this id, or a RuleError with the closest ids."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        close = difflib.get_close_matches(rule_id, [r.id for r in self.rules], n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see `nea-policy rules list`"
        raise RuleError(f"no rule {rule_id!r}", code="unknown_rule", hint=hint)

    def conclusions(self, kind: str) -> list[str]:
        """Every finding or recommendation id some rule concludes, sorted."""
        return sorted({r.concludes for r in self.rules if r.kind == kind})


def bundled_rules_dir() -> Path:
    """The folder of rules shipped inside the package."""
    return Path(str(resources.files("nea_policy") / "rules"))


def load_ruleset(dirs: list[str | Path] | None = None, extra: list[str | Path] | None = None) -> RuleSet:
    """Load rule folders (default: the bundled rules) plus extra packs; every problem at once as a RuleError."""
    ruleset, problems = read_ruleset(dirs, extra)
    if problems:
        raise RuleError(problems)
    return ruleset


def read_ruleset(dirs: list[str | Path] | None = None, extra: list[str | Path] | None = None) -> tuple[RuleSet, list[Problem]]:
    """Like load_ruleset, but return the valid rules with the problems instead of raising (the linter reports both)."""
    folders = [Path(d) for d in (dirs if dirs else [bundled_rules_dir()])] + [Path(d) for d in (extra or [])]
    collector = ProblemCollector()
    specs: list[tuple[RuleSpec, str, int, str]] = []
    packs: list[Pack] = []
    digest = hashlib.sha256()
    for folder in folders:
        pack, files = _read_pack(folder, collector)
        if pack is None:
            continue
        packs.append(pack)
        for path in files:
            try:
                # Read once, bounded: the digest is of the bytes parsed, not of a second, unbounded read.
                raw = read_bytes(path)
                document = parse_document(decode_bytes(raw, str(path)), str(path))
            except InputError as exc:
                collector.problems.extend(exc.problems)
                continue
            digest.update(path.name.encode())
            digest.update(raw)
            specs.extend(_rule_specs(document, pack.name, collector))
    rules = _validate(specs, collector)
    return RuleSet(tuple(rules), tuple(packs), "sha256:" + digest.hexdigest()[:16]), collector.problems


def holds_rules(folder: Path) -> bool:
    """Whether a folder holds rule files: *.yaml files beside an optional pack.yaml, at least one with a `rules:` list."""
    if not folder.is_dir():
        return False
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        try:
            data = load_document(path).data
        except InputError:
            return True  # a rule file with a syntax error is still a rule file; the loader reports it
        if isinstance(data, dict) and "rules" in data:
            return True
    return False


def _read_pack(folder: Path, collector: ProblemCollector) -> tuple[Pack | None, list[Path]]:
    if not folder.is_dir():
        collector.add("rules_not_found", "is not a folder of rule files", str(folder), "name a folder that holds *.yaml rule files")
        return None, []
    name, version = folder.name, "unversioned"
    meta = folder / "pack.yaml"
    if meta.exists():
        try:
            data = load_document(meta).data
        except InputError as exc:
            collector.problems.extend(exc.problems)
            data = {}
        if isinstance(data, dict):
            name = str(data.get("name", name))
            version = str(data.get("version", version))
    files = sorted(p for p in folder.glob("*.yaml") if p.name != "pack.yaml")
    if not files:
        collector.add("no_rule_files", "holds no *.yaml rule files", str(folder))
    return Pack(name, version, str(folder)), files


def _rule_specs(document: Document, pack: str, collector: ProblemCollector) -> list[tuple[RuleSpec, str, int, str]]:
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        collector.add("bad_rule_file", "a rule file is a mapping with a `rules:` list", document.locate(()))
        return []
    found = []
    for index, raw in enumerate(data["rules"]):
        path = ("rules", index)
        line = document.line_of((*path, "id")) or document.line_of(path) or 0
        rule_id = raw.get("id", f"rules[{index}]") if isinstance(raw, dict) else f"rules[{index}]"
        if not isinstance(raw, dict):
            collector.add("bad_rule", "a rule is a mapping", f"{document.name}:{line}")
            continue
        try:
            spec = RuleSpec.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = ".".join(str(p) for p in error["loc"])
                where = document.locate((*path, *error["loc"]))
                if error["type"] == "extra_forbidden":
                    close = difflib.get_close_matches(str(error["loc"][-1]), list(RuleSpec.model_fields) + ["as"], n=1)
                    collector.add("unknown_rule_key", f"rule {rule_id}: unknown key {loc!r}", where, f"did you mean {close[0]!r}?" if close else "")
                elif error["type"] == "missing" and loc == "source.quote":
                    collector.add("missing_quote", f"rule {rule_id}: no source quote", where, "quote the article verbatim under source.quote")
                elif error["type"] == "missing":
                    collector.add("missing_rule_key", f"rule {rule_id}: {loc} is missing", where)
                elif loc == "source.quote":
                    collector.add("missing_quote", f"rule {rule_id}: the source quote is empty", where, "quote the article verbatim under source.quote")
                else:
                    collector.add("bad_rule_key", f"rule {rule_id}: {loc}: {error['msg']}", where)
            continue
        found.append((spec, document.name, line, pack))
    return found


def _validate(specs: list[tuple[RuleSpec, str, int, str]], collector: ProblemCollector) -> list[Rule]:
    produced: dict[str, str] = {}
    for spec, *_ in specs:
        if spec.kind == "finding":
            produced[spec.concludes or spec.id] = spec.id
    seen: dict[str, tuple[str, str]] = {}
    rules: list[Rule] = []
    for spec, file, line, pack in specs:
        where = f"{file}:{line}"
        if spec.id in seen:
            first_where, first_pack = seen[spec.id]
            if spec.override and first_pack != pack:
                rules = [r for r in rules if r.id != spec.id]
            else:
                collector.add(
                    "duplicate_rule_id",
                    f"rule {spec.id}: the id is already used at {first_where}",
                    where,
                    "rename one" + ("" if first_pack == pack else ", or mark this one `override: true`"),
                )
                continue
        seen[spec.id] = (where, pack)
        rule = _validate_rule(spec, where, file, line, pack, produced, collector)
        if rule is not None:
            rules.append(rule)
    return rules


def _validate_rule(spec: RuleSpec, where: str, file: str, line: int, pack: str, produced: dict[str, str], collector: ProblemCollector) -> Rule | None:
    before = len(collector.problems)

    def bad(code: str, message: str, hint: str = "") -> None:
        collector.add(code, f"rule {spec.id}: {message}", where, hint)

    aliases: dict[str, str] = {}
    finding_aliases: dict[str, str] = {}
    broken: set[str] = set()  # aliases of an unknown type: reported once, not again in every condition using them
    for alias, type_text in spec.facts.items():
        if not re.match(r"^[a-z_][a-z0-9_]*$", alias):
            bad("bad_alias", f"alias {alias!r} must be lower-case letters, digits and _")
        fact_type, finding = _fact_type(type_text)
        if fact_type is None:
            close = difflib.get_close_matches(type_text, [*BASE_TYPES, "finding:<id>"], n=1)
            bad("unknown_fact_type", f"facts.{alias}: unknown fact type {type_text!r}", f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(BASE_TYPES)} or finding:<id>")
            broken.add(alias)
            continue
        aliases[alias] = fact_type
        if finding is not None:
            finding_aliases[alias] = finding
            if finding not in produced:
                close = difflib.get_close_matches(finding, list(produced), n=1)
                bad("unknown_finding", f"facts.{alias}: no rule concludes the finding {finding!r}", f"did you mean {close[0]!r}?" if close else "write a finding rule for it")
    if spec.subject not in aliases and spec.subject not in broken:
        bad("bad_subject", f"subject {spec.subject!r} is not one of the aliases in facts ({', '.join(aliases)})")
    conditions: list[Condition] = []
    for raw in spec.when:
        try:
            conditions.append(parse_condition(raw))
        except ConditionSyntaxError as exc:
            bad("condition_syntax", str(exc))
    for comparison in iter_comparisons(conditions):
        if not comparison.aliases() & broken:
            _check_comparison(comparison, aliases, bad)
    absences: list[Absence] = []
    for index, block in enumerate(spec.absent):
        fact_type, finding = _fact_type(block.fact)
        alias = block.as_ or (fact_type if finding is None else "absent_finding")
        if fact_type is None:
            bad("unknown_fact_type", f"absent[{index}]: unknown fact type {block.fact!r}")
            continue
        if finding is not None and finding not in produced:
            bad("unknown_finding", f"absent[{index}]: no rule concludes the finding {finding!r}")
        if alias in aliases:
            bad("bad_alias", f"absent[{index}]: alias {alias!r} is already used in facts; give it another with `as:`")
            continue
        parsed: list[Condition] = []
        for raw in block.when:
            try:
                parsed.append(parse_condition(raw))
            except ConditionSyntaxError as exc:
                bad("condition_syntax", f"absent[{index}]: {exc}")
        scope = {**aliases, alias: fact_type}
        for comparison in iter_comparisons(parsed):
            _check_comparison(comparison, scope, bad)
            if alias not in comparison.aliases():
                bad("absent_scope", f"absent[{index}]: {comparison.text!r} does not test the absent fact {alias!r}")
        for condition in parsed:
            if isinstance(condition, AnyOf) and condition.aliases() - {alias}:
                bad("absent_scope", f"absent[{index}]: an any: group inside absent may only test {alias!r}")
        if finding is not None and not any(c.left.field == "subject" or (isinstance(c.right, FieldRef) and c.right.field == "subject") for c in iter_comparisons(parsed)):
            bad("unjoined_finding", f"absent[{index}]: join the finding to what it is about, e.g. '{alias}.subject == flow.key'")
        absences.append(Absence(alias, fact_type, finding, tuple(parsed)))
    for alias, finding in finding_aliases.items():
        if not any(alias in c.aliases() and c.is_join for c in iter_comparisons(conditions)):
            bad("unjoined_finding", f"facts.{alias}: join the finding to what it is about, e.g. '{alias}.subject == flow.key'")
    actors: list[FieldRef] = []
    if spec.kind == "recommendation" and not spec.actors:
        bad("no_actors", "a recommendation names the governments it addresses under actors (e.g. host.code)")
    for text in spec.actors:
        match = re.match(r"^([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)$", text)
        if match and match.group(1) in broken:
            continue
        if not match or match.group(1) not in aliases:
            bad("bad_actor", f"actor {text!r} must be alias.field of a matched fact, e.g. host.code")
            continue
        ref = FieldRef(match.group(1), match.group(2))
        spec_field = FACT_TYPES[aliases[ref.alias]].fields.get(ref.field)
        if spec_field is None or spec_field.kind != "code":
            bad("bad_actor", f"actor {text!r} is not a country-code field")
            continue
        actors.append(ref)
    for alias, name in TEMPLATE_FIELD.findall(spec.justification):
        if alias in broken:
            continue
        if alias not in aliases:
            bad("template_field", f"justification names {{{alias}.{name}}} but {alias!r} is not an alias in facts")
        elif name not in FACT_TYPES[aliases[alias]].fields and name != "name":
            bad("template_field", f"justification names {{{alias}.{name}}} but a {aliases[alias]} has no field {name!r}")
    if not spec.source.quote.strip():
        bad("missing_quote", "the source quote is empty", "quote the article verbatim under source.quote")
    if len(collector.problems) > before:
        return None
    return Rule(
        id=spec.id,
        kind=spec.kind,
        title=spec.title,
        concludes=spec.concludes or spec.id,
        subject=spec.subject,
        aliases=aliases,
        finding_aliases=finding_aliases,
        conditions=tuple(conditions),
        absences=tuple(absences),
        actors=tuple(actors),
        addressees=tuple(spec.addressees),
        justification=spec.justification.strip(),
        section=spec.source.section,
        quote=" ".join(spec.source.quote.split()),
        file=file,
        line=line,
        pack=pack,
    )


def _fact_type(text: str) -> tuple[str | None, str | None]:
    if text.startswith("finding:"):
        finding = text.split(":", 1)[1].strip()
        return (FINDING, finding) if finding else (None, None)
    return (text, None) if text in BASE_TYPES else (None, None)


def _check_comparison(comparison: Comparison, aliases: dict[str, str], bad: Any) -> None:
    refs = [comparison.left] + ([comparison.right] if isinstance(comparison.right, FieldRef) else [])
    specs: list[FieldSpec] = []
    for ref in refs:
        if ref.alias not in aliases:
            bad("unknown_alias", f"{comparison.text!r}: {ref.alias!r} is not an alias in facts ({', '.join(aliases)})")
            return
        fields = FACT_TYPES[aliases[ref.alias]].fields
        if ref.field not in fields:
            close = difflib.get_close_matches(ref.field, list(fields), n=1)
            bad("unknown_field", f"{comparison.text!r}: a {aliases[ref.alias]} has no field {ref.field!r}", f"did you mean {close[0]!r}?" if close else "")
            return
        specs.append(fields[ref.field])
    left = specs[0]
    op = comparison.op
    if op in ("is set", "is not set"):
        return
    if isinstance(comparison.right, FieldRef):
        if op in ("in", "not in", "contains", "not contains"):
            bad("bad_operator", f"{comparison.text!r}: {op!r} compares with literal values, not another fact")
        elif op != "==" and not _pairable(op, left, specs[1]):
            bad(
                "unsupported_join",
                f"{comparison.text!r}: {op!r} between two facts works only on levels"
                + ("" if op in ORDERING_OPS else ", booleans and enumerations")
                + " (durable_rules 2.0.28 crashes on comparison joins, upstream issue #381)",
                "compare each field with a literal value instead",
            )
        return
    if left.kind in ("code",) or left.name in ("key", "pair", "a", "b", "subject"):
        if not (left.name in ("finding", "subject_type")):
            bad("names_a_country", f"{comparison.text!r}: rules must not name a specific country or fact; join with another fact instead (e.g. host.code == flow.destination)")
            return
    values = comparison.right if isinstance(comparison.right, tuple) else (comparison.right,)
    if left.is_list:
        if op not in ("contains", "not contains"):
            bad("bad_operator", f"{comparison.text!r}: {left.name} is a list; use contains / not contains")
            return
    elif op in ("contains", "not contains"):
        bad("bad_operator", f"{comparison.text!r}: {left.name} is not a list; use == or in")
        return
    if op in ORDERING_OPS and left.kind not in ("level", "number"):
        bad("bad_operator", f"{comparison.text!r}: {op!r} needs a level or a number; {left.name} is {left.kind}")
        return
    for value in values:
        problem = value_problem(left, value)
        if problem:
            bad("bad_value", f"{comparison.text!r}: {problem}")


ORDERING_OPS = {">", ">=", "<", "<="}


def _pairable(op: str, left: FieldSpec, right: FieldSpec) -> bool:
    """Whether a non-equality join can be compiled as the pairs of values that satisfy it (few values, same kind)."""
    if op in ORDERING_OPS:
        return left.kind == right.kind == "level"
    return left.kind == right.kind and (left.kind in ("level", "bool") or (left.kind == "enum" and left.values == right.values))


def value_problem(spec: FieldSpec, value: Any) -> str | None:
    """Why value cannot be compared with the field, or None when it can."""
    kind = spec.kind.removeprefix("list[").removesuffix("]")
    if kind == "level":
        if value not in LEVEL_ORDER:
            return f"{value!r} is not a level; levels: {', '.join(LEVEL_ORDER)}"
    elif kind == "enum":
        if value not in spec.values:
            close = difflib.get_close_matches(str(value), list(spec.values), n=1)
            extra = f" (did you mean {close[0]!r}?)" if close else ""
            return f"{value!r} is not a value of {spec.name}{extra}; allowed: {', '.join(spec.values)}"
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"{spec.name} is true or false, not {value!r}"
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{spec.name} is a number, not {value!r}"
    elif kind == "text":
        if not isinstance(value, str):
            return f"{spec.name} is text, not {value!r}"
    return None
