"""Why a question is asked, in words: the rules waiting on a field, the governments they address, and the field itself.

"asked because *Grant semi-resident status to those who can prove work and shelter* to China needs to know whether
(some of) North Korean migrants in China can prove they have work and shelter". A field reads as what one needs to
know about the country, region, pair or flow it belongs to (`field_words`); fields without a wording of their own
read as their description in the fact model. Conditions in words come from `language.rule_docs`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nea_policy.analysis.answerable import AnswerableField

# What one needs to know, per field; {name} is the country, region or flow name, or "China and Russia" for a pair.
_ECONOMY = {
    "labor_shortage": "how short of workers {name} is",
    "labor_shortage_sectors": "which sectors of {name} are short of labor",
    "surplus_labor": "how much surplus labor {name} has (workers who lack employment at home)",
    "rural_unemployment": "how high unemployment is in the countryside of {name}",
    "regional_development_gap": "how wide the development gaps between the regions of {name} are",
    "consumer_goods_shortfall": "how short of consumer goods {name} is",
    "population_decline": "how fast the population of {name} is falling",
    "economic_decline": "how far the economy of {name} is deteriorating",
}
_WORDS: dict[str, dict[str, str]] = {
    "countries": {
        **_ECONOMY,
        "food_insecurity": "how severe hunger and the shortage of food are in {name}",
        "economic_collapse": "how far the economic system of {name} has failed",
        "international_isolation": "how isolated {name} is from the international community",
        "restrictive_migration_policy": "whether {name} limits the legal entry of migrants",
        "accepted_conventions": "which international conventions and protocols {name} has accepted",
    },
    "regions": dict(_ECONOMY),
    "relations": {
        "proximity": "whether {name} are neighbours",
        "rising_power": "which of {name} is a rising power the other feels vulnerable to",
        "sovereignty_dispute": "whether {name} dispute sovereignty over territory",
        "diplomatic_tension": "how much tension there is between the governments of {name}",
        "cultural_gap": "how far apart the cultures of {name} are",
        "economic_ties": "how close the economic ties between {name} are",
    },
    "flows": {
        "kinds": "what kinds of people {name} are (workers, traders, students ...)",
        "sectors": "which sectors {name} work in",
        "unskilled": "whether most of {name} are uneducated and unskilled",
        "estimates": "how many {name} there are, by alarmist and by careful estimates",
        "count_reliability": "how dependable the counts of {name} are",
        "legal_status": "the legal status of {name}",
        "labels": "what governments, media and others call {name}",
        "recruiter_exploitation": "how much recruiters and labor exporters deceive and exploit {name}",
        "employer_exploitation": "how much employers exploit {name}",
        "cheap_labor_as_training": "whether {name} are hired as cheap labor under the guise of training",
        "illegal_work": "how many of {name} work illegally",
        "illegal_work_by_students": "whether students among {name} work illegally",
        "abuse": "how much mental and physical abuse {name} suffer",
        "indentured_servitude": "whether {name} are held in indentured servitude",
        "forced_prostitution": "whether {name} are forced into prostitution",
        "fear_of_exposure": "how much {name} fear exposure and arrest",
        "under_reporting": "whether abuse of {name} goes unreported",
        "persecution_risk_on_return": "how great a risk of persecution {name} face if forcibly returned",
        "back_and_forth_trips": "whether {name} cross back and forth, bringing food, necessities and money home",
        "has_work_and_shelter": "whether (some of) {name} can prove they have work and shelter",
        "host_fear": "how much the host society fears {name}",
        "nationalist_framing": "whether {name} are framed in nationalist terms ('yellow peril', 'peaceful invasion')",
        "media_tone": "how the host country's media cover {name}",
        "stereotypes": "how strong unfavorable stereotypes of {name} are in the host society",
        "public_ignorance": "how little the host public knows of, or cares about, the home country of {name}",
        "superficial_interaction": "whether personal interaction between {name} and their hosts is superficial",
    },
}


def field_words(field: AnswerableField) -> str:
    """What one needs to know, e.g. "the legal status of North Korean migrants in China"."""
    if field.collection == "agreements":
        return f"whether {field.entity} already have a {field.field.replace('-', ' ')} agreement"
    template = _WORDS.get(field.collection, {}).get(field.field)
    if template is not None:
        return template.format(name=field.entity)
    description = field.description or field.field.replace("_", " ")
    return f"{description} ({field.entity})"


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def through_words(steps: list[tuple[str, bool]]) -> str:
    """The chain of findings a rule waits through: "(through *A*, which needs the absence of *B*)"; '' when direct."""
    if not steps:
        return ""
    parts = []
    for position, (title, negated) in enumerate(steps):
        what = f"the absence of *{title}*" if negated else f"*{title}*"
        parts.append(f"through {what}" if position == 0 else f"which needs {what}" if negated else f"which rests on {what}")
    return " (" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class Waiter:
    """A rule candidate waiting on a field, as the words need it: title, kind, governments, subject name, chain of findings."""

    title: str
    kind: str
    actors: tuple[str, ...] = ()
    subject: str | None = None
    steps: tuple[tuple[str, bool], ...] = ()


def _tail(waiter: Waiter) -> str:
    tail = f" to {join_words(list(waiter.actors))}" if waiter.actors else ""
    # "to China for China" says nothing more: a subject that is the governments addressed is left out.
    if waiter.subject and waiter.subject not in waiter.actors and waiter.subject != join_words(list(waiter.actors)):
        tail += f" for {waiter.subject}"
    return tail + through_words(list(waiter.steps))


def waiter_words(waiter: Waiter) -> str:
    """One rule candidate waiting on a field: "*Title* to China for North Korean migrants in China (through *Limbo*)"."""
    head = f"*{waiter.title}*" if waiter.kind == "recommendation" else f"the finding *{waiter.title}*"
    return head + _tail(waiter)


def reason_words(waiters: list[Waiter], field: AnswerableField, shown: int = 3) -> str:
    """The reason a question is asked: the first waiting rules (grouped when they share governments, subject and chain) and the field.

    "asked because *A* to China needs to know X; so do *B* and *C* to China (through *D*); and 2 more".
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for waiter in waiters[:shown]:
        groups.setdefault((waiter.kind, _tail(waiter)), []).append(f"*{waiter.title}*")
    clauses = []
    for (kind, tail), titles in groups.items():
        head = join_words(titles)
        if kind != "recommendation":
            head = ("the finding " if len(titles) == 1 else "the findings ") + head
        clauses.append(head + tail)
    first = next(iter(groups.values()))
    text = f"asked because {clauses[0]} {'needs' if len(first) == 1 else 'need'} to know {field_words(field)}"
    if len(clauses) > 1:
        text += "; so do " + "; ".join(clauses[1:])
    rest = len(waiters) - min(len(waiters), shown)
    if rest:
        text += f"; and {rest} more"
    return text


__all__ = ["Waiter", "field_words", "join_words", "reason_words", "through_words", "waiter_words"]
