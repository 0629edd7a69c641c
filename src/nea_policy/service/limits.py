"""The bounds a request meets beyond the body size: search time, sweep grid size, batch size."""

from __future__ import annotations

from nea_policy.analysis.counterfactuals import Limits
from nea_policy.errors import InputError
from nea_policy.service.settings import Settings


def search_limits(requested: Limits | None, settings: Settings) -> Limits:
    """The search bounds of an explain or counterfactual request: as asked, its seconds at most the server's time limit."""
    limits = requested or Limits(seconds=settings.time_limit)
    return limits.model_copy(update={"seconds": min(limits.seconds, settings.time_limit)})


def check_batch_size(count: int, settings: Settings) -> None:
    """An error when a batch holds more scenarios than the server takes."""
    if count > settings.max_batch:
        raise InputError(
            f"the batch has {count} scenarios, over the limit of {settings.max_batch}",
            code="batch_too_large",
            location="#/scenarios",
            hint="send them in several batches; the server's --max-batch sets the limit",
        )
