"""Named fault switches shared by the sandboxes.

A fault is a realistic deviation a real server could show. It is switched on for the whole
sandbox (``--fault NAME`` / ``create_app(faults=...)``) or for one request with the header
``X-Teleconform-Fault: name[,name...]`` so that one running sandbox can serve many faults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

FAULT_HEADER = "x-teleconform-fault"


@dataclass(frozen=True, slots=True)
class Fault:
    """One deviation: its name, the clause ids it breaks, and what it does."""

    name: str
    clauses: frozenset[str]
    description: str


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


def name_table(kind: str, items: Iterable[N]) -> dict[str, N]:
    """Index items (faults, profiles) by name, refusing duplicates."""
    table: dict[str, N] = {}
    for item in items:
        if item.name in table:
            raise ValueError(f"duplicate {kind} {item.name}")
        table[item.name] = item
    return table


def fault_table(*faults: Fault) -> dict[str, Fault]:
    """Index faults by name, refusing duplicates."""
    return name_table("fault", faults)


def parse_fault_header(value: str | None, known: Mapping[str, Fault]) -> frozenset[str]:
    """Faults named in a request header; unknown names are ignored (the header is test-only)."""
    if not value:
        return frozenset()
    names = {part.strip() for part in value.split(",")}
    return frozenset(name for name in names if name in known)


def check_fault_names(names: Iterable[str], known: Mapping[str, Fault]) -> frozenset[str]:
    """Validate fault names given on the command line or in-process."""
    chosen = frozenset(names)
    unknown = sorted(chosen - set(known))
    if unknown:
        raise ValueError(
            f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return chosen
