"""Compile validated rules onto durable_rules' JSON rule definitions (its Rete network does the matching).

The engine's traps, and the answer to each here:
- `none()` only sees facts present when the positive fact arrives: every rule with an `absent:` block is
  gated by a *stratum marker* fact that the engine asserts only after everything below that stratum has
  fired (stratified negation), so absences see all base facts and all findings they may depend on.
- `$or` across a join silently matches only its first branch: an `any:` group whose branches read more
  than one alias is expanded into separate durable rules (one per branch combination); an `any:` that
  reads one alias becomes a `$or` inside that alias's pattern.
- A list literal in a condition fails to compile: `in [a, b]` becomes a `$or` of equalities.
- `$iall` is false on an empty list: `not contains` is `count == 0 or all items differ`.
- The core keeps its network in fixed-size tables (a test feeds at most 255 patterns, holds at most 511 further
  tests; a fact can be matched against at most 64 pending tests at once...): `engine_limit_problems` models the
  network (language/network.py) and the compiler refuses a rule set over a limit before durable_rules sees it,
  naming the rules that share the crowded test. It does not split the rule set: findings cross between rules of
  every stratum, and running several durable_rules rulesets as one would be a different engine.
- Any comparison join other than equality (`$gt`, `$neq`... with a reference to another pattern) crashes
  the C engine (upstream issue #381; reproduced here within a few evaluations, `$neq` on the first one):
  levels, booleans and enumerations have few values, so `a.x > b.x` or `a.x != b.x` becomes the
  disjunction of the value pairs that satisfy it, each a pair of literal tests, expanded like any other
  OR across facts. The rule loader refuses such comparisons on other fields.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from nea_policy.errors import Problem, RuleError
from nea_policy.language.conditions import AnyOf, Comparison, Condition, FieldRef, iter_comparisons
from nea_policy.language.network import network_problems
from nea_policy.language.rules import Rule, RuleSet
from nea_policy.model.fact_types import FACT_TYPES, FINDING, count_field
from nea_policy.model.facts import LEVEL_ORDER

STRATUM_TYPE = "stratum"
STRATUM_ALIAS = "stratum__"
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
_DURABLE_OP = {">": "$gt", "<": "$lt", ">=": "$gte", "<=": "$lte", "!=": "$neq"}


@dataclass(frozen=True)
class CompiledRule:
    """One durable_rules rule: which of our rules it implements, and its JSON condition list."""

    name: str
    rule: Rule
    stratum: int
    conditions: list[dict[str, Any]]


@dataclass(frozen=True)
class CompiledRuleSet:
    """The durable_rules definition of a rule set, with the strata the engine steps through."""

    name: str
    rules: tuple[CompiledRule, ...]
    strata: tuple[int, ...]
    consumed_findings: frozenset[str]
    # Per fact type some rule matches (or tests for absence), the fields the rules test, show or name: what the
    # engine must assert of each fact (see FactEncoder).
    fields_read: dict[str, frozenset[str]]

    def definition(self) -> dict[str, Any]:
        """The durable_rules ruleset definition (without actions), as `Host.register_rulesets` takes it."""
        return {self.name: {c.name: {"all": c.conditions} for c in self.rules}}


def compile_ruleset(ruleset: RuleSet, name: str = "nea_policy", *, check_limits: bool = True) -> CompiledRuleSet:
    """Compile every rule; a stratification cycle is a RuleError, and so is a network over durable_rules' limits."""
    strata = _strata(ruleset)
    compiled: list[CompiledRule] = []
    for rule in ruleset.rules:
        for name_, conjunction in expand_rule(rule):
            compiled.append(CompiledRule(name_, rule, strata[rule.id], _patterns(rule, conjunction, strata[rule.id])))
    gated = tuple(sorted({c.stratum for c in compiled if c.rule.absences}))
    consumed = frozenset(f for r in ruleset.rules for f in r.needed_findings() | r.negated_findings())
    result = CompiledRuleSet(name, tuple(compiled), gated, consumed, fields_read(ruleset))
    if check_limits:
        problems = engine_limit_problems(result)
        if problems:
            raise RuleError(problems)
    return result


