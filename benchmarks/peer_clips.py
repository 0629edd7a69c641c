"""The bundled rules as CLIPS (via clipspy): readable CLIPS generated from the rule objects, and a runner for it.

The CLIPS text mirrors the engine's encoded facts (`nea_policy.model.fact_types.encode_scenario`): one deftemplate
per fact type with a slot per encoded field (levels as ranks 0..4, booleans TRUE/FALSE, enumerations as symbols,
text and codes as strings, lists as multislots; a field the fact file leaves out is `nil`). Each rule is one defrule:
- a join `origin.code == flow.origin` is a shared variable (`(flow (origin ?flow.origin))`, `(country (code ?flow.origin))`);
- a literal test is a slot constraint (`flow.abuse >= moderate` is `(abuse 2|3|4)`; numbers and lists use predicates);
- an `any:` group over one fact becomes an `or` of that fact's pattern, one copy per branch; an `any:` group over
  several facts an `or` of patterns that match those facts again by their key;
- an `absent:` block is `not` (one `not` per disjunct when it holds an `any:`);
- a finding or recommendation is asserted as a fact (CLIPS keeps one copy of duplicates);
- stratified negation by salience: a rule of stratum s has salience -10·s, so it fires only once no rule of a lower
  stratum is activated, i.e. once every finding it may negate has been derived (CLIPS's `not` then sees them all).

`python benchmarks/peers.py --dump-clips` prints the generated program.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clips
from clips._clips import lib

from nea_policy.language.conditions import AnyOf, Comparison, Condition, FieldRef, iter_comparisons
from nea_policy.language.rules import Rule, RuleSet
from nea_policy.model.fact_types import BASE_TYPES, FACT_TYPES, FINDING, FieldSpec
from nea_policy.model.facts import LEVEL_ORDER, Agreement, Country, Flow, Region, Relation

# (kind, conclusion id, subject type, subject key): what every peer and the Engine are compared on.
Result = tuple[str, str, str, str]


def _release_fact(self: Any) -> None:
    try:
        lib.ReleaseFact(self._fact)
    except (AttributeError, TypeError):
        pass  # at interpreter shutdown, as clipspy's own __del__


# clipspy 1.0.6's Fact.__del__ calls lib.ReleaseFact(env, fact), but CLIPS 6.4's ReleaseFact takes the fact only:
# the TypeError is swallowed, every fact Python ever touched stays retained (memory grows, reset gets slower).
clips.facts.Fact.__del__ = _release_fact

_MODELS = {"country": Country, "region": Region, "relation": Relation, "agreement": Agreement, "flow": Flow}
_ALWAYS_SET_DERIVED = {"key", "pair", "a", "b", "finding", "subject", "subject_type"}
_INVERSE = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
_ORDER = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
_CLIPS_OP = {">": ">", "<": "<", ">=": ">=", "<=": "<=", "==": "=", "!=": "<>"}


class Unsupported(ValueError):
    """A rule uses a construct this generator does not translate (the message says which)."""


def always_set(type_name: str, name: str) -> bool:
    """Whether every encoded fact of this type has the field (required fields, keys, lists: they default to [])."""
    spec = FACT_TYPES[type_name].fields[name]
    if name in _ALWAYS_SET_DERIVED or spec.is_list:
        return True
    model = _MODELS.get(type_name)
    return model is not None and name in model.model_fields and model.model_fields[name].is_required()


# --- values -------------------------------------------------------------------------------------------------


def clips_string(text: str) -> str:
    """A CLIPS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _atom(kind: str, value: Any) -> str:
    """One encoded value as CLIPS text, by the field's kind (list kinds: one element)."""
    kind = kind.removeprefix("list[").removesuffix("]")
    if kind == "symbol":
        return str(value)
    if kind == "bool":
        return "TRUE" if value else "FALSE"
    if kind == "level":
        return str(LEVEL_ORDER.index(value) if isinstance(value, str) else value)
    if kind == "number":
        return repr(value)
    if kind == "enum":
        return str(value)
    return clips_string(str(value))


