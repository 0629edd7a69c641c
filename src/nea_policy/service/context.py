"""What every request of one worker process shares: the settings, the engine, the decision log, the API keys."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from nea_policy.api import Engine, make_engine
from nea_policy.model.report import RulesetInfo
from nea_policy.service.decisions import DecisionLog
from nea_policy.service.settings import Settings, read_api_keys


@dataclass
class Service:
    """One worker's state. It holds nothing from one request to the next, so workers and replicas are interchangeable."""

    settings: Settings
    engine: Engine
    log: DecisionLog
    api_keys: tuple[str, ...]
    #: Version and digest of the rules this worker runs (what every decision answer's headers carry).
    ruleset: RulesetInfo

    @classmethod
    def start(cls, settings: Settings) -> Service:
        """Load the rules (one engine per process, from make_engine's cache), open the log, read the keys."""
        engine = make_engine(list(settings.rules) or None, list(settings.extra_rules) or None)
        keys = read_api_keys(settings.api_key_file) if settings.api_key_file else ()
        ruleset = RulesetInfo(version=engine.ruleset.version, digest=engine.ruleset.digest)
        return cls(settings, engine, DecisionLog(settings.decision_log), keys, ruleset)


async def get_service(request: Request) -> Service:
    """The worker's Service (a coroutine, so that FastAPI resolves it on the event loop, not in a thread)."""
    return request.app.state.service  # type: ignore[no-any-return]
