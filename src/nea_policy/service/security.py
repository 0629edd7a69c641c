"""Who may call: an optional API key (`X-API-Key`, compared in constant time) and an optional CORS allowlist."""

from __future__ import annotations

import hmac

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import APIKeyHeader

from nea_policy.errors import Problem
from nea_policy.service.context import Service, get_service
from nea_policy.service.decisions import DECISION_HEADER, DIGEST_HEADER, VERSION_HEADER
from nea_policy.service.problems import RequestError

API_KEY_HEADER = "X-API-Key"
_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="one of the keys in the server's --api-key-file")


def key_matches(given: str, keys: tuple[str, ...]) -> bool:
    """Whether the key is one of the keys; every key is compared, each in constant time, so timing tells nothing."""
    found = False
    for key in keys:
        # Header values arrive decoded as latin-1: compare the bytes that were sent.
        found |= hmac.compare_digest(given.encode("latin-1"), key.encode("ascii"))
    return found


async def require_api_key(given: str | None = Depends(_scheme), service: Service = Depends(get_service)) -> None:
    """A 401 problem unless the request carries an accepted key (nothing to check when the server has no keys)."""
    if not service.api_keys:
        return
    if not given or not key_matches(given, service.api_keys):
        what = "no X-API-Key header" if not given else "the X-API-Key is not one the server accepts"
        raise RequestError([Problem("unauthorized", what, API_KEY_HEADER, "send -H 'X-API-Key: <key>' with a key from the server's --api-key-file")])


def install_cors(app: FastAPI, origins: tuple[str, ...]) -> None:
    """Let browsers on these origins call the API and read the decision headers (nothing when no origin is given)."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", API_KEY_HEADER],
        expose_headers=[DECISION_HEADER, DIGEST_HEADER, VERSION_HEADER],
    )
