"""What a property-test run is given and what it reports: budgets, resources, hooks, report.

Private helper of :mod:`teleconform.properties`; shared by its public entry (``_api``) and the
run (``_run``), which therefore do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from teleconform.suite import Context

if TYPE_CHECKING:
    from teleconform.properties._spec import GeneratedCase

# The request extension describing a property-test request (recorded with it, see
# teleconform.cassettes); the same name as teleconform.cassettes._record.CASE_EXTENSION.
CASE_EXTENSION = "teleconform.case"


@dataclass(frozen=True, slots=True)
class Budget:
    """How much generated testing one run does."""

    positive: int
    negative: int
    chains: int  # successful creations per operation whose links are followed
    link_cases: int  # cases per linked operation and mode
    depth: int  # longest chain of links followed
    auth_probes: int  # probed cases per operation and credential variant
    coverage: int  # coverage-phase cases per operation (0 = phase off)


BUDGETS: dict[str, Budget] = {
    "quick": Budget(
        positive=5, negative=5, chains=1, link_cases=1, depth=3, auth_probes=1, coverage=0
    ),
    "standard": Budget(
        positive=25, negative=25, chains=2, link_cases=2, depth=3, auth_probes=1, coverage=0
    ),
    "deep": Budget(
        positive=100, negative=100, chains=5, link_cases=5, depth=5, auth_probes=2, coverage=0
    ),
}


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource an operation creates: where its id is, and how the ledger cleans it up.

    ``cleanup`` is (method, path template with ``{id}``), e.g. ("DELETE", "/api/v1/invite/{id}").
    """

    operation: str
    kind: str
    id_pointer: str
    cleanup: tuple[str, str] | None = None


AuthHeaders = Callable[[Context], Mapping[str, str]]
Prepare = Callable[[Context, "GeneratedCase", str], None]
Disruptive = Callable[["GeneratedCase"], bool]
InvalidAuth = Callable[[Mapping[str, str]], list[dict[str, str]]]


@dataclass(slots=True)
class PropertyReport:
    """What one property-test run did (also reported through ctx outcomes and measurements)."""

    operations: list[str] = field(default_factory=list)
    cases: dict[str, dict[str, int]] = field(default_factory=dict)
    auth_probes: int = 0
    link_steps: int = 0
    requests: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    advisories: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    replayed: bool = False
