"""Check execution: one check's call, its exceptions as verdicts, and routing of what it
reports (a check reports only on the clauses of its ``@clause``)."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping

from teleconform.catalogue import Clause
from teleconform.runner._http import DeadlineReached, TransportError
from teleconform.runner._loading import CheckFunction
from teleconform.runner._needs import NEED_ENV
from teleconform.suite import (
    Advisory,
    Context,
    CredentialsRefused,
    NeedMissing,
    Outcome,
    PreconditionFailed,
)

log = logging.getLogger("teleconform")
_PROPERTY_LOCK = threading.Lock()


def missing_needs(clause: Clause, credentials: Mapping[str, str]) -> list[str]:
    """The needs of ``clause`` the credentials leave empty (the clause is then ``skip``)."""
    return [need for need in clause.needs if not credentials.get(need)]


def describe_need(need: str) -> str:
    """A need with where its value comes from, for a skip reason."""
    if need in NEED_ENV:
        return f"{need} ({NEED_ENV[need]})"
    if need.endswith(".allow_writes"):
        return f"{need} (--allow-writes)"
    if need == "leah.webhook_events":
        return f"{need} (--webhook-events FILE from `teleconform webhooks listen`)"
    if need == "leah.webhook_receiver":
        return f"{need} (`teleconform webhooks check URL`)"
    return need


class Routing:
    """Which clause ids the running check declared; what it reported outside them.

    A check may only report on the clauses of its ``@clause``: an outcome, measurement or
    advisory for any other id (a typo such as ``HCW-AUTH-1``) would otherwise be dropped and
    the clause it meant would read ``skip``. Such a check is a bug of teleconform.
    """

    def __init__(self) -> None:
        self.check: CheckFunction | None = None
        self.strays: list[str] = []

    def declared(self, cid: str) -> bool:
        """Whether the running check may report on ``cid`` (noted when it may not)."""
        if self.check is None or cid in self.check.clauses:
            return True
        if cid not in self.strays:
            self.strays.append(cid)
        return False


def run_check(
    ctx: Context,
    check: CheckFunction,
    outcomes: dict[str, list[Outcome]],
    record: Callable[[Outcome], None],
    routing: Routing,
    advisories: dict[str, list[Advisory]],
) -> None:
    """Run one check; a check that reported outside its ``@clause`` voids its own verdicts
    (internal error), and a declared clause it left undecided is ``error``."""
    before = {cid: len(outcomes.get(cid, [])) for cid in check.clauses}
    advised = {cid: len(advisories.get(cid, [])) for cid in check.clauses}

    def unresolved() -> list[str]:
        return [
            cid for cid in check.clauses if cid in outcomes and len(outcomes[cid]) == before[cid]
        ]

    routing.check, routing.strays = check, []
    try:
        _call_check(ctx, check, record, unresolved)
    finally:
        routing.check = None
    if routing.strays:
        strays = ", ".join(routing.strays)
        log.error(
            "check %s.%s reported on %s, which its @clause does not declare (%s)",
            check.module,
            check.name,
            strays,
            ", ".join(check.clauses),
        )
        message = (
            f"internal error: check {check.name} reported on {strays}, which it does not "
            f"declare (@clause {', '.join(check.clauses)}); its verdicts cannot be trusted "
            "(a bug in teleconform)"
        )
        for cid in check.clauses:
            if cid not in outcomes:
                continue
            # what this check said about its own clauses is void: the verdict is the bug
            del outcomes[cid][before[cid] :]
            if cid in advisories:
                del advisories[cid][advised[cid] :]
            record(Outcome(cid, "error", message, internal=True))
        return
    for cid in unresolved():
        record(Outcome(cid, "error", f"not decided by its check {check.name}"))


def _call_check(
    ctx: Context,
    check: CheckFunction,
    record: Callable[[Outcome], None],
    unresolved: Callable[[], list[str]],
) -> None:
    """Run one check; an exception gives its undecided clauses their verdict (error, skip)."""
    try:
        if check.module.endswith(".properties"):
            # Hypothesis (under schemathesis) is not thread-safe: one property run at a time.
            with _PROPERTY_LOCK:
                check.func(ctx)
        else:
            check.func(ctx)
    except NeedMissing as exc:
        for cid in unresolved():
            record(Outcome(cid, "skip", f"needs {describe_need(str(exc))}"))
    except PreconditionFailed as exc:
        message = str(exc.args[0]) if exc.args else "precondition failed"
        evidence = exc.args[1] if len(exc.args) > 1 else []
        for cid in unresolved():
            record(Outcome(cid, "error", f"precondition failed: {message}", list(evidence)))
    except TransportError as exc:
        for cid in unresolved():
            record(Outcome(cid, "error", str(exc)))
    except DeadlineReached as exc:
        for cid in unresolved():
            record(Outcome(cid, "error", str(exc)))
    except CredentialsRefused as exc:
        for cid in unresolved():
            record(Outcome(cid, "error", f"credentials refused: {exc}"))
    except Exception as exc:  # a check tripped over an unexpected answer or a bug of ours
        log.error("check %s.%s crashed:\n%s", check.module, check.name, traceback.format_exc())
        for cid in unresolved():
            record(
                Outcome(
                    cid,
                    "error",
                    f"check {check.name} could not finish: {type(exc).__name__}: {exc}",
                )
            )
