"""What a running service is configured with: the `nea-policy serve` options, passed to worker processes as JSON."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from nea_policy.errors import InputError
from nea_policy.model.documents import DEFAULT_MAX_BYTES

#: Worker processes read their settings from this environment variable (uvicorn starts them by import string).
ENV_VAR = "NEA_POLICY_SERVE_SETTINGS"


class Settings(BaseModel):
    """The service's options; every bound a request meets is here."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = Field("127.0.0.1", description="address to listen on (loopback by default)")
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, description="worker processes, each with its own engine")
    rules: tuple[str, ...] = Field((), description="rule folders used instead of the bundled rules")
    extra_rules: tuple[str, ...] = Field((), description="rule packs added to the rules")
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, description="largest request body accepted, in bytes")
    decision_log: str | None = Field(None, description="file to append one JSON line per decision to ('-': standard output)")
    api_key_file: str | None = Field(None, description="file of accepted API keys, one a line; none: no key needed")
    cors_origins: tuple[str, ...] = Field((), description="origins a browser may call the API from; none: no CORS headers")
    time_limit: float = Field(10.0, gt=0, description="seconds an explain, counterfactual or sweep search may run")
    max_points: int = Field(10_000, ge=1, description="largest sweep grid accepted")
    max_batch: int = Field(1_000, ge=1, description="most scenarios in one batch")
    log_level: str = Field("info", description="uvicorn's log level")
    access_log: bool = Field(True, description="one log line per request (uvicorn's access log)")

    def to_env(self) -> str:
        """The settings as the JSON text worker processes read from ENV_VAR."""
        return self.model_dump_json()

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the parent process left in ENV_VAR (defaults when there are none)."""
        text = os.environ.get(ENV_VAR)
        return cls.model_validate_json(text) if text else cls()


def read_api_keys(path: str) -> tuple[str, ...]:
    """The API keys in a file, one a line (blank lines and `#` comments skipped); an error naming the file otherwise."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file; check the path of --api-key-file", code="file_not_found", location=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the API key file: {exc}", code="unreadable_key_file", location=path) from None
    keys = tuple(line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))
    if not keys:
        raise InputError("the file holds no API key; write one key a line", code="no_api_key", location=path)
    bad = [i for i, key in enumerate(keys, 1) if not key.isascii() or not key.isprintable()]
    if bad:
        raise InputError(f"key {bad[0]} is not printable ASCII; an HTTP header can only carry such keys", code="bad_api_key", location=path)
    return keys
