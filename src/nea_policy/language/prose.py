"""Justification templates as prose: their literal text and fields, and which field opens a sentence.

A template reads `{flow.name} are deceived ...`; names are written as they read mid-sentence ("workers from
Country A in Country B", "the Russian Far East"), so a field that opens a sentence is capitalised when the
justification is filled in, and only then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nea_policy.language.rules import TEMPLATE_FIELD

# Where a sentence ends: a value after this opens the next one.
_SENTENCE_END = re.compile(r"[.!?]\s+$")


@dataclass(frozen=True)
class TemplateField:
    """One `{alias.field}` of a template: what it shows, whether it opens a sentence, and the literal after it."""

    alias: str
    field: str
    opens_sentence: bool
    after: str


def split_template(justification: str) -> tuple[str, tuple[TemplateField, ...]]:
    """A template (whitespace normalised) as its first literal and its fields, each with the literal that follows."""
    parts = TEMPLATE_FIELD.split(" ".join(justification.split()))
    fields = []
    for i in range(1, len(parts), 3):
        before = parts[i - 1]
        opens = (i == 1 and before == "") or bool(_SENTENCE_END.search(before))
        fields.append(TemplateField(parts[i], parts[i + 1], opens, parts[i + 2]))
    return parts[0], tuple(fields)


def sentence_start(text: str) -> str:
    """Text as it opens a sentence: its first letter in capitals ("workers from ..." -> "Workers from ...")."""
    return text[:1].upper() + text[1:]