def fields_read(ruleset: RuleSet) -> dict[str, frozenset[str]]:
    """Per fact type some rule matches or tests for absence, every field a rule tests, shows or names (and `key`)."""
    read: dict[str, set[str]] = {}
    for rule in ruleset.rules:
        scopes = [rule.aliases] + [{**rule.aliases, a.alias: a.fact_type} for a in rule.absences]
        for type_name in rule.aliases.values():
            read.setdefault(type_name, {"key"})
        for absence in rule.absences:
            read.setdefault(absence.fact_type, {"key"})
        for alias, names in rule.fields_used().items():
            read[rule.aliases[alias]].update(names)
        for scope, conditions in zip(scopes, [rule.conditions, *(a.conditions for a in rule.absences)]):
            for comparison in iter_comparisons(conditions):
                for ref in (comparison.left, comparison.right):
                    if isinstance(ref, FieldRef):
                        read[scope[ref.alias]].add(ref.field)
                if comparison.op == "not contains":
                    read[scope[comparison.left.alias]].add(count_field(comparison.left.field))
    return {type_name: frozenset(names) for type_name, names in read.items()}


def expand_rule(rule: Rule) -> list[tuple[str, list[Condition]]]:
    """The durable_rules rules one rule compiles into: each one's name (`id`, `id#2`...) and the conditions it tests.

    An `any:` group that reads several facts is expanded into one compiled rule per branch; what remains of `any:`
    in a compiled rule reads one fact (a `$or` inside its pattern).
    """
    return [(rule.id if index == 0 else f"{rule.id}#{index + 1}", conjunction) for index, conjunction in enumerate(_expand(rule.conditions, rule.aliases))]


def engine_limit_problems(compiled: CompiledRuleSet) -> list[Problem]:
    """Each limit of durable_rules' network the compiled rules go over, at the first rule involved, naming the others."""
    order = {c.name: index for index, c in enumerate(compiled.rules)}
    rules = {c.name: c.rule for c in compiled.rules}
    problems: list[Problem] = []
    for found in network_problems(compiled.definition()[compiled.name]):
        # In the order they were loaded: the last one named is where the rule set went over (an added pack, usually).
        names = sorted((n for n in found.rules if n in rules), key=order.__getitem__)
        involved = list(dict.fromkeys(rules[n].id for n in names))
        named = ", ".join(involved[-5:]) + (f" and {len(involved) - 5} more before them" if len(involved) > 5 else "")
        problems.append(
            Problem(
                "engine_limit",
                f"the rules compile to more than durable_rules can hold: {found.message}" + (f"; rules involved: {named}" if named else ""),
                rules[names[-1]].location if names else "rules",
                "split these rules into packs that are not loaded together, or merge rules that test the same thing",
            )
        )
    return problems


def _strata(ruleset: RuleSet) -> dict[str, int]:
    """Stratum of each rule: above every producer of a finding it negates, at least at every producer it needs."""
    producers: dict[str, list[Rule]] = {}
    for rule in ruleset.rules:
        if rule.kind == "finding":
            producers.setdefault(rule.concludes, []).append(rule)
    level = {rule.id: (1 if rule.absences else 0) for rule in ruleset.rules}
    for _ in range(len(ruleset.rules) + 1):
        changed = False
        for rule in ruleset.rules:
            want = level[rule.id]
            for finding in rule.needed_findings():
                for producer in producers.get(finding, []):
                    want = max(want, level[producer.id])
            for finding in rule.negated_findings():
                for producer in producers.get(finding, []):
                    want = max(want, level[producer.id] + 1)
            if want != level[rule.id]:
                level[rule.id] = want
                changed = True
        if not changed:
            return level
    cyclic = [rule for rule in ruleset.rules if rule.negated_findings()]
    raise RuleError(
        [Problem("negation_cycle", f"rule {r.id}: negates a finding that depends on itself through negation; no order can evaluate it", r.location) for r in cyclic]
    )


def _expand(conditions: tuple[Condition, ...], aliases: dict[str, str]) -> list[list[Condition]]:
    """Disjunctive expansion of any: groups that span aliases; single-alias groups stay whole (they become $or)."""
    options: list[list[list[Condition]]] = []
    for condition in conditions:
        if isinstance(condition, Comparison) and condition.is_join and condition.op != "==":
            condition = _value_pairs(condition, aliases)
        if isinstance(condition, AnyOf) and _spans_aliases(condition):
            branches: list[list[Condition]] = []
            for branch in condition.branches:
                branches.extend(_expand(branch, aliases))
            options.append(branches)
        else:
            options.append([[condition]])
    return [[c for part in combination for c in part] for combination in itertools.product(*options)]


