"""The clause catalogue (specs/clauses.yaml): every conformance clause with its level and needs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from teleconform._resources import specs_dir
from teleconform.specs import load_document

LEVELS = ("MUST", "SHOULD")
APIS = ("hcw", "leah")


@dataclass(frozen=True, slots=True)
class Clause:
    """One conformance clause as restated in our catalogue."""

    id: str
    api: str
    area: str
    level: str
    title: str
    statement: str
    needs: tuple[str, ...]
    source_document: str
    source_quote: str


def _clause(raw: dict[str, Any]) -> Clause:
    source = raw.get("source") or {}
    return Clause(
        id=str(raw["id"]),
        api=str(raw["api"]),
        area=str(raw.get("area", "")),
        level=str(raw["level"]),
        title=str(raw["title"]),
        statement=str(raw.get("statement", "")),
        needs=tuple(str(n) for n in raw.get("needs") or ()),
        source_document=str(source.get("document", "")),
        source_quote=str(source.get("quote", "")),
    )


def load_catalogue(path: Path | None = None) -> dict[str, Clause]:
    """All clauses by id, in catalogue order."""
    if path is None:
        return dict(_default_catalogue())
    return _load(path)


@cache
def _default_catalogue() -> tuple[tuple[str, Clause], ...]:
    return tuple(_load(specs_dir() / "clauses.yaml").items())


def load_client_catalogue(path: Path | None = None) -> dict[str, Clause]:
    """The client-side clauses (specs/client-clauses.yaml) by id, in catalogue order.

    Kept apart from the server catalogue: `teleconform clauses` and `run` never see them.
    """
    if path is None:
        return dict(_default_client_catalogue())
    return _load(path)


@cache
def _default_client_catalogue() -> tuple[tuple[str, Clause], ...]:
    return tuple(_load(specs_dir() / "client-clauses.yaml").items())


def _load(path: Path) -> dict[str, Clause]:
    data = load_document(path)
    clauses: dict[str, Clause] = {}
    for raw in data["clauses"]:
        clause = _clause(raw)
        if clause.id in clauses:
            raise ValueError(f"{path}: duplicate clause id {clause.id}")
        if clause.level not in LEVELS or clause.api not in APIS:
            raise ValueError(f"{path}: clause {clause.id} has a bad level or api")
        clauses[clause.id] = clause
    return clauses