def _finite_values(spec: FieldSpec) -> tuple[Any, ...] | None:
    """The values a field can hold, in rule terms, when there are few (levels, booleans, enumerations)."""
    if spec.kind == "level":
        return LEVEL_ORDER
    if spec.kind == "bool":
        return (True, False)
    if spec.kind == "enum":
        return spec.values
    return None


# --- rule translation -----------------------------------------------------------------------------------------


@dataclass
class _Slot:
    """The constraint on one slot of a pattern: an optional variable, an optional set of allowed values, conjuncts."""

    variable: str | None = None
    allowed: list[str] | None = None
    conjuncts: list[str] = field(default_factory=list)
    multi: bool = False

    def render(self, name: str) -> str:
        conjuncts, allowed, variable = list(self.conjuncts), self.allowed, self.variable
        if allowed is not None and "nil" not in allowed:
            conjuncts = [c for c in conjuncts if c != "~nil"]  # implied by the allowed values
        if allowed is not None and (conjuncts or not allowed) and variable is None:
            variable = f"?{name}-value"
        parts = [("$" if self.multi else "") + variable] if variable else []
        parts.extend(conjuncts)
        if allowed is not None:
            if not allowed:
                parts.append(":(eq 0 1)")  # a test that can never hold (e.g. `> severe`)
            elif conjuncts:
                parts.append(f":(member$ {variable} (create$ {' '.join(allowed)}))")
            else:
                parts.append("|".join(allowed))
        return f"({name} {'&'.join(parts)})"


class _Pattern:
    """One fact pattern under construction: its template and slot constraints."""

    def __init__(self, type_name: str) -> None:
        self.type = type_name
        self.slots: dict[str, _Slot] = {}

    def slot(self, name: str) -> _Slot:
        spec = FACT_TYPES[self.type].fields[name]
        return self.slots.setdefault(name, _Slot(multi=spec.is_list))

    def copy(self) -> _Pattern:
        other = _Pattern(self.type)
        other.slots = {n: _Slot(s.variable, None if s.allowed is None else list(s.allowed), list(s.conjuncts), s.multi) for n, s in self.slots.items()}
        return other

    def render(self) -> str:
        # The key (a finding: its id) first, then the slots that join (bind or use a variable), then the literal tests; each group in
        # the template's order, whatever order the conditions came in.
        order = list(FACT_TYPES[self.type].fields)

        def rank(item: tuple[str, _Slot]) -> tuple[int, int]:
            name, slot = item
            joins = slot.variable is not None or any(c.startswith("?") for c in slot.conjuncts)
            return (0 if name in ("key", "finding") else 1 if joins else 2, order.index(name))

        slots = sorted(((n, s) for n, s in self.slots.items() if s.variable or s.allowed is not None or s.conjuncts), key=rank)
        return f"({self.type} " + " ".join(s.render(n) for n, s in slots) + ")" if slots else f"({self.type})"