def _value_pairs(comparison: Comparison, aliases: dict[str, str]) -> AnyOf:
    """`a.x > b.x` or `a.x != b.x` on a field with few values, as the OR of the literal value pairs that satisfy it."""
    left, right = comparison.left, comparison.right
    assert isinstance(right, FieldRef)
    spec = FACT_TYPES[aliases[left.alias]].fields[left.field]
    kind = spec.kind
    values: tuple[Any, ...] = LEVEL_ORDER if kind == "level" else (True, False) if kind == "bool" else spec.values
    if not values:
        raise RuleError(f"{comparison.text!r}: {comparison.op!r} between two facts needs a field with few values (a level, boolean or enumeration)", code="unsupported_join")
    holds = {">": int.__gt__, "<": int.__lt__, ">=": int.__ge__, "<=": int.__le__, "!=": int.__ne__}[comparison.op]
    branches = []
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            if holds(i, j):
                branches.append((Comparison(left, "==", a, f"{left} == {a}"), Comparison(right, "==", b, f"{right} == {b}")))
    return AnyOf(tuple(branches))


def _spans_aliases(group: AnyOf) -> bool:
    return len(group.aliases()) > 1 or any(
        isinstance(c, Comparison) and c.is_join for branch in group.branches for c in branch
    ) or any(isinstance(c, AnyOf) and _spans_aliases(c) for branch in group.branches for c in branch)


def _patterns(rule: Rule, conditions: list[Condition], stratum: int) -> list[dict[str, Any]]:
    order = list(rule.aliases)
    tests: dict[str, list[dict[str, Any]]] = {alias: [{"t": rule.aliases[alias]}] for alias in order}
    for alias, finding in rule.finding_aliases.items():
        tests[alias].append({"finding": finding})
    for condition in conditions:
        owner = _owner(condition, order)
        tests[owner].append(_test(condition, owner, rule.aliases))
    patterns: list[dict[str, Any]] = [{alias: _conjoin(tests[alias])} for alias in order]
    if rule.absences:
        patterns.append({STRATUM_ALIAS: {"$and": [{"t": STRATUM_TYPE}, {"level": stratum}]}})
    for absence in rule.absences:
        scope = {**rule.aliases, absence.alias: absence.fact_type}
        absent_tests: list[dict[str, Any]] = [{"t": absence.fact_type}]
        if absence.finding:
            absent_tests.append({"finding": absence.finding})
        for condition in absence.conditions:
            absent_tests.append(_test(condition, absence.alias, scope))
        patterns.append({f"{absence.alias}$not": _conjoin(absent_tests)})
    return patterns


def _conjoin(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$and": tests}


def _owner(condition: Condition, order: list[str]) -> str:
    """The pattern a condition belongs to: the latest alias it reads (joins refer back to earlier patterns)."""
    return max(condition.aliases(), key=order.index)


def _test(condition: Condition, owner: str, aliases: dict[str, str]) -> dict[str, Any]:
    if isinstance(condition, AnyOf):
        return {"$or": [_conjoin([_test(c, owner, aliases) for c in branch]) for branch in condition.branches]}
    left, op, right = condition.left, condition.op, condition.right
    if isinstance(right, FieldRef):
        if left.alias != owner:
            left, right, op = right, left, _FLIP[op]
        if right.alias == owner:
            raise RuleError(f"{condition.text!r}: compare a field with another fact's field, not its own", code="self_join")
        reference = {right.alias: right.field}
        return {left.field: reference} if op == "==" else {_DURABLE_OP[op]: {left.field: reference}}
    spec = FACT_TYPES[aliases[left.alias]].fields[left.field]
    field = left.field
    if op == "is set":
        return {"$ex": {field: 1}}
    if op == "is not set":
        return {"$nex": {field: 1}}
    if op == "contains":
        return {"$iany": {field: {"$i": _encode(spec.kind, right)}}}
    if op == "not contains":
        return {"$or": [{count_field(field): 0}, {"$iall": {field: {"$neq": {"$i": _encode(spec.kind, right)}}}}]}
    if op == "in":
        return _conjoin_or([{field: _encode(spec.kind, v)} for v in right])  # type: ignore[union-attr]
    if op == "not in":
        return _conjoin([{"$neq": {field: _encode(spec.kind, v)}} for v in right])  # type: ignore[union-attr]
    if op == "==":
        return {field: _encode(spec.kind, right)}
    return {_DURABLE_OP[op]: {field: _encode(spec.kind, right)}}


def _conjoin_or(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return tests[0] if len(tests) == 1 else {"$or": tests}


def _encode(kind: str, value: Any) -> Any:
    if kind.removeprefix("list[").removesuffix("]") == "level":
        return LEVEL_ORDER.index(value)
    return value


__all__ = ["CompiledRule", "CompiledRuleSet", "compile_ruleset", "engine_limit_problems", "expand_rule", "FINDING", "fields_read"]
