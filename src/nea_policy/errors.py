"""The project's exception tree: every error nea-policy raises on purpose derives from NeaPolicyError."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong, with where it is, a stable code and what to do about it."""

    code: str
    message: str
    location: str = ""
    hint: str = ""
    #: Where in the parsed document the problem is, as keys and list indexes (e.g. ("flows", 0, "legal_status")), when
    #: known: what a JSON pointer is made of. Not part of the message, nor of comparisons.
    path: tuple[str | int, ...] | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, str]:
        """The problem as data (`check --format json`): code, message, location and hint."""
        return {"code": self.code, "message": self.message, "location": self.location, "hint": self.hint}

    def __str__(self) -> str:
        head = f"{self.location}: " if self.location else ""
        tail = f" ({self.hint})" if self.hint else ""
        return f"{head}{self.code}: {self.message}{tail}"


class NeaPolicyError(Exception):
    """Root of every error nea-policy raises on purpose; carries one or more problems."""

    default_code = "nea_error"

    def __init__(self, problems: list[Problem] | str, *, code: str | None = None, location: str = "", hint: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(code or self.default_code, problems, location, hint)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def code(self) -> str:
        """The code of the first problem (errors of one kind share it)."""
        return self.problems[0].code


class InputError(NeaPolicyError):
    """A fact file or rule file could not be read or parsed (missing, not UTF-8, bad YAML/JSON)."""

    default_code = "input_error"


class ScenarioError(NeaPolicyError):
    """A scenario does not satisfy the fact model (unknown field, wrong type, undeclared country)."""

    default_code = "scenario_error"


class RuleError(NeaPolicyError):
    """A rule file does not describe valid rules (all problems of a rules folder at once)."""

    default_code = "rule_error"


class EvaluationError(NeaPolicyError):
    """Evaluating a scenario failed inside the engine (a rule action failed, or the engine reported an error)."""

    default_code = "evaluation_error"


@dataclass
class ProblemCollector:
    """Gathers problems so that a loader can report all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, location: str = "", hint: str = "") -> None:
        """Record one problem."""
        self.problems.append(Problem(code, message, location, hint))

    def raise_if_any(self, error_type: type[NeaPolicyError]) -> None:
        """Raise error_type with every recorded problem, if there is one."""
        if self.problems:
            raise error_type(self.problems)
