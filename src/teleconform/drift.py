"""A sandbox profile from a run's deviations (the command: ``teleconform drift``, ``cli/drift.py``).

Each failing clause of a run is mapped to the sandbox fault(s) that reproduce it. A fault is
a candidate only when every clause it declares failed in the run (choosing it must not make
the sandbox break a clause the target kept). Among candidates, the clause's reason and
evidence choose (e.g. HCW-AUTH-06 failing with 400 is ``wrong-creds-400``, with 404
``unknown-email-404``); then the fault covering more of the failing clauses wins. What no
fault can reproduce is listed under ``not_reproduced`` with the reason, never dropped.

Output (documented in ``--help``): with ``-o FILE.yaml`` and one API in the report, FILE.yaml;
with two APIs, FILE-hcw.yaml and FILE-leah.yaml; with ``-o DIR`` (an existing directory or a
path ending in ``/``), DIR/drift-<api>.yaml; without ``-o``, drift-<api>.yaml here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from teleconform.sandbox._faults import Fault

_REASON_CHARS = 300


def fault_tables() -> dict[str, dict[str, Fault]]:
    """The sandboxes' fault tables, by API."""
    from teleconform.sandbox import hcw, leah

    return {"hcw": dict(hcw.FAULTS), "leah": dict(leah.FAULTS)}


# Faults that stop everything past authentication: chosen only when nothing else explains
# the failures (a drifted sandbox that refuses its own key reproduces nothing else).
BLOCKING = frozenset({"valid-key-refused"})
# Clauses judged by generated (property) tests, which reach some deviations only at larger
# budgets: a fault may declare one of them without the run having seen it fail.
SOFT = frozenset({"HCW-GEN-04", "LEAH-GEN-01"})


# -- what the evidence says -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Observed:
    """One failing clause as the report shows it."""

    id: str
    reason: str
    statuses: tuple[int, ...]
    measurements: Mapping[str, Any]


Hint = Callable[[Observed], bool]


def _says(*patterns: str, unless: str = "") -> Hint:
    """The reason matches one of ``patterns`` (and not ``unless``)."""
    regex = re.compile("|".join(patterns), re.IGNORECASE)
    exclude = re.compile(unless, re.IGNORECASE) if unless else None
    return lambda o: bool(regex.search(o.reason)) and not (exclude and exclude.search(o.reason))


def _status(*codes: int) -> Hint:
    """The evidence shows one of ``codes``."""
    return lambda o: any(s in codes for s in o.statuses)


def _window(test: Callable[[float], bool]) -> Hint:
    def hint(o: Observed) -> bool:
        value = o.measurements.get("accepted_window_s")
        return isinstance(value, (int, float)) and test(float(value))

    return hint


_SECONDS = r"came back as (\d+), expected \1000\b"
_AUTH_MISSING = r"without LEAH-AUTH-TOKEN answered 2"

