"""The page's state as one URL-safe token: the scenario's data, the fields answered "don't know", and the mode.

The token is the state's compact JSON, deflated and base64url-encoded (`/?s=TOKEN`), so that a link carries the
whole scenario and a student can share it; nothing is kept on the server. Reading one is bounded (the inflated size
may not pass the server's body limit) and every way it can fail is an InputError that says what to do.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nea_policy.errors import InputError

#: Links longer than this may not pass servers and proxies (uvicorn refuses request heads over 16 KiB): the page
#: then offers the scenario file instead of a link.
MAX_LINK_TOKEN = 8_000

Mode = Literal["form", "guided"]


class PageState(BaseModel):
    """What the page shows: a scenario (as a fact file's data, valid or not), the "don't know" answers, the mode."""

    model_config = ConfigDict(extra="forbid")
    scenario: dict[str, Any] = Field(default_factory=dict)
    unknown: list[str] = Field(default_factory=list, description='fields answered "don\'t know" in guided mode')
    mode: Mode = "form"


def encode_state(state: PageState) -> str:
    """The state as a token for a URL (deflated JSON, base64url without padding)."""
    raw = json.dumps(state.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode("ascii")


def _bad(message: str) -> InputError:
    return InputError(message, code="bad_state", location="the link", hint="open an example or a file instead; a link copied in part does not work")


def decode_state(token: str, *, max_bytes: int) -> PageState:
    """The state a token holds; an InputError (`bad_state`) when it is not one, or inflates beyond `max_bytes`."""
    try:
        packed = base64.urlsafe_b64decode(token.strip() + "=" * (-len(token.strip()) % 4))
    except (binascii.Error, ValueError):
        raise _bad("the scenario in the link is not readable (not base64url)") from None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(packed, max_bytes + 1)
    except zlib.error:
        raise _bad("the scenario in the link is not readable (not deflated data)") from None
    if len(raw) > max_bytes or inflater.unconsumed_tail:
        raise InputError(f"the scenario in the link is over the limit of {max_bytes:,} bytes", code="bad_state", location="the link", hint="share the scenario file instead")
    try:
        return PageState.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError):
        raise _bad("the link does not hold a scenario of this page") from None


__all__ = ["MAX_LINK_TOKEN", "Mode", "PageState", "decode_state", "encode_state"]
