"""What durable_rules' C core builds from a compiled rule set, and the fixed limits of that network.

durable_rules 2.0.28 keeps its Rete network in fixed-size tables and fails, or worse, when one overflows. Read in
vendor/durable_rules/src/rules (rete.c, events.c) and measured on the vendored core (tests/test_network.py checks
each limit both ways; benchmarks/network_limits.py bisects packs of four shapes):

- an alpha node (one test of a pattern, e.g. `flow.abuse >= high`) links at most 255 beta nodes (patterns ending
  there). BETA_LIST_LENGTH is 256, but the list is read until a zero entry: full, it is read past its end. 257 make
  `create_ruleset` fail with error 108 (the "about 280 rules" of issue 15: packs whose rules end at one shared
  test); 256 ran alone and crashed with SIGSEGV in a process that had created another ruleset before.
- an alpha node's hash table of further tests holds 512 (NEXT_BUCKET_LENGTH) and is probed until an empty slot: with
  512 every lookup loops for ever (asserting any fact hung), so at most 511.
- an alpha node's list of `$nex` tests and `$or` junctions holds 128 (NEXT_LIST_LENGTH; error 107 past it, read
  until a zero entry like the beta list): at most 127.
- a pattern's beta node holds at most 31 expressions ($and / $or markers and joins; error 113 at the 32nd).
- asserting a fact walks the alpha network with a stack of 64 nodes (MAX_STACK_SIZE; error 303 when a 65th is
  pushed). A join (`host.code == flow.destination`) is stored afresh and never shared, and it is pushed for every
  fact of its type, so each rule that joins a country adds one for every country fact; an `any:` junction is
  pushed whenever its branch matches.

Added to the 26 bundled rules, the core runs (and the model accepts) up to: 255 rules ending at one shared test,
44 rules each joining the host country, 43 rules each with an `any:` group on the same two fields, 489 rules each
testing a field against a value of its own; one more fails in the core, and the model refuses it.

The model below mirrors the C code (createAlpha / findAlpha / linkAlpha, handleAlpha): which tests are shared (same
field, operator and literal; never joins, `$or` junctions or array tests), where each is linked, and the deepest the
assert stack can get for any fact: each node's worst case (every field at the value that matches the most tests)
with the deepest subtree walked first. For the shapes measured that bound is exact, reached by the example with every
level at severe and every flag true.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

#: The core's table sizes (vendor/durable_rules/src/rules/rules.h, events.c) and what is safe to use of each.
MAX_BETAS = 255
MAX_CHILDREN = 511
MAX_NEXT_LIST = 127
MAX_EXPRESSIONS = 31
MAX_STACK = 64

_OPERATORS = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte", "$neq": "neq", "$ex": "ex", "$nex": "nex", "$iany": "iany", "$iall": "iall", "$mt": "mt", "$imt": "imt"}
_COUNTER = itertools.count()


@dataclass(eq=False)
class Alpha:
    """One alpha node: the test it makes and what is linked to it, as durable_rules links them."""

    field: str
    op: str
    value: Any = None
    kind: str = "value"  # value, join (never shared), nex, forward ($or junction), array ($iany / $iall), root
    children: dict[Any, Alpha] = field(default_factory=dict)  # the hash table of further tests
    next_list: list[Alpha] = field(default_factory=list)  # $nex tests and $or junctions
    array_children: list[Alpha] = field(default_factory=list)
    betas: list[str] = field(default_factory=list)  # the compiled rules whose patterns end here

    def describe(self) -> str:
        """The test as a reader would write it."""
        if self.kind == "root":
            return "(any fact)"
        if self.kind == "forward":
            return "(the junction of an any: group)"
        value = json.dumps(self.value) if self.kind != "join" else f"another fact's {self.value}"
        if self.kind == "array":
            return f"{self.field} ({'contains' if self.op == 'iany' else 'all items'} ...)"
        symbol = {"eq": "==", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}.get(self.op, self.op)
        return {"ex": f"{self.field} is set", "nex": f"{self.field} is not set"}.get(self.op, f"{self.field} {symbol} {value}")


@dataclass
class Network:
    """The alpha network of a compiled rule set, with the expressions each compiled rule's patterns hold."""

    root: Alpha
    expressions: dict[tuple[str, int], int]  # (compiled rule, pattern index) -> expressions of its beta node
    rules_of: dict[int, set[str]]  # id(alpha) -> compiled rules whose patterns pass through it