# (fault, clause) -> what in that clause's reason/evidence (as the suites word it) points to
# this fault rather than another breaking the same clauses. A hint that does not match counts
# against its fault; faults without a hint are chosen on coverage alone.
HINTS: dict[tuple[str, str], Hint] = {
    ("wrong-creds-400", "HCW-AUTH-06"): _status(400),
    ("unknown-email-404", "HCW-AUTH-06"): _status(404),
    ("sso-window-10min", "HCW-SSO-02"): _window(lambda s: s > 300),
    ("sso-window-1min", "HCW-SSO-02"): _window(lambda s: s < 300),
    ("sso-wrong-secret-accepted", "HCW-SSO-03"): _says(r"another key"),
    ("sso-tampered-accepted", "HCW-SSO-03"): _says(r"edited", unless=r"another key"),
    ("sso-alg-none-accepted", "HCW-SSO-03"): _says(r"alg\W+none", unless=r"another key|edited"),
    ("sso-no-email-accepted", "HCW-SSO-04"): _says(r"without e-?mail"),
    ("sso-no-timestamp-accepted", "HCW-SSO-04"): _says(r"without timestamp"),
    ("sso-future-accepted", "HCW-SSO-06"): _says(r"years", r"millisecond"),
    ("sso-skew-2h", "HCW-SSO-06"): _says(r"\+ ?1 ?h", unless=r"years|millisecond"),
    ("sso-nan-accepted", "HCW-SSO-06"): _says(r"non-numeric", unless=r"years|\+ ?1 ?h"),
    ("scheduledfor-seconds", "HCW-INV-04"): _says(_SECONDS),
    ("scheduledfor-local-time", "HCW-INV-04"): _says(r"came back as", unless=_SECONDS),
    ("queue-by-id-unsupported", "HCW-INV-07"): _says(r"by its id: 4"),
    ("queue-by-name-unsupported", "HCW-INV-07"): _says(r"by name: 4"),
    ("unknown-doctor-accepted", "HCW-INV-08"): _says(r"unknown doctor"),
    ("unknown-queue-accepted", "HCW-INV-08"): _says(r"unknown queue"),
    ("close-iso-closedat", "HCW-CONS-01"): _says(r"closedAt is '"),
    ("close-not-closed", "HCW-CONS-01"): _says(r"status is"),
    ("create-201", "HCW-INV-01"): _status(201),
    ("invite-iso-dates", "HCW-INV-01"): _says(r"(createdAt|updatedAt) is '"),
    ("malformed-json-500", "HCW-GEN-01"): _says(r"malformed JSON"),
    ("invalid-email-500", "HCW-GEN-01"): _says(r"not an e-?mail"),
    ("wrong-type-500", "HCW-GEN-01"): _says(r"wrong type"),
    ("no-auth-200", "HCW-GEN-02"): _says(r"without credentials", r"e\.g\. no token"),
    ("api-signature-unchecked", "HCW-GEN-02"): _says(r"another key", r"invalid credential"),
    ("no-auth-required", "LEAH-AUTH-01"): _says(_AUTH_MISSING),
    ("invalid-key-accepted", "LEAH-AUTH-01"): _says(
        r"wrong LEAH-AUTH-TOKEN answered 2", unless=_AUTH_MISSING
    ),
    ("unauthorized-with-data", "LEAH-AUTH-01"): _says(r"401 but with"),
    ("mixed-hydra-prefix", "LEAH-HYDRA-01"): _says(r"mixes"),
    ("collection-context-no-prefix", "LEAH-HYDRA-01"): _says(r"@context is"),
    ("collection-absolute-wrong-id", "LEAH-HYDRA-01"): _says(r"@id is"),
    ("collection-type-paged", "LEAH-HYDRA-01"): _says(r"PagedCollection"),
    ("member-not-array", "LEAH-HYDRA-01"): _says(r"member list is"),
    ("member-id-not-uuid", "LEAH-HYDRA-02"): _says(r"is not /api/"),
    ("member-type-schema-org", "LEAH-HYDRA-02"): _says(r"has @type"),
    ("total-items-missing", "LEAH-HYDRA-03"): _says(r"totalItems is absent"),
    ("total-items-string", "LEAH-HYDRA-03"): _says(r"not an integer"),
    ("total-items-page-count", "LEAH-HYDRA-03"): _says(r"totalItems \d+ but"),
    ("next-link-loops", "LEAH-HYDRA-04"): _says(r"loop"),
    ("duplicate-member-across-pages", "LEAH-HYDRA-04"): _says(r"appears again"),
    ("next-drops-filter", "LEAH-HYDRA-04"): _says(r"has parameters"),
    ("last-link-wrong", "LEAH-HYDRA-04"): _says(r"last link"),
    ("email-filter-ignored", "LEAH-HCW-02"): _says(r"other workers"),
    ("email-filter-unknown-returns-all", "LEAH-HCW-02"): _says(
        r"unknown address", unless=r"other workers"
    ),
    ("office-missing-slug", "LEAH-OFF-01"): _says(r"slug"),
    ("office-id-integer", "LEAH-OFF-01"): _says(r"id \d+ is not"),
    ("office-organization-embedded", "LEAH-OFF-01"): _says(r"organization \{"),
    ("office-createdat-no-offset", "LEAH-OFF-01"): _says(r"createdAt"),
    ("office-filter-empty", "LEAH-OFF-02"): _says(r"count 0 "),
    ("office-filter-ignored", "LEAH-OFF-02"): _says(r"unknown address", unless=r"count 0 "),
    ("appointment-200-not-201", "LEAH-APT-01"): _says(r"answered 200"),
    ("appointment-phone-not-echoed", "LEAH-APT-01"): _says(r"phoneNumber is"),
    ("missing-phone-accepted", "LEAH-APT-02"): _says(r"without phone"),
    ("missing-email-accepted", "LEAH-APT-02"): _says(r"without e-?mail"),
    ("missing-office-accepted", "LEAH-APT-02"): _says(r"without office"),
    ("missing-starttime-accepted", "LEAH-APT-02"): _says(r"without startTime"),
    ("bad-office-500", "LEAH-APT-04"): _status(500),
    ("unknown-office-accepted", "LEAH-APT-04"): _says(r"does not exist"),
    ("cancel-returns-204", "LEAH-APT-06"): _status(204),
    ("reschedule-after-cancel", "LEAH-APT-08"): _says(r"rescheduling the cancelled"),
    ("uncancel-accepted", "LEAH-APT-08"): _says(r"un-cancelling"),
    ("transfer-expiry-30d", "LEAH-TRF-01"): _says(r"expiresAt"),
    ("transfer-files-null", "LEAH-TRF-01"): _says(r"files is"),
    ("transfer-hcw-not-iri", "LEAH-TRF-01"): _says(r"healthcareWorker"),
    ("pdf-refused", "LEAH-TRF-02"): _status(422),
    ("upload-keeps-in-progress", "LEAH-TRF-02"): _says(r"in_progress"),
    ("upload-last-file-only", "LEAH-TRF-02"): _says(r"status 'ready'"),
    ("eleventh-file-accepted", "LEAH-TRF-03"): _says(r"on top of 9: 2"),
    ("refused-upload-drops-files", "LEAH-TRF-03"): _says(r"11th file: 2"),
    ("over-limit-partially-stored", "LEAH-TRF-03"): _says(
        r"10th file: 4", unless=r"on top of 9: 2"
    ),
    ("size-limit-ignored", "LEAH-TRF-04"): _status(200),
    ("size-limit-php-default", "LEAH-TRF-04"): _status(413, 422),
    ("gif-accepted", "LEAH-TRF-05"): _says(r"\.gif"),
    ("txt-accepted", "LEAH-TRF-05"): _says(r"\.txt"),
    ("exe-accepted", "LEAH-TRF-05"): _says(r"executable"),
    ("fake-pdf-accepted", "LEAH-TRF-05"): _says(r"not a PDF"),
    ("webhook-bad-event-name", "LEAH-WH-01"): _says(r"documented event is"),
    ("webhook-payload-missing-externalId", "LEAH-WH-01"): _says(r"externalId"),
}