class _RuleTranslator:
    """Translates one rule into a defrule."""

    def __init__(self, rule: Rule, stratum: int) -> None:
        self.rule = rule
        self.stratum = stratum
        self.order = list(rule.aliases)
        self.types = dict(rule.aliases)
        # Joins at the top level of `when` make equality classes of fields; each class is one CLIPS variable.
        self.classes: dict[tuple[str, str], str] = {}
        self._top_joins()

    # variables

    def _name(self, ref: tuple[str, str]) -> str:
        alias, name = ref
        return f"?{alias}" if name == "key" else f"?{alias}.{name}"

    def _top_joins(self) -> None:
        parent: dict[tuple[str, str], tuple[str, str]] = {}

        def find(ref: tuple[str, str]) -> tuple[str, str]:
            while parent.get(ref, ref) != ref:
                ref = parent[ref]
            return ref

        for condition in self.rule.conditions:
            if isinstance(condition, Comparison) and condition.is_join and condition.op == "==":
                a, b = (condition.left.alias, condition.left.field), (condition.right.alias, condition.right.field)  # type: ignore[union-attr]
                parent.setdefault(a, a)
                parent.setdefault(b, b)
                ra, rb = find(a), find(b)
                if ra != rb:
                    first, second = sorted((ra, rb), key=lambda r: self.order.index(r[0]))
                    parent[second] = first
        for ref in parent:
            self.classes[ref] = self._name(find(ref))
        # The binding occurrence of a class whose fields may all be missing must not bind nil (nil == nil).
        self.guarded = {root for root in {find(r) for r in parent} if not any(always_set(self.types[a], f) for a, f in parent if find((a, f)) == root)}
        self.roots = {ref: find(ref) for ref in parent}

    def variable(self, alias: str, name: str) -> str:
        """The variable that holds alias.field (bound in the alias's top-level pattern)."""
        return self.classes.get((alias, name)) or self._name((alias, name))

    # patterns

    def base_pattern(self, alias: str, exported: set[tuple[str, str]]) -> _Pattern:
        pattern = _Pattern(self.types[alias])
        finding = self.rule.finding_aliases.get(alias)
        if finding is not None:
            pattern.slot("finding").allowed = [finding]
        for (a, name), var in self.classes.items():
            if a == alias:
                slot = pattern.slot(name)
                slot.variable = var
                if self.roots[(a, name)] == (a, name) and self.roots[(a, name)] in self.guarded:
                    slot.conjuncts.append("~nil")
        for a, name in sorted(exported, key=lambda r: r[1]):
            if a == alias and (a, name) not in self.classes:
                pattern.slot(name).variable = self.variable(a, name)
        return pattern

    def constrain(self, pattern: _Pattern, alias: str, comparison: Comparison) -> None:
        """Add one comparison that `alias` owns to its pattern."""
        left, op, right = comparison.left, comparison.op, comparison.right
        if isinstance(right, FieldRef):
            if left.alias != alias:
                left, right, op = right, left, _INVERSE[op]
            self._join(pattern, alias, left.field, op, right)
            return
        spec = FACT_TYPES[pattern.type].fields[left.field]
        slot = pattern.slot(left.field)
        if pattern.type == FINDING and left.field in ("finding", "subject_type"):
            # Symbols (the rules' right-hand sides assert them so), compared like an enumeration's values.
            spec = FieldSpec(left.field, "symbol")
        if op == "is set":
            if not spec.is_list:
                slot.conjuncts.append("~nil")
            return
        if op == "is not set":
            if spec.is_list:
                slot.allowed = []
            else:
                slot.allowed = self._intersect(slot.allowed, ["nil"])
            return
        if spec.is_list:
            var = slot.variable or self.variable(alias, left.field)
            slot.variable = var
            test = f"(member$ {_atom(spec.kind, right)} ${var})"
            slot.conjuncts.append(f":{test}" if op == "contains" else f":(not {test})")
            return
        values = right if isinstance(right, tuple) else (right,)
        finite = _finite_values(spec)
        if finite is not None:
            holds = [v for v in finite if self._holds(spec, v, op, values)]
            slot.allowed = self._intersect(slot.allowed, [_atom(spec.kind, v) for v in holds])
            return
        if spec.kind == "number":
            var = slot.variable or self.variable(alias, left.field)
            slot.variable = var
            slot.conjuncts.append(f":(numberp {var})")
            if op in ("in", "not in"):
                test = "(or " + " ".join(f"(= {var} {_atom('number', v)})" for v in values) + ")"
                slot.conjuncts.append(f":{test}" if op == "in" else f":(not {test})")
            else:
                slot.conjuncts.append(f":({_CLIPS_OP[op]} {var} {_atom('number', values[0])})")
            return
        if op in ("==", "in"):
            slot.allowed = self._intersect(slot.allowed, [_atom(spec.kind, v) for v in values])
        elif op in ("!=", "not in"):
            slot.conjuncts.extend(["~nil", *(f"~{_atom(spec.kind, v)}" for v in values)])
        else:
            raise Unsupported(f"rule {self.rule.id}: {comparison.text!r}: {op} on a {spec.kind} field")

    @staticmethod
    def _intersect(current: list[str] | None, values: list[str]) -> list[str]:
        return values if current is None else [v for v in current if v in values]

    @staticmethod
    def _holds(spec: FieldSpec, value: Any, op: str, literals: tuple[Any, ...]) -> bool:
        if op == "in":
            return value in literals
        if op == "not in":
            return value not in literals
        if spec.kind == "level":
            return _ORDER[op](LEVEL_ORDER.index(value), LEVEL_ORDER.index(literals[0]))
        if op in ("==", "!="):
            return _ORDER[op](value, literals[0])
        raise Unsupported(f"{op} on a {spec.kind} field")

    def _join(self, pattern: _Pattern, alias: str, name: str, op: str, other: FieldRef) -> None:
        """A join this pattern owns, to a field of an earlier fact (bound in that fact's top-level pattern)."""
        slot = pattern.slot(name)
        other_var = self.variable(other.alias, other.field)
        other_optional = not always_set(self.types[other.alias], other.field)
        if op == "==":
            if slot.variable is not None and slot.variable == other_var:
                return
            slot.conjuncts.append(other_var)
            if other_optional:
                slot.conjuncts.append("~nil")
            return
        spec = FACT_TYPES[pattern.type].fields[name]
        if spec.kind == "level" and op in _CLIPS_OP:
            var = slot.variable or self.variable(alias, name)
            slot.variable = var
            slot.conjuncts.append(f":(and (integerp {var}) (integerp {other_var}) ({_CLIPS_OP[op]} {var} {other_var}))")
        elif op == "!=":
            slot.conjuncts.extend(["~nil", f"~{other_var}"] if not other_optional else ["~nil", f"~{other_var}", f":(neq {other_var} nil)"])
        else:
            raise Unsupported(f"rule {self.rule.id}: {op} join on a {spec.kind} field")

    # the rule

    def translate(self) -> str:
        rule = self.rule
        owned: dict[str, list[Condition]] = {alias: [] for alias in self.order}
        spanning: list[AnyOf] = []
        for condition in rule.conditions:
            if isinstance(condition, Comparison) and condition.is_join and condition.op == "==":
                continue  # an equality class: the shared variable already expresses it
            aliases = condition.aliases()
            if isinstance(condition, AnyOf) and (len(aliases) > 1 or _has_join(condition)):
                spanning.append(condition)
            else:
                owned[max(aliases, key=self.order.index)].append(condition)
        exported = self._exported(spanning)
        lines = [f"(defrule {rule.id}"]
        lines.append(f'   "{rule.kind} ({Path(rule.file).name}:{rule.line}): {rule.title.replace(chr(34), chr(39))}"')
        if self.stratum:
            lines.append(f"   (declare (salience {-10 * self.stratum}))")
        for alias in self.order:
            lines.extend(self._alias_patterns(alias, owned[alias], exported))
        for group in spanning:
            lines.append("   " + self._spanning(group))
        for absence in rule.absences:
            lines.extend("   " + line for line in self._absent(absence))
        lines.append("   =>")
        lines.append("   " + self._conclusion() + ")")
        return "\n".join(lines)

    def _exported(self, spanning: list[AnyOf]) -> set[tuple[str, str]]:
        """Fields that later constructs read by variable: re-matched keys, join targets, the subject."""
        needed: set[tuple[str, str]] = set()
        for group in spanning:
            for alias in group.aliases():
                needed.update((alias, name) for name in self._identity_fields(alias))
            for comparison in _comparisons(group):
                if comparison.is_join:  # the earlier side is read by variable from its top-level pattern
                    refs = [comparison.left, comparison.right]
                    needed.add(min(((r.alias, r.field) for r in refs), key=lambda r: self.order.index(r[0])))  # type: ignore[union-attr]
        for absence in self.rule.absences:
            for comparison in _comparisons(absence.conditions):
                for ref in (comparison.left, comparison.right):
                    if isinstance(ref, FieldRef) and ref.alias != absence.alias:
                        needed.add((ref.alias, ref.field))
        for comparison in _comparisons(self.rule.conditions):
            if comparison.is_join and comparison.op != "==":
                for ref in (comparison.left, comparison.right):
                    needed.add((ref.alias, ref.field))  # type: ignore[union-attr]
        subject = self.rule.subject
        needed.update((subject, name) for name in self._identity_fields(subject))
        return needed

    def _identity_fields(self, alias: str) -> tuple[str, ...]:
        return ("subject", "subject_type") if self.types[alias] == FINDING else ("key",)

    def _alias_patterns(self, alias: str, conditions: list[Condition], exported: set[tuple[str, str]]) -> list[str]:
        base = self.base_pattern(alias, exported)
        conjunctions = _dnf(conditions)
        patterns = []
        for conjunction in conjunctions:
            pattern = base.copy()
            for comparison in conjunction:
                self.constrain(pattern, alias, comparison)
            patterns.append(pattern.render())
        if len(patterns) == 1:
            return ["   " + patterns[0]]
        return ["   (or " + patterns[0], *("       " + p for p in patterns[1:-1]), "       " + patterns[-1] + ")"]

    def _rematch(self, alias: str) -> _Pattern:
        """A pattern for a fact already matched at the top level, found again by its identity."""
        pattern = _Pattern(self.types[alias])
        if self.types[alias] == FINDING:
            pattern.slot("finding").allowed = [self.rule.finding_aliases[alias]]
        for name in self._identity_fields(alias):
            pattern.slot(name).variable = self.variable(alias, name)
        return pattern

    def _spanning(self, group: AnyOf) -> str:
        branches = []
        for branch in group.branches:
            for conjunction in _dnf(list(branch)):
                by_alias: dict[str, _Pattern] = {}
                for comparison in conjunction:
                    owner = max(comparison.aliases(), key=self.order.index)
                    if owner not in by_alias:
                        by_alias[owner] = self._rematch(owner)
                    self.constrain(by_alias[owner], owner, comparison)
                rendered = [by_alias[a].render() for a in self.order if a in by_alias]
                branches.append(rendered[0] if len(rendered) == 1 else "(and " + " ".join(rendered) + ")")
        return "(or " + "\n       ".join(branches) + ")"

    def _absent(self, absence: Any) -> list[str]:
        lines = []
        for conjunction in _dnf(list(absence.conditions)):
            pattern = _Pattern(absence.fact_type)
            if absence.finding:
                pattern.slot("finding").allowed = [absence.finding]
            for comparison in conjunction:
                self.constrain(pattern, absence.alias, comparison)
            lines.append(f"(not {pattern.render()})")
        return lines

    def _conclusion(self) -> str:
        rule = self.rule
        subject = rule.subject
        if self.types[subject] == FINDING:
            key, type_ = self.variable(subject, "subject"), self.variable(subject, "subject_type")
        else:
            key, type_ = self.variable(subject, "key"), self.types[subject]
        if rule.kind == "finding":
            return f"(assert (finding (finding {rule.concludes}) (subject {key}) (subject_type {type_})))"
        return f"(assert (recommendation (rule {rule.concludes}) (subject {key}) (subject_type {type_})))"


