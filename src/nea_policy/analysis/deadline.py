"""A wall-clock bound that the why-not and the counterfactual search check inside their loops.

A bound checked only between verifications does not hold: on 20,000 flows, enumerating the candidates of one rule
took most of explain's 44 s before the first check. One Deadline is shared by everything an explanation does
(candidate enumeration in the matcher, proposing change sets, verifying them); each loop asks it, and stops when it
has passed, so the whole search ends within its bound plus, at most, one step of the loop it was in.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def _now() -> float:
    return time.monotonic()


class Deadline:
    """A point in time after which a search stops; remembers whether it was reached (`hit`)."""

    def __init__(self, seconds: float, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock if clock is not None else _now
        self.seconds = seconds
        self.end = self._clock() + seconds
        self.hit = False

    def expired(self) -> bool:
        """Whether the bound has passed (and from then on, always)."""
        if not self.hit and self._clock() >= self.end:
            self.hit = True
        return self.hit

    def left(self) -> float:
        """Seconds until the bound (negative once past)."""
        return self.end - self._clock()


__all__ = ["Deadline"]
