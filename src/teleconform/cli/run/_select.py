"""`run`, step 1: which clauses of which APIs (``--clause``, ``--shard``, the API argument)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from teleconform._errors import UsageError
from teleconform.catalogue import Clause

APIS = ("hcw", "leah")

# API -> its selected clause ids (None: every clause of the API)
Selection = dict[str, frozenset[str] | None]


def select(args: argparse.Namespace, catalogue: Mapping[str, Clause]) -> Selection:
    """The selection, and the numeric options checked; UsageError (exit 2) when bad."""
    apis = list(APIS) if args.api == "all" else [args.api]
    unknown = [c for c in args.clause if c not in catalogue]
    if unknown:
        raise UsageError(
            f"teleconform run: unknown clause id {unknown[0]} (see `teleconform clauses`)"
        )
    selected: Selection = {}
    shard_ids = _shard(args.shard, catalogue, apis) if args.shard else None
    for api in apis:
        ids = {c for c in args.clause if catalogue[c].api == api}
        if args.clause and not ids:
            continue
        if shard_ids is not None:
            ids = (ids or {c.id for c in catalogue.values() if c.api == api}) & shard_ids
            if not ids:
                continue
        selected[api] = frozenset(ids) if ids else None
    if not selected:
        if args.shard:
            raise UsageError(f"teleconform run {args.api}: --shard {args.shard} selects no clause")
        raise UsageError(f"teleconform run {args.api}: the selected clauses belong to another API")
    _check_numbers(args)
    return selected


def _check_numbers(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise UsageError("teleconform run: --workers must be at least 1")
    if (
        args.rate_limit <= 0
        or args.timeout <= 0
        or (args.deadline is not None and args.deadline <= 0)
    ):
        raise UsageError("teleconform run: --rate-limit, --timeout and --deadline must be positive")


def _shard(spec: str, catalogue: Mapping[str, Clause], apis: list[str]) -> set[str]:
    """Clause ids of shard ``I/N``: whole areas dealt round-robin (related checks together)."""
    try:
        index, count = (int(part) for part in spec.split("/"))
    except ValueError:
        raise UsageError(f"teleconform run: --shard {spec!r} is not I/N (e.g. 1/3)") from None
    if not 1 <= index <= count:
        raise UsageError(f"teleconform run: --shard {spec!r}: I must be between 1 and N")
    groups: list[tuple[str, str]] = []
    for clause in catalogue.values():
        if clause.api in apis and (clause.api, clause.area) not in groups:
            groups.append((clause.api, clause.area))
    chosen = {g for k, g in enumerate(groups) if k % count == index - 1}
    return {c.id for c in catalogue.values() if (c.api, c.area) in chosen}


def recorded_selection(args: argparse.Namespace, session: Any) -> argparse.Namespace | None:
    """(--replay without --clause/--shard) The options with the recorded selection, which a
    replay runs by default; None when the options stand as given."""
    if not args.replay or args.clause or args.shard:
        return None
    if not (session.recorded_clauses or session.recorded_shard):
        return None
    return argparse.Namespace(
        **{
            **vars(args),
            "clause": list(session.recorded_clauses),
            "shard": session.recorded_shard,
        }
    )