def _observed(entry: Mapping[str, Any]) -> Observed:
    statuses = []
    for item in entry.get("evidence") or []:
        response = item.get("response") if isinstance(item, Mapping) else None
        status = response.get("status") if isinstance(response, Mapping) else None
        if isinstance(status, int):
            statuses.append(status)
    measurements = entry.get("measurements")
    return Observed(
        id=str(entry.get("id")),
        reason=str(entry.get("reason") or ""),
        statuses=tuple(statuses),
        measurements=measurements if isinstance(measurements, Mapping) else {},
    )


# -- choosing faults --------------------------------------------------------------------------
@dataclass(slots=True)
class Choice:
    fault: str
    clauses: list[str]
    evidence: str


@dataclass(slots=True)
class Drift:
    """The profile drifted from one API's run."""

    api: str
    name: str
    base_url: str
    choices: list[Choice] = field(default_factory=list)
    not_reproduced: list[dict[str, str]] = field(default_factory=list)

    @property
    def faults(self) -> list[str]:
        return [c.fault for c in self.choices]

    def profile(self, source: str = "") -> dict[str, Any]:
        """The profile document (the format of teleconform.sandbox._profiles)."""
        return {
            "api": self.api,
            "name": self.name,
            "base": "as-documented",
            "description": f"drifted from {source or 'a run report'} of {self.base_url}",
            "readings": {},
            "faults": self.faults,
            "evidence": {c.fault: c.evidence for c in self.choices},
            "not_reproduced": self.not_reproduced,
        }


def _hint_score(fault: str, observed: Mapping[str, Observed], clauses: set[str]) -> int:
    score = 0
    for cid in clauses:
        hint = HINTS.get((fault, cid))
        if hint is None:
            continue
        score += 1 if hint(observed[cid]) else -1
    return score


def _evidence_line(fault: Fault, observed: Mapping[str, Observed], alternatives: list[str]) -> str:
    parts = []
    for cid in sorted(fault.clauses & set(observed)):
        o = observed[cid]
        reason = o.reason if len(o.reason) <= _REASON_CHARS else o.reason[:_REASON_CHARS] + "…"
        shown = f"{cid} failed: {reason}"
        if o.statuses:
            shown += f" (statuses {', '.join(str(s) for s in o.statuses[:3])})"
        parts.append(shown)
    line = "; ".join(parts)
    if alternatives:
        line += f" [the evidence does not tell it from: {', '.join(alternatives)}]"
    return line