def build_network(definition: dict[str, Any]) -> Network:
    """The network durable_rules builds from a ruleset definition ({rule name: {"all": [patterns]}})."""
    root = Alpha("", "root", kind="root")
    network = Network(root, {}, {})
    for rule_name, rule in definition.items():
        for index, pattern in enumerate(rule.get("all", [])):
            ((_, test),) = pattern.items()
            counter = [0]
            end = _alpha(network, rule_name, root, test, counter, in_array=False)
            end.betas.append(rule_name)
            network.expressions[(rule_name, index)] = counter[0]
    return network


def _child(network: Network, rule: str, parent: Alpha, node: Alpha, key: Any, in_array: bool) -> Alpha:
    if in_array:
        parent.array_children.append(node)
        found = node
    elif node.op == "nex":
        found = next((n for n in parent.next_list if n.kind == "nex" and (n.field, n.value) == (node.field, node.value)), None) or node
        if found is node:
            parent.next_list.append(node)
    else:
        found = parent.children.setdefault(key, node)
    network.rules_of.setdefault(id(found), set()).add(rule)
    return found


def _alpha(network: Network, rule: str, parent: Alpha, test: dict[str, Any], counter: list[int], *, in_array: bool) -> Alpha:
    """createAlpha: the node a test ends at (its chain built under parent)."""
    ((name, value),) = test.items()
    if name == "$and":
        counter[0] += 2  # the $and marker and its end
        current = parent
        for item in value:
            current = _alpha(network, rule, current, item, counter, in_array=in_array)
            in_array = False
        return current
    if name == "$or":
        counter[0] += 2
        junction = Alpha("$forward", "nex", next(_COUNTER), kind="forward")
        network.rules_of.setdefault(id(junction), set()).add(rule)
        for branch in value:
            end = _alpha(network, rule, parent, branch, counter, in_array=in_array)
            end.next_list.append(junction)
        return junction
    op = _OPERATORS.get(name, "eq")
    if op != "eq":
        ((name, value),) = value.items()
    if op in ("iany", "iall"):
        node = _child(network, rule, parent, Alpha(name, op, next(_COUNTER), kind="array"), ("array", next(_COUNTER)), in_array)
        _alpha(network, rule, node, value, counter, in_array=True)
        return node
    if isinstance(value, dict):
        # A reference to another pattern's field (a join), or an expression: stored afresh, never shared.
        counter[0] += 1
        ((alias, other),) = value.items() if len(value) == 1 else (("?", "?"),)
        return _child(network, rule, parent, Alpha(name, op, f"{alias}.{other}", kind="join"), ("join", next(_COUNTER)), in_array)
    kind = "nex" if op == "nex" else "value"
    return _child(network, rule, parent, Alpha(name, op, value, kind=kind), (name, op, json.dumps(value, sort_keys=True)), in_array)


# --- the worst case of asserting one fact -----------------------------------------------------------------------


def _satisfies(op: str, actual: Any, wanted: Any) -> bool:
    try:
        return {
            "eq": lambda: actual == wanted,
            "neq": lambda: actual != wanted,
            "gt": lambda: actual > wanted,
            "gte": lambda: actual >= wanted,
            "lt": lambda: actual < wanted,
            "lte": lambda: actual <= wanted,
            "ex": lambda: True,
        }.get(op, lambda: True)()
    except TypeError:
        return False


def _probes(tests: list[Alpha]) -> list[Any]:
    literals = [t.value for t in tests if t.kind == "value" and not isinstance(t.value, (dict, list))]
    numbers = sorted({v for v in literals if isinstance(v, (int, float)) and not isinstance(v, bool)})
    probes: list[Any] = list(dict.fromkeys(literals, None)) + ["\u0000fresh"]
    if numbers:
        probes += [numbers[0] - 1, numbers[-1] + 1] + [(a + b) / 2 for a, b in itertools.pairwise(numbers)]
    return probes