def _comparisons(conditions: Iterable[Condition] | AnyOf) -> list[Comparison]:
    return iter_comparisons([conditions] if isinstance(conditions, AnyOf) else list(conditions))


def _has_join(group: AnyOf) -> bool:
    return any(c.is_join for c in _comparisons(group))


def _dnf(conditions: list[Condition]) -> list[list[Comparison]]:
    """The conditions as a disjunction of conjunctions of comparisons (any: groups multiplied out)."""
    options: list[list[list[Comparison]]] = []
    for condition in conditions:
        if isinstance(condition, Comparison):
            options.append([[condition]])
        else:
            options.append([c for branch in condition.branches for c in _dnf(list(branch))])
    return [[c for part in combination for c in part] for combination in itertools.product(*options)]


def strata(ruleset: RuleSet) -> dict[str, int]:
    """Stratum of each rule: at least that of every producer of a finding it needs, above every one it negates."""
    producers: dict[str, list[Rule]] = {}
    for rule in ruleset.rules:
        if rule.kind == "finding":
            producers.setdefault(rule.concludes, []).append(rule)
    level = {rule.id: 0 for rule in ruleset.rules}
    for _ in range(len(ruleset.rules) + 1):
        changed = False
        for rule in ruleset.rules:
            want = max(
                [level[rule.id]] + [level[p.id] for f in rule.needed_findings() for p in producers.get(f, [])] + [level[p.id] + 1 for f in rule.negated_findings() for p in producers.get(f, [])]
            )
            if want != level[rule.id]:
                level[rule.id], changed = want, True
        if not changed:
            return level
    raise Unsupported("the rules negate a finding that depends on itself")


