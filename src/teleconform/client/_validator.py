"""The client validator: an observer of exchanges that judges the client-side clauses.

It is independent of where exchanges come from (the sandbox middleware, the pytest fixtures,
``teleconform proxy``): feed it every exchange in order with :meth:`ClientValidator.observe`;
it keeps the state it needs from the exchanges themselves (tokens the server issued, invites
created and their consultations, cancelled appointments, SSO tokens seen, transfers...).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from teleconform.catalogue import Clause, load_client_catalogue
from teleconform.client._exchange import Exchange
from teleconform.client._hcw_rules import HcwRules
from teleconform.client._leah_rules import LeahRules
from teleconform.client._rules import Judge, Rules
from teleconform.client._spec_check import shipped_spec, view
from teleconform.redact._evidence import PRE_REDACTION_LIMIT
from teleconform.report._document import clause_totals
from teleconform.traffic import Spec

if TYPE_CHECKING:
    from teleconform.runner import ClauseResult

APIS = ("hcw", "leah")
EVIDENCE_PER_CLAUSE = 3


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement of one clause on one exchange (or on the run as a whole)."""

    clause: str
    level: str
    verdict: str  # "pass" or "fail"
    message: str
    exchange: Exchange | None = None

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"

    def line(self) -> str:
        """``CLAUSE [LEVEL] message (METHOD PATH -> STATUS)``: the path redacted, no query."""
        where = ""
        if self.exchange is not None:
            from urllib.parse import urlsplit

            from teleconform.redact import Redactor

            ex = self.exchange
            path = urlsplit(Redactor().redact_url(ex.url)).path or "/"
            where = f" ({ex.method} {path} -> {ex.status})"
        return f"{self.clause} [{self.level}] {self.message}{where}"


def _rules_for(api: str, credentials: Mapping[str, str]) -> Rules:
    if api == "hcw":
        return HcwRules(credentials)
    return LeahRules(credentials)


