"""The bundled rules: verbatim quotes, no country named, every article recommendation present."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nea_policy.language.conditions import iter_comparisons
from nea_policy.language.rules import bundled_rules_dir, load_ruleset
from nea_policy.model.iso_countries import ISO_ALPHA2

ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "source" / "cross-border-human-flows-in-northeast-asia.txt"
ARTICLE_IDS = {
    "cooperative-migration-and-trade-regime", "invest-in-host-region-economy", "liberalize-labor-import",
    "enforce-against-exploitative-recruitment", "bilateral-labor-migration-regime", "adopt-international-conventions",
    "identify-refugees", "humanitarian-assistance", "semi-resident-status", "citizen-exchanges",
    "cultural-orientation", "community-relations-programs", "fair-media-coverage",
}


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(not ARTICLE.exists(), reason="the article is kept beside the repository, in ../shared/source")
def test_every_quote_is_verbatim_in_the_article() -> None:
    article = normalise(ARTICLE.read_text(encoding="utf-8"))
    for rule in load_ruleset().rules:
        assert rule.quote in article, f"{rule.location}: rule {rule.id}: quote not in the article: {rule.quote!r}"


def test_the_article_itself_is_not_shipped() -> None:
    shipped = " ".join(p.read_text(encoding="utf-8") for p in Path(bundled_rules_dir()).rglob("*.yaml"))
    # quotes are short passages: no rule file carries a whole paragraph of the study
    longest = max((rule.quote for rule in load_ruleset().rules), key=len)
    assert len(longest) < 400
    assert "Akaha, Tsuneo" not in shipped


def test_every_recommendation_of_the_article_has_a_rule() -> None:
    assert set(load_ruleset().conclusions("recommendation")) == ARTICLE_IDS


def test_findings_the_article_makes_are_there() -> None:
    findings = set(load_ruleset().conclusions("finding"))
    assert {
        "complementary-economies", "alarmist-threat-perception", "legal-status-limbo", "hidden-exploitation", "cultural-friction",
        "human-security-challenge", "national-security-concern", "cultural-friction-short-of-security",
    } <= findings


def test_several_recommendations_rest_on_findings() -> None:
    resting = [r.id for r in load_ruleset().rules if r.kind == "recommendation" and r.finding_aliases]
    assert len(resting) >= 8


def test_no_rule_names_a_country() -> None:
    ruleset = load_ruleset()
    names = {"china", "japan", "korea", "russia", "mongolia", "taiwan"}
    for rule in ruleset.rules:
        for comparison in iter_comparisons(rule.conditions):
            values = comparison.right if isinstance(comparison.right, tuple) else (comparison.right,)
            for value in values:
                assert not (isinstance(value, str) and (value in ISO_ALPHA2 or value.lower() in names)), f"{rule.id}: {comparison.text}"
        # the justification is prose filled from the facts; it must not hard-code a country either
        words = set(re.findall(r"[a-z]+", rule.justification.lower()))
        assert not words & names, f"{rule.id}: justification names a country"