# --- the program ----------------------------------------------------------------------------------------------


def _kind_comment(spec: FieldSpec) -> str:
    kind = spec.kind
    if kind == "level":
        return "level rank: 0 none .. 4 severe"
    if kind == "bool":
        return "TRUE or FALSE"
    if kind.startswith("list["):
        inner = kind[5:-1]
        return f"list of {inner}" + (f": {', '.join(spec.values)}" if spec.values and inner == "enum" else "")
    if kind == "enum":
        return ", ".join(spec.values)
    if spec.name in ("finding", "subject_type"):
        return "symbol: " + spec.description
    return {"number": "number", "code": "country code (string)"}.get(kind, "string")


def template_source(type_name: str) -> str:
    """The deftemplate of one fact type: a slot per encoded field, each with a comment on what it holds."""
    fact_type = FACT_TYPES[type_name]
    specs = list(fact_type.fields.values())
    declarations = [f"({'multislot' if s.is_list else 'slot'} {s.name})" for s in specs]
    declarations[-1] += ")"
    width = max(len(d) for d in declarations)
    lines = [f'(deftemplate {type_name} "{fact_type.description.replace(chr(34), chr(39))}"']
    for spec, declaration in zip(specs, declarations):
        comment = _kind_comment(spec) + ("" if always_set(type_name, spec.name) else "; nil: not given")
        lines.append(f"   {declaration:<{width}}  ; {comment}")
    return "\n".join(lines)