class ClientValidator:
    """Judges the client clauses of one API on the exchanges it is fed.

    ``credentials``: the ``TELECONFORM_*`` values of the server the client talks to (the
    sandbox's seeded ones); ``TELECONFORM_HCW_SSO_SECRET`` lets HCW-CLIENT-06 check SSO
    signatures (without it only the algorithm and the claims are checked). ``spec`` and
    ``clauses`` default to the shipped spec and specs/client-clauses.yaml. Thread-safe.
    """

    def __init__(
        self,
        api: str,
        *,
        spec: Spec | None = None,
        clauses: Mapping[str, Clause] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"unknown api {api!r}")
        self.api = api
        self.spec = spec or shipped_spec(api)
        catalogue = clauses if clauses is not None else load_client_catalogue()
        self.clauses: dict[str, Clause] = {cid: c for cid, c in catalogue.items() if c.api == api}
        self._rules = _rules_for(api, dict(credentials or {}))
        self._lock = threading.Lock()
        self._findings: list[Finding] = []
        self._passed: set[str] = set()  # clauses whose first passing exchange is kept
        self.exchanges = 0

    # ---- feeding -----------------------------------------------------------------------
    def observe(self, exchange: Exchange) -> list[Finding]:
        """Judge one exchange; returns the findings it produced (passes and fails)."""
        produced: list[Finding] = []
        with self._lock:
            self.exchanges += 1
            self._rules.observe(exchange, view(self.spec, exchange), self._judge_into(produced))
            self._findings.extend(self._kept(f) for f in produced)
        return produced

    def _kept(self, finding: Finding) -> Finding:
        """What is stored of a finding: evidence shows one pass and the first fails per
        clause, and only the first kilobytes of a body, so a long session (15 MB uploads)
        does not keep every body in memory."""
        if finding.exchange is None:
            return finding
        if not finding.failed and finding.clause in self._passed:
            return replace(finding, exchange=None)
        if not finding.failed:
            self._passed.add(finding.clause)
        ex = finding.exchange
        if max(len(ex.request_body), len(ex.response_body)) <= PRE_REDACTION_LIMIT:
            return finding
        return replace(
            finding,
            exchange=replace(
                ex,
                request_body=ex.request_body[:PRE_REDACTION_LIMIT],
                response_body=ex.response_body[:PRE_REDACTION_LIMIT],
            ),
        )

    def _judge_into(self, out: list[Finding]) -> Judge:
        def judge(clause: str, ok: bool, message: str, exchange: Exchange | None) -> None:
            if clause not in self.clauses:
                return  # a clause the caller's catalogue leaves out
            level = self.clauses[clause].level
            out.append(Finding(clause, level, "pass" if ok else "fail", message, exchange))

        return judge

    # ---- reading -----------------------------------------------------------------------
    def mark(self) -> int:
        """A position in the findings, for :meth:`findings` ``since`` (per-test windows)."""
        with self._lock:
            return len(self._findings)

    def findings(self, since: int = 0, *, final: bool = True) -> list[Finding]:
        """Findings from position ``since`` on; with ``final``, plus the end-of-traffic ones."""
        with self._lock:
            found = list(self._findings[since:])
            if final:
                self._rules.finish(self._judge_into(found))
        return found

    def violations(self, since: int = 0, *, level: str | None = None) -> list[Finding]:
        """The failing findings (of one level when given), end-of-traffic ones included."""
        return [f for f in self.findings(since) if f.failed and (level is None or f.level == level)]

    def verdicts(self) -> dict[str, str]:
        """Clause id -> pass, fail or skip, from every finding so far."""
        return {entry["id"]: entry["verdict"] for entry in self.clause_entries(evidence=False)}

    def clause_entries(
        self, *, evidence: bool = True, redactor: Any = None
    ) -> list[dict[str, Any]]:
        """One report entry per clause (CONTRACT "Reports" clause shape), catalogue order.

        A clause with a failing finding is ``fail`` (its first failing exchanges as
        redacted evidence), one with passing findings only is ``pass``, and one the traffic
        never exercised is ``skip`` with the reason.
        """
        from teleconform.client._evidence import evidence_of

        found = self.findings()
        entries = []
        for cid, clause in self.clauses.items():
            mine = [f for f in found if f.clause == cid]
            fails = [f for f in mine if f.failed]
            if fails:
                verdict = "fail"
                reason = "; ".join(dict.fromkeys(f.message for f in fails[:EVIDENCE_PER_CLAUSE]))
                if len(fails) > EVIDENCE_PER_CLAUSE:
                    reason += f" (and {len(fails) - EVIDENCE_PER_CLAUSE} more)"
                shown = fails[:EVIDENCE_PER_CLAUSE]
            elif mine:
                verdict = "pass"
                reason = f"{len(mine)} request(s) checked"
                shown = mine[:1]
            else:
                verdict, reason, shown = "skip", self._rules.skip_reason(cid), []
            entry: dict[str, Any] = {
                "id": cid,
                "level": clause.level,
                "title": clause.title,
                "area": clause.area,
                "verdict": verdict,
                "waived": False,
                "reason": reason,
                "evidence": [],
            }
            if evidence:
                entry["evidence"] = evidence_of(
                    [f.exchange for f in shown if f.exchange is not None], redactor
                )
            entries.append(entry)
        return entries

    def results(self) -> list[ClauseResult]:
        """The clause verdicts as the runner's ClauseResult entries (redacted evidence)."""
        from teleconform.runner import ClauseResult

        return [
            ClauseResult(
                id=e["id"],
                api=self.api,
                area=e["area"],
                level=e["level"],
                title=e["title"],
                verdict=e["verdict"],
                reason=e["reason"],
                evidence=e["evidence"],
            )
            for e in self.clause_entries()
        ]

    def run_json(self, base_url: str, *, redactor: Any = None) -> dict[str, Any]:
        """This API's entry of a report's ``runs`` (``target.mode`` "client")."""
        clauses = self.clause_entries(redactor=redactor)
        totals = clause_totals(clauses)
        return {
            "api": self.api,
            "target": {"mode": "client", "base_url": base_url},
            "clauses": clauses,
            "totals": totals,
            "requests_seen": self.exchanges,
            "left_behind": [],
        }