def worst_pushes(node: Alpha) -> int:
    """The most nodes one fact can make handleAlpha push when this node is popped (events.c)."""
    by_field: dict[str, list[Alpha]] = {}
    for child in node.children.values():
        by_field.setdefault(child.field, []).append(child)
    missing: dict[str, int] = {}
    forwards = 0
    for item in node.next_list:
        if item.kind == "forward":
            forwards += 1  # no fact has the property `$forward`: always pushed
        else:
            missing[item.field] = missing.get(item.field, 0) + 1
    total = forwards
    for name in set(by_field) | set(missing):
        tests = by_field.get(name, [])
        always = sum(1 for t in tests if t.kind in ("join", "array") or t.op in ("ex", "mt", "imt"))
        values = [t for t in tests if t.kind == "value" and t.op not in ("ex", "mt", "imt")]
        matching = max((sum(_satisfies(t.op, probe, t.value) for t in values) for probe in _probes(values)), default=0)
        total += max(missing.get(name, 0), always + matching)
    return total


def deepest_stack(network: Network) -> tuple[int, list[Alpha]]:
    """The deepest the assert stack can get (each node's worst case at once: a safe bound) and the path to it."""
    best = (1, [network.root])
    memo: dict[int, int] = {}

    def walk(node: Alpha, before: int, path: list[Alpha]) -> None:
        nonlocal best
        pushes = worst_pushes(node)
        depth = before + pushes
        if depth > best[0]:
            best = (depth, path)
        if memo.get(id(node), -1) >= before:
            return  # already walked from here with at least as much below it
        memo[id(node)] = before
        below = before + pushes - 1
        for child in [*node.children.values(), *node.next_list]:
            walk(child, below, [*path, child])

    walk(network.root, 0, [network.root])
    return best


@dataclass(frozen=True)
class NetworkProblem:
    """One limit of durable_rules' network that a compiled rule set goes over."""

    message: str
    rules: tuple[str, ...]


def network_problems(definition: dict[str, Any]) -> list[NetworkProblem]:
    """Every limit of the core's network this ruleset definition goes over (see the module docstring)."""
    network = build_network(definition)
    problems: list[NetworkProblem] = []
    seen: set[int] = set()

    def visit(node: Alpha, path: str) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        where = f"the test {path}" if path else "the root of the network"
        rules = tuple(sorted(network.rules_of.get(id(node), set())))
        if len(node.betas) > MAX_BETAS:
            problems.append(NetworkProblem(f"{len(node.betas)} patterns end at {where}; durable_rules links at most {MAX_BETAS} (error 108)", tuple(sorted(set(node.betas)))))
        if len(node.children) > MAX_CHILDREN:
            problems.append(NetworkProblem(f"{len(node.children)} different tests follow {where}; durable_rules hangs beyond {MAX_CHILDREN}", rules))
        if len(node.next_list) > MAX_NEXT_LIST:
            problems.append(NetworkProblem(f"{len(node.next_list)} 'is not set' tests and any: groups follow {where}; durable_rules holds at most {MAX_NEXT_LIST} (error 107)", rules))
        if len(node.array_children) > MAX_CHILDREN:
            problems.append(NetworkProblem(f"{len(node.array_children)} list tests follow {where}; durable_rules hangs beyond {MAX_CHILDREN}", rules))
        for child in [*node.children.values(), *node.next_list]:
            visit(child, f"{path} and {child.describe()}" if path else child.describe())

    visit(network.root, "")
    for (rule, index), count in network.expressions.items():
        if count > MAX_EXPRESSIONS:
            problems.append(NetworkProblem(f"pattern {index + 1} of {rule} compiles to {count} expressions; durable_rules holds at most {MAX_EXPRESSIONS} (error 113)", (rule,)))
    depth, path = deepest_stack(network)
    if depth > MAX_STACK:
        crowded = max(path, key=worst_pushes)
        rules = tuple(sorted({r for child in [*crowded.children.values(), *crowded.next_list] for r in network.rules_of.get(id(child), set())}))
        problems.append(
            NetworkProblem(
                f"a fact can match {depth} pending tests at once (after {' and '.join(n.describe() for n in path[1:]) or 'the root'}; "
                f"{worst_pushes(crowded)} of them follow {crowded.describe()}); durable_rules' assert stack holds {MAX_STACK} (error 303)",
                rules,
            )
        )
    return problems


__all__ = [
    "MAX_BETAS",
    "MAX_CHILDREN",
    "MAX_EXPRESSIONS",
    "MAX_NEXT_LIST",
    "MAX_STACK",
    "Alpha",
    "Network",
    "NetworkProblem",
    "build_network",
    "deepest_stack",
    "network_problems",
    "worst_pushes",
]