RECOMMENDATION_TEMPLATE = """(deftemplate recommendation "a recommendation that applies, about one subject"
   (slot rule)           ; id of the recommendation
   (slot subject)        ; key of what it is about
   (slot subject_type))  ; flow, country, region or relation"""


def clips_program(ruleset: RuleSet) -> str:
    """The whole CLIPS program for a rule set: the fact templates, then one defrule per rule."""
    levels = strata(ruleset)
    parts = [
        ";;; nea-policy's rules for CLIPS 6.4, generated by benchmarks/peer_clips.py from the rule files.",
        ";;; Facts mirror the engine's encoded facts; findings and recommendations are asserted as facts.",
        ";;; Stratified negation by salience: a rule of stratum s has salience -10*s.",
        "",
    ]
    parts += [template_source(t) + "\n" for t in (*BASE_TYPES, FINDING)]
    parts += [RECOMMENDATION_TEMPLATE + "\n"]
    parts += [_RuleTranslator(rule, levels[rule.id]).translate() + "\n" for rule in ruleset.rules]
    return "\n".join(parts)


def _split_constructs(program: str) -> list[str]:
    """Top-level constructs of a CLIPS program (comments dropped), for Environment.build one at a time."""
    constructs, depth, current, in_string = [], 0, [], False
    for line in program.splitlines():
        if depth == 0 and (not line.strip() or line.lstrip().startswith(";")):
            continue
        code = line
        i = 0
        while i < len(code):
            ch = code[i]
            if in_string:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == ";":
                code = code[:i]
                break
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            i += 1
        current.append(code)
        if depth == 0:
            constructs.append("\n".join(current))
            current = []
    return constructs


