"""Cleanup: undo what a run created (children first), also from a killed run's ledger."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from teleconform.redact._evidence import EvidenceBuilder
from teleconform.runner._http import HttpClient
from teleconform.runner._interrupts import signal_name
from teleconform.runner._loading import load_checks, marked_functions
from teleconform.runner.ledger import Ledger, read_ledger
from teleconform.suite import Context

APIS = ("hcw", "leah")


def clean_up(ctx: Context, ledger: Ledger) -> list[dict[str, Any]]:
    """Undo what the run created; returns the entries that could not be undone.

    Newest first, so a child (a consultation) goes before its parent (the invite); a parent
    whose child could not be removed is kept, since removing it would orphan the child.
    Entries the API cannot remove go last: a cleaner may find them gone with their parent.
    A Ctrl-C here says what is still being removed; a second one stops, and what is left
    stays in the ledger for ``teleconform cleanup``.
    """
    if not ledger.entries:
        return []
    cleaners = marked_functions(ctx.api, "__teleconform_cleaner__", once=False)
    ctx.http.label = "cleanup"
    failures: list[dict[str, Any]] = []
    entries = list(reversed(list(ledger.entries)))
    todo = [e for e in entries if e.get("cleanup")] + [e for e in entries if not e.get("cleanup")]
    kept_children: dict[str, dict[str, Any]] = {}
    warned = False
    index = 0
    while index < len(todo):
        entry = todo[index]
        try:
            cleaned, detail, why = _clean_one(ctx, entry, cleaners, kept_children)
        except KeyboardInterrupt as exc:
            ledger.interrupted = ledger.interrupted or signal_name(exc)
            left = todo[index:]
            if not warned:
                warned = True
                _say_still_removing(ledger, left)
                continue  # the same entry again
            for rest in left:
                why = "cleanup stopped by an interrupt; `teleconform cleanup LEDGER` removes it"
                ledger.outcome(rest, False, why)
                failures.append({**rest, "detail": why, "why": rest.get("why") or why})
            break
        ledger.outcome(entry, cleaned, detail)
        if not cleaned:
            failures.append({**entry, "detail": detail, "why": why})
            if entry.get("id") is not None:
                kept_children.setdefault(str(entry["id"]), entry)
        index += 1
    return failures


def _clean_one(
    ctx: Context,
    entry: dict[str, Any],
    cleaners: list[Callable[[Context, dict[str, Any]], Any]],
    failed: dict[str, dict[str, Any]],
) -> tuple[bool, str, str]:
    """(cleaned, detail for the ledger, why for left_behind)."""
    if entry.get("id") is None:
        why = str(entry.get("why") or "created but not identified")
        return False, why, why
    orphans = [
        child
        for child in failed.values()
        if child.get("parent") == entry["id"] and child.get("cleanup")
    ]
    if orphans and entry.get("cleanup"):
        # the cleaner must not remove it; it may only find it gone already
        child = orphans[0]
        entry = {**entry, "keep_for": f"{child['kind']} {child['id']}"}
        why = (
            f"kept: removing it would orphan its {child['kind']} {child['id']}, which "
            "could not be removed"
        )
        for cleaner in cleaners:
            with contextlib.suppress(Exception):
                if cleaner(ctx, entry) is True:
                    return True, "already gone", ""
        return False, why, why
    detail = "no cleaner for this API"
    explained = False
    for cleaner in cleaners:
        try:
            answer = cleaner(ctx, entry)
        except Exception as exc:  # cleanup must go on whatever one entry does
            detail = f"{type(exc).__name__}: {exc}"
            continue
        if answer is True:
            return True, "cleaned", ""
        if isinstance(answer, str) and answer:
            detail, explained = answer, True
            break
        if answer is False:
            detail = "the target refused the cleanup request"
            if entry.get("cleanup"):
                break
    if not entry.get("cleanup") and not explained:
        why = str(entry.get("why") or "the API offers no operation to remove it")
        return False, why, why
    return False, detail, detail if explained else f"cleanup failed: {detail}"


def _say_still_removing(ledger: Ledger, left: list[dict[str, Any]]) -> None:
    names = ", ".join(f"{e.get('kind')} {e.get('id') or '(unidentified)'}" for e in left[:6])
    more = f" and {len(left) - 6} more" if len(left) > 6 else ""
    where = f" listed in {ledger.path}" if ledger.path else ""
    print(
        f"teleconform: still removing what this run created: {names}{more}. "
        f"Interrupt again to stop now: what is not removed stays,{where} for "
        "`teleconform cleanup`.",
        file=sys.stderr,
        flush=True,
    )


def cleanup_from_ledger(
    path: Path,
    credentials: Mapping[str, str],
    *,
    client: httpx.Client | None = None,
    timeout_s: float = 10.0,
) -> tuple[int, list[dict[str, Any]]]:
    """Finish a killed run's cleanup from its ledger; returns (entries tried, failures)."""
    header, remaining = read_ledger(path)
    api, base_url = str(header["api"]), str(header["base_url"])
    if api not in APIS:
        raise ValueError(f"{path}: unknown API {api!r}")
    load_checks(api)  # imports the API's suite modules, which define its cleaner
    http = HttpClient(base_url=base_url, client=client or httpx.Client(), timeout_s=timeout_s)
    ledger = Ledger(None, api, base_url, str(header.get("run_id", "")))
    ledger.path = path  # append outcomes to the same file
    ledger.entries.extend(remaining)
    ctx = Context(
        api=api,
        mode="live",
        http=http,
        credentials=dict(credentials),
        seed=0,
        budget="quick",
        run_id=str(header.get("run_id", "")),
        clock=time.time,
        writes_allowed=True,
        disruptive_allowed=False,
        state={},
        evidence=EvidenceBuilder(),
        on_created=lambda *a: None,
        on_outcome=lambda o: None,
        on_measure=lambda *a: None,
    )
    try:
        return len(remaining), clean_up(ctx, ledger)
    finally:
        http.close()