def _rank(
    name: str, fault: Fault, failing: Mapping[str, Observed], uncovered: set[str]
) -> tuple[int, int, int, str]:
    """Evidence first, then fewest unseen clauses, then the most failing clauses covered."""
    covered = fault.clauses & uncovered
    soft = len(fault.clauses - set(failing))
    return (-_hint_score(name, failing, set(covered)), soft, -len(covered), name)


def choose_faults(
    failing: Mapping[str, Observed], faults: Mapping[str, Fault]
) -> tuple[list[Choice], dict[str, str]]:
    """Faults reproducing the failing clauses, and the clauses none reproduces (with why)."""
    failed = set(failing)
    # A fault may also declare a property-test clause the run did not see fail: generated
    # cases reach some deviations only at larger budgets (the fault tables say so).
    usable = {
        n: f
        for n, f in faults.items()
        if f.clauses and f.clauses & failed and f.clauses - failed <= SOFT
    }
    uncovered = set(failed)
    choices: list[Choice] = []
    while uncovered:
        candidates = [n for n, f in usable.items() if f.clauses & uncovered]
        if not candidates:
            break
        normal = [n for n in candidates if n not in BLOCKING]
        pool = normal or candidates
        pool.sort(key=lambda name: _rank(name, usable[name], failing, uncovered))
        best = pool[0]
        chosen = usable[best]
        best_rank = _rank(best, chosen, failing, uncovered)
        # Alternatives the evidence could not tell apart from the choice (same clauses, same
        # hint score): named, so a reader knows the choice was arbitrary among them.
        same = [
            n
            for n in pool[1:]
            if usable[n].clauses == chosen.clauses
            and _rank(n, usable[n], failing, uncovered)[:3] == best_rank[:3]
        ]
        line = _evidence_line(chosen, failing, same)
        unseen = sorted(chosen.clauses - failed)
        if unseen:
            line += (
                f" [also declares {', '.join(unseen)}, which this run's generated cases "
                "did not see fail]"
            )
        uncovered -= chosen.clauses
        choices.append(Choice(best, sorted(chosen.clauses & failed), line))
        del usable[best]
    reasons: dict[str, str] = {}
    for cid in sorted(uncovered):
        declaring = sorted(n for n, f in faults.items() if cid in f.clauses)
        if not declaring:
            reasons[cid] = "no sandbox behaviour reproduces this clause's deviation"
        else:
            extra = sorted({c for n in declaring for c in faults[n].clauses} - failed)
            reasons[cid] = (
                f"the sandbox faults that break it ({', '.join(declaring)}) also break "
                f"{', '.join(extra)}, which did not fail in this run"
            )
    return choices, reasons


def drift_run(run: Mapping[str, Any], faults: Mapping[str, Fault], when: str = "") -> Drift:
    """The drift of one API's run entry of a report."""
    api = str(run.get("api"))
    target = run.get("target")
    if not isinstance(target, Mapping):
        target = {}
    failing = {
        str(c.get("id")): _observed(c)
        for c in run.get("clauses") or []
        if isinstance(c, Mapping) and c.get("verdict") == "fail"
    }
    choices, reasons = choose_faults(failing, faults)
    stamp = re.sub(r"[^0-9]", "", when)[:8]
    drift = Drift(
        api,
        f"drift-{api}" + (f"-{stamp}" if stamp else ""),
        str(target.get("base_url") or ""),
        choices,
    )
    drift.not_reproduced = [{"clause": cid, "reason": why} for cid, why in reasons.items()]
    return drift


def drift_report(report: Mapping[str, Any]) -> list[Drift]:
    """One Drift per API run in the report (client-mode runs judge a client: none)."""
    tables = fault_tables()
    runs = report.get("runs")
    if not isinstance(runs, list):
        raise ValueError("not a teleconform report (no runs)")
    out = []
    for run in runs:
        if not isinstance(run, Mapping) or run.get("api") not in tables:
            continue
        target = run.get("target")
        if isinstance(target, Mapping) and target.get("mode") == "client":
            continue
        out.append(drift_run(run, tables[str(run["api"])], str(report.get("finished_at") or "")))
    return out


# -- files ------------------------------------------------------------------------------------
def output_paths(output: str | None, apis: Sequence[str]) -> dict[str, Path]:
    """Where each API's profile goes (see the module docstring)."""
    if output is None:
        return {api: Path(f"drift-{api}.yaml") for api in apis}
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir():
        return {api: path / f"drift-{api}.yaml" for api in apis}
    if len(apis) == 1:
        return {apis[0]: path}
    suffix = path.suffix or ".yaml"
    return {api: path.with_name(f"{path.stem}-{api}{suffix}") for api in apis}


def write_profile(drift: Drift, path: Path, source: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(drift.profile(source), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")
