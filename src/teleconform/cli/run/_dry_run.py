"""`teleconform run --dry-run`: per clause the requests that would be sent, the footprint."""

from __future__ import annotations

import argparse
import os

from teleconform._errors import EXIT_OK
from teleconform.catalogue import Clause
from teleconform.cli.run._console import Printer
from teleconform.runner._needs import safe_contacts
from teleconform.specs import load_spec_document


def operations_by_clause(api: str) -> dict[str, list[str]]:
    """The ``METHOD /path`` of each operation, by the clause ids its ``x-clauses`` names."""
    spec = load_spec_document(api)
    found: dict[str, list[str]] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            for cid in op.get("x-clauses") or ():
                found.setdefault(cid, []).append(f"{method.upper()} {path}")
    return found


def dry_run(
    selected: dict[str, frozenset[str] | None],
    targets: dict[str, str],
    catalogue: dict[str, Clause],
    seed: int,
    printer: Printer,
    args: argparse.Namespace,
) -> int:
    printer.line(f"dry run (nothing is sent); seed {seed}", always=True)
    for api, ids in selected.items():
        ops = operations_by_clause(api)
        where = targets.get(api, "the embedded sandbox")
        printer.line(f"{api}: {where}", always=True)
        for clause in catalogue.values():
            if clause.api != api or (ids is not None and clause.id not in ids):
                continue
            requests = ops.get(clause.id) or ["(no spec operation; scenario requests only)"]
            printer.line(f"  {clause.id} [{clause.level}] {clause.title}", always=True)
            for op in requests:
                printer.line(f"    {op}", always=True)
        for line in footprint_lines(api, ids, api in targets, args):
            printer.line(line, always=True)
    return EXIT_OK


def footprint_lines(
    api: str, ids: frozenset[str] | None, live: bool, args: argparse.Namespace
) -> list[str]:
    """The dry run's footprint: the most the run creates of each kind, and what stays."""
    from teleconform.runner import creations_of, footprint

    if live and not args.allow_writes:
        return [f"{api} footprint: nothing is created (no --allow-writes): reads and sign-ins"]
    counts = footprint(api, ids, args.budget, live)
    messages = counts.pop("message", 0)
    made = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()) if count)
    lines = [f"{api} footprint (at most, budget {args.budget}): {made or 'nothing'}"]
    if messages:
        email, phone = safe_contacts(os.environ)
        lines.append(
            f"  e-mails or SMS that may be sent to the safe contacts ({email}, {phone}): {messages}"
        )
    stays = [c for c in creations_of(api) if c.cleanup is None and counts.get(c.kind)]
    for creation in stays:
        lines.append(
            f"  cannot be undone through the API: {creation.kind} "
            f"(up to {counts[creation.kind]}): {creation.why}"
        )
    if messages:
        lines.append("  cannot be undone: an e-mail or SMS once sent")
    if api == "hcw" and counts.get("consultation"):
        lines.append(
            "  consultations are closed after the doctor accepts them: without "
            "TELECONFORM_HCW_SSO_SECRET a pending one stays"
        )
    if not live:
        lines.append("  (on the embedded sandbox: thrown away after the run)")
    return lines
