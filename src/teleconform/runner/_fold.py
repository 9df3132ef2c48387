"""Folding: a clause's outcomes into its verdict; ClauseResult and ApiRun."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from teleconform.catalogue import Clause
from teleconform.report.model import Advisory as AdvisoryEntry
from teleconform.report.model import ClauseEntry, Evidence, Verdict
from teleconform.runner._checks import describe_need
from teleconform.suite import Advisory, Outcome


@dataclass(slots=True)
class ClauseResult:
    """The folded verdict of one clause in one API run."""

    id: str
    api: str
    area: str
    level: str
    title: str
    verdict: str
    reason: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    waived: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    advisories: list[Advisory] = field(default_factory=list)
    # the error stands for a bug of teleconform (a check broke its declaration): exit 4
    internal: bool = False

    def to_json(self) -> ClauseEntry:
        data: ClauseEntry = {
            "id": self.id,
            "level": self.level,
            "title": self.title,
            "area": self.area,
            "verdict": cast(Verdict, self.verdict),
            "waived": self.waived,
            "reason": self.reason,
            "evidence": cast("list[Evidence]", self.evidence),
        }
        if self.measurements:
            data["measurements"] = self.measurements
        if self.advisories:
            data["advisories"] = [cast(AdvisoryEntry, a.to_json()) for a in self.advisories]
        if self.internal:
            data["internal_error"] = True
        return data


@dataclass(slots=True)
class ApiRun:
    """Everything one API's run produced."""

    api: str
    mode: str
    base_url: str
    clauses: list[ClauseResult]
    requests_sent: int = 0
    created: list[dict[str, Any]] = field(default_factory=list)
    cleanup_failures: list[dict[str, Any]] = field(default_factory=list)
    elapsed_s: float = 0.0
    # "SIGINT" or "SIGTERM" when the run was interrupted (its unfinished clauses are errors)
    interrupted: str = ""

    @property
    def verdicts(self) -> dict[str, str]:
        return {c.id: c.verdict for c in self.clauses}


def fold(outcomes: list[Outcome]) -> tuple[str, str]:
    """A clause's verdict and reason from its checks' outcomes (advisories never count)."""
    by = {v: [o for o in outcomes if o.verdict == v] for v in ("pass", "fail", "error", "skip")}
    if by["fail"]:
        return "fail", _join(by["fail"])
    if by["error"]:
        return "error", _join(by["error"])
    if not by["pass"]:
        return "skip", _join(by["skip"]) if by["skip"] else "not exercised by any check"
    return "pass", _join(by["pass"])


def _join(outcomes: list[Outcome], limit: int = 4) -> str:
    seen: list[str] = []
    for o in outcomes:
        if o.message not in seen:
            seen.append(o.message)
    text = "; ".join(seen[:limit])
    if len(seen) > limit:
        text += f"; (+{len(seen) - limit} more)"
    return text


def clause_results(
    api: str,
    clauses: Iterable[Clause],
    outcomes: Mapping[str, list[Outcome]],
    advisories: Mapping[str, list[Advisory]],
    measurements: Mapping[str, dict[str, Any]],
    skipped_for_needs: Mapping[str, list[str]],
) -> list[ClauseResult]:
    """The folded result of each selected clause (``clauses``: in catalogue order)."""
    results: list[ClauseResult] = []
    for clause in clauses:
        if clause.id in skipped_for_needs:
            needs = ", ".join(describe_need(n) for n in skipped_for_needs[clause.id])
            verdict, reason = "skip", f"needs {needs}"
            clause_outcomes: list[Outcome] = []
        else:
            clause_outcomes = outcomes[clause.id]
            verdict, reason = fold(clause_outcomes)
        internal = verdict == "error" and any(
            o.internal for o in clause_outcomes if o.verdict == "error"
        )
        evidence_list: list[dict[str, Any]] = []
        relevant = [o for o in clause_outcomes if o.verdict == verdict] or clause_outcomes
        for o in relevant:
            for item in o.evidence:
                if len(evidence_list) < 6:
                    evidence_list.append(item)
        results.append(
            ClauseResult(
                id=clause.id,
                api=api,
                area=clause.area,
                level=clause.level,
                title=clause.title,
                verdict=verdict,
                reason=reason,
                evidence=evidence_list,
                measurements=measurements.get(clause.id, {}),
                outcomes=clause_outcomes,
                advisories=[] if clause.id in skipped_for_needs else advisories[clause.id],
                internal=internal,
            )
        )
    return results
