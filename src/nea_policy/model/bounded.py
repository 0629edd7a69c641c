"""What the document readers share: the bounds of one document, and the values left, positions and problems as they read."""

from __future__ import annotations

from dataclasses import dataclass

from nea_policy.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Bounds:
    """How much one document may hold: values (aliases expanded), levels of nesting, digits of a number."""

    max_nodes: int
    max_depth: int
    max_digits: int


class BoundedReader:
    """A reader's bookkeeping: the file's name, its bounds, the values it may still read, where each value is, what is wrong."""

    def __init__(self, name: str, bounds: Bounds) -> None:
        self.name = name
        self.bounds = bounds
        self.budget = bounds.max_nodes
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.problems: list[Problem] = []


__all__ = ["BoundedReader", "Bounds", "PathKey"]
