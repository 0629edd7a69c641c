"""The model of durable_rules' network (language/network.py) against the vendored core, at each limit.

Each case is a ruleset just under and just over one of the core's table sizes. The model must accept the first and
refuse the second, and the core must run the first and fail on the second (in a process of its own: over a limit
the core fails with an error code, hangs, or corrupts its memory).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from nea_policy.engine.engine import Engine
from nea_policy.language.network import MAX_BETAS, MAX_CHILDREN, MAX_EXPRESSIONS, MAX_NEXT_LIST, MAX_STACK, build_network, deepest_stack, network_problems

RUN = """
import json, sys
from nea_policy.engine.host import core
definition, facts = json.loads(sys.stdin.read())
try:
    handle = core.create_ruleset("probe", json.dumps(definition))
    for fact in facts:
        core.assert_fact(handle, json.dumps({**fact, "sid": "s1"}))
except Exception as error:
    print(error)
else:
    print("ok")
"""


def core(definition: dict[str, Any], facts: list[dict[str, Any]]) -> str:
    """What the core says: 'ok', its error, or 'hang' (killed after 5 seconds; the others take well under one)."""
    try:
        result = subprocess.run([sys.executable, "-c", RUN], input=json.dumps([definition, facts]), capture_output=True, text=True, timeout=5, check=False)
    except subprocess.TimeoutExpired:
        return "hang"
    return result.stdout.strip() or f"crash {result.returncode}"


def rules(patterns: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {f"r{i}": {"all": p} for i, p in enumerate(patterns)}


FLOW = {"id": "1", "t": "flow", "abuse": 3, "name": "n1", "legal_status": "unclear"}
COUNTRY = {"id": "2", "t": "country", "code": "CN"}

CASES: dict[str, tuple[Any, list[dict[str, Any]], str]] = {
    # patterns ending at one test: each links a beta node to it (BETA_LIST_LENGTH)
    "betas": (lambda n: rules([[{"m": {"$and": [{"t": "flow"}, {"$gte": {"abuse": 2}}]}}]] * n), [FLOW], "error code: 108"),
    # distinct tests after one test: its hash table of children (NEXT_BUCKET_LENGTH); full, a lookup never ends
    "children": (lambda n: rules([[{"m": {"$and": [{"t": "flow"}, {"name": f"n{i}"}]}}] for i in range(n)]), [FLOW], "hang"),
    # any: groups ending at one test: each links its junction to the test's list (NEXT_LIST_LENGTH)
    "next list": (lambda n: rules([[{"m": {"$and": [{"t": "flow"}, {"$or": [{"$gte": {"abuse": 2}}, {"legal_status": f"s{i}"}]}]}}] for i in range(n)]), [], "error code: 107"),
    # expressions of one pattern: $and / $or markers and joins (MAX_SEQUENCE_EXPRESSIONS)
    "expressions": (lambda n: rules([[{"m": {"$and": [{"t": "flow"}, {"$or": [{"$and": [{"abuse": i}, {"name": "x"}]} for i in range(n)]}]}}]]), [], "error code: 113"),
    # joins on one fact type: never shared, each pushed for every such fact (MAX_STACK_SIZE)
    "stack": (lambda n: rules([[{"f": {"t": "flow"}}, {"c": {"$and": [{"t": "country"}, {"code": {"f": "name"}}]}}]] * n), [FLOW, COUNTRY], "error code: 303"),
}
# For each case: the largest size the model accepts, the smallest the core fails on, and the model's words for it.
SIZES = {
    "betas": (MAX_BETAS, MAX_BETAS + 2, "patterns end at"),  # 256 fills the list: it worked alone, and crashed after another ruleset
    "children": (MAX_CHILDREN, MAX_CHILDREN + 1, "different tests follow"),
    "next list": (MAX_NEXT_LIST, MAX_NEXT_LIST + 2, "any: groups follow"),
    "expressions": (13, 14, "expressions; durable_rules holds"),
    "stack": (MAX_STACK, MAX_STACK + 1, "assert stack"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_model_and_the_core_agree_at_each_limit(case: str) -> None:
    make, facts, failure = CASES[case]
    under, over, words = SIZES[case]

    def refused(size: int) -> bool:
        return any(words in problem.message for problem in network_problems(make(size)))

    assert not refused(under) and refused(under + 1) and refused(over)
    assert core(make(under), facts) == "ok"
    assert failure in core(make(over), facts)


def test_the_bundled_rules_are_far_from_every_limit() -> None:
    definition = Engine().definition()["nea_policy"]
    network = build_network(definition)
    assert network_problems(definition) == []
    depth, _ = deepest_stack(network)
    assert depth <= MAX_STACK // 2, f"a fact can match {depth} pending tests of the bundled rules"
    assert max(network.expressions.values()) <= MAX_EXPRESSIONS // 2


def test_tests_are_shared_as_durable_rules_shares_them() -> None:
    network = build_network(
        rules(
            [
                [{"a": {"$and": [{"t": "flow"}, {"$gte": {"abuse": 2}}]}}],
                [{"a": {"$and": [{"t": "flow"}, {"$gte": {"abuse": 2}}, {"$nex": {"x": 1}}]}}],
                [{"a": {"t": "flow"}}, {"b": {"$and": [{"t": "country"}, {"code": {"a": "origin"}}]}}],
                [{"a": {"t": "flow"}}, {"b": {"$and": [{"t": "country"}, {"code": {"a": "origin"}}]}}],
            ]
        )
    )
    flow = network.root.children[("t", "eq", '"flow"')]
    country = network.root.children[("t", "eq", '"country"')]
    abuse = flow.children[("abuse", "gte", "2")]
    assert len(flow.betas) == 2 and len(abuse.betas) == 1 and len(abuse.next_list) == 1, "a literal test is shared"
    assert len(country.children) == 2, "a join is never shared (its strings are stored afresh)"