# --- running it --------------------------------------------------------------------------------------------------


class ClipsPeer:
    """One CLIPS environment holding the program; `run` evaluates one set of encoded facts."""

    def __init__(self, ruleset: RuleSet, *, strategy: str | None = None) -> None:
        self.program = clips_program(ruleset)
        self.env = clips.Environment()
        for construct in _split_constructs(self.program):
            self.env.build(construct)
        if strategy is not None:
            # The default is depth; `random` shows the result does not hang on the order of equal-salience firings.
            self.env.eval(f"(set-strategy {strategy})")
        self._templates = {t: self.env.find_template(t) for t in (*BASE_TYPES, FINDING)}
        self._converters = {t: _slot_converters(t) for t in (*BASE_TYPES, FINDING)}
        self._findings = self._templates[FINDING]
        self._recommendations = self.env.find_template("recommendation")

    def assert_facts(self, facts: list[dict[str, Any]]) -> None:
        """Assert encoded facts through clipspy's fact builder (parsing fact text, load_facts, was 4-8x slower)."""
        templates, converters = self._templates, self._converters
        for fact in facts:
            convert = converters[fact["t"]]
            slots = {}
            for name, value in fact.items():
                to_clips = convert.get(name)
                if to_clips is not None and value is not None:  # not id, t, sid, the list length companions
                    slots[name] = to_clips(value)
            templates[fact["t"]].assert_fact(**slots)

    def read_results(self) -> set[Result]:
        """The finding and recommendation facts now in working memory, as (kind, id, subject type, key)."""
        results: set[Result] = set()
        for fact in self._findings.facts():
            results.add(("finding", fact["finding"], fact["subject_type"], fact["subject"]))
        for fact in self._recommendations.facts():
            results.add(("recommendation", fact["rule"], fact["subject_type"], fact["subject"]))
        return results

    def run(self, facts: list[dict[str, Any]]) -> set[Result]:
        """Assert the facts, run to the end, read the conclusions, reset; the (kind, id, subject type, key) set."""
        self.assert_facts(facts)
        self.env.run()
        results = self.read_results()
        # reset retracts every fact (base facts, findings, recommendations) and empties the agenda in one call; it
        # measured as fast as (retract *) here (0.014 vs 0.027 ms on the region example, 16 ms both at N=200).
        self.env.reset()
        return results


_SYMBOLS = {True: clips.Symbol("TRUE"), False: clips.Symbol("FALSE")}


def _slot_converters(type_name: str) -> dict[str, Any]:
    """Per encoded field of a fact type, the function that turns its value into the slot's CLIPS value."""
    out: dict[str, Any] = {}
    for name, spec in FACT_TYPES[type_name].fields.items():
        kind = spec.kind.removeprefix("list[").removesuffix("]")
        one: Any
        if kind == "bool":
            one = _SYMBOLS.__getitem__
        elif kind == "enum":
            one = clips.Symbol
        elif kind in ("level", "number"):
            one = None  # ranks and numbers go as they are
        else:
            one = str
        if spec.is_list:
            out[name] = list if one is None else (lambda values, one=one: [one(v) for v in values])
        else:
            out[name] = (lambda value: value) if one is None else one
    return out
