"""`teleconform webhooks check URL`: LEAH-WH-02 against the integrator's receiver.

The document demands of the integrator: "Make sure your server can receive POST requests,
reads JSON format and always answers a 200 HTTP Code!". Each case below is a delivery Leah
may plausibly make; the receiver passes a case when it answers 200 within the time limit.
"""

from __future__ import annotations

import json
import random
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from teleconform._errors import EXIT_TARGET
from teleconform._version import __version__
from teleconform.report._document import now_rfc3339
from teleconform.report.model import ClauseEntry, Evidence, Verdict, WebhookCase
from teleconform.webhooks._report import (
    Gate,
    clause_entry,
    print_line,
    report_status,
    safe_url,
    verdict_label,
    webhook_report,
    write_report,
)
from teleconform.webhooks.events import EVENT_NAME

CLAUSE = "LEAH-WH-02"
PROG = "teleconform webhooks check"
DEFAULT_TIMEOUT_S = 10.0
UNKNOWN_EVENT = "appointment.teleconform.probe"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One case: a name, what it exercises, and the exact bytes delivered."""

    case: str
    description: str
    body: bytes


@dataclass(slots=True)
class CaseResult:
    """What the receiver did with one case."""

    case: str
    description: str
    verdict: Verdict  # pass | fail
    reason: str
    url: str
    body: bytes
    status: int | None = None
    elapsed_s: float | None = None
    response: httpx.Response | None = None

    def evidence(self) -> Evidence:
        """A report evidence entry (the deliveries are synthetic: nothing personal in them)."""
        return {
            "case": self.case,
            "verdict": self.verdict,
            "request": {
                "method": "POST",
                "url": safe_url(self.url),
                "headers": {"content-type": "application/json"},
                "body": self.body.decode("utf-8"),
            },
            "response": {
                "status": self.status,
                "elapsed_s": None if self.elapsed_s is None else round(self.elapsed_s, 3),
            },
            "note": self.reason,
        }


class ReceiverUnreachable(Exception):
    """The first delivery could not even connect: nothing about the receiver was learnt."""


Send = Callable[[bytes, float], httpx.Response]
"""Deliver a body (as a JSON POST) with a time limit and return the answer; raise on no answer."""


def _event(external_id: str, file_number: str | None, *, name: str = EVENT_NAME) -> dict[str, Any]:
    return {
        "event": name,
        "payload": {"externalId": external_id, "administrativeFileNumber": file_number},
    }


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def build_deliveries(token: str) -> list[Delivery]:
    """The LEAH-WH-02 cases, in delivery order. ``token`` keeps externalIds unique per run.

    Each case has its own externalId, so a receiver that deduplicates by externalId sees
    exactly one repeat: the ``repeat`` case, a byte-identical copy of ``object-payload``.
    """
    first = _dump(_event(f"teleconform-{token}-1", f"TC{token}1"))
    as_string = _event(f"teleconform-{token}-2", f"TC{token}2")
    as_string["payload"] = json.dumps(as_string["payload"], separators=(",", ":"))
    extra = _event(f"teleconform-{token}-5", f"TC{token}5")
    extra["id"] = f"evt_teleconform_{token}"
    extra["createdAt"] = "2021-04-25T13:15:00+00:00"
    extra["payload"]["status"] = "online"
    extra["payload"]["teleconformProbe"] = {"fields": ["added", "by", "the", "check"]}
    return [
        Delivery("object-payload", "well-formed event, payload as a JSON object", first),
        Delivery("repeat", "the object-payload delivery repeated byte for byte", first),
        Delivery(
            "string-payload",
            "well-formed event, payload as a JSON-encoded string (as the document prints it)",
            _dump(as_string),
        ),
        Delivery(
            "null-file-number",
            "well-formed event, administrativeFileNumber null (guest not pre-admitted)",
            _dump(_event(f"teleconform-{token}-3", None)),
        ),
        Delivery(
            "unknown-event",
            f"an event name the document does not list ({UNKNOWN_EVENT})",
            _dump(_event(f"teleconform-{token}-4", f"TC{token}4", name=UNKNOWN_EVENT)),
        ),
        Delivery("extra-fields", "well-formed event with undocumented extra fields", _dump(extra)),
    ]


def _root_httpx_error(exc: BaseException) -> BaseException:
    """The httpx exception behind ``exc`` (the engine wraps them), else ``exc`` itself."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, httpx.HTTPError | httpx.InvalidURL):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def failure_kind(exc: BaseException) -> str:
    """'connect' (no connection), 'timeout' (no answer in time) or 'other'."""
    root = _root_httpx_error(exc)
    if isinstance(root, httpx.ConnectError | httpx.ConnectTimeout):
        return "connect"
    if isinstance(root, httpx.TimeoutException):
        return "timeout"
    return "other"


def run_cases(
    url: str,
    send: Send,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    deliveries: Sequence[Delivery] | None = None,
    token: str = "0",
) -> list[CaseResult]:
    """Deliver every case in order; raises ReceiverUnreachable if the first cannot connect."""
    results: list[CaseResult] = []
    for index, delivery in enumerate(deliveries or build_deliveries(token)):
        result = CaseResult(delivery.case, delivery.description, "fail", "", url, delivery.body)
        started = time.monotonic()
        try:
            response = send(delivery.body, timeout_s)
        except Exception as exc:  # any transport failure is a finding about this case
            result.elapsed_s = time.monotonic() - started
            kind = failure_kind(exc)
            if kind == "connect" and index == 0:
                root = _root_httpx_error(exc)
                # The root error names the failure without the URL (which may hold a secret).
                raise ReceiverUnreachable(f"{type(root).__name__}: {root}") from exc
            if kind == "timeout":
                result.reason = f"no answer within {timeout_s:g} s"
            elif kind == "connect":
                result.reason = "connection refused or dropped (the receiver stopped answering)"
            else:
                result.reason = f"no HTTP answer ({type(_root_httpx_error(exc)).__name__})"
            results.append(result)
            continue
        result.elapsed_s = time.monotonic() - started
        result.status = response.status_code
        result.response = response
        if response.status_code != 200:
            result.reason = f"answered {response.status_code}; the document demands 200"
        elif result.elapsed_s > timeout_s:
            result.reason = (
                f"answered 200 only after {result.elapsed_s:.2f} s (limit {timeout_s:g} s)"
            )
        else:
            result.verdict = "pass"
            result.reason = f"answered 200 in {result.elapsed_s:.2f} s"
        results.append(result)
    return results


def httpx_sender(client: httpx.Client, url: str, headers: Mapping[str, str] | None = None) -> Send:
    """A Send that POSTs with ``client`` (no redirects followed: Leah expects a 200)."""
    base_headers = {
        "Content-Type": "application/json",
        "User-Agent": f"teleconform/{__version__} (webhooks check)",
        **dict(headers or {}),
    }

    def send(body: bytes, timeout_s: float) -> httpx.Response:
        response = client.post(url, content=body, headers=base_headers, timeout=timeout_s)
        return response

    return send


def clause_from_results(results: Sequence[CaseResult]) -> ClauseEntry:
    """The LEAH-WH-02 report entry folding every case."""
    failed = [r for r in results if r.verdict != "pass"]
    verdict: Verdict
    if failed:
        reason = "; ".join(f"{r.case}: {r.reason}" for r in failed)
        verdict = "fail"
    else:
        reason = f"all {len(results)} cases answered 200 in time"
        verdict = "pass"
    cases: list[WebhookCase] = [
        {
            "case": r.case,
            "description": r.description,
            "verdict": r.verdict,
            "reason": r.reason,
            "status": r.status,
            "elapsed_s": None if r.elapsed_s is None else round(r.elapsed_s, 3),
        }
        for r in results
    ]
    entry = clause_entry(
        CLAUSE,
        verdict,
        reason,
        [r.evidence() for r in results],
        {"cases_passed": len(results) - len(failed), "cases_total": len(results)},
    )
    entry["cases"] = cases
    return entry


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """A checked `webhooks check` command line (`teleconform.cli.webhooks` makes it)."""

    url: str
    report_dir: Path
    timeout_s: float = DEFAULT_TIMEOUT_S
    headers: Mapping[str, str] = field(default_factory=dict)
    seed: int | None = None
    verify: bool | ssl.SSLContext = True
    gate: Gate = Gate()


def check_command(settings: CheckSettings) -> int:
    """Deliver the cases, write the reports, print a line per case; the exit status."""
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
    token = f"{random.Random(seed).getrandbits(32):08x}"
    started_at = now_rfc3339()
    shown = safe_url(settings.url)
    with httpx.Client(verify=settings.verify, follow_redirects=False) as client:
        try:
            results = run_cases(
                settings.url,
                httpx_sender(client, settings.url, settings.headers),
                timeout_s=settings.timeout_s,
                token=token,
            )
        except ReceiverUnreachable as exc:
            print_line(
                f"{PROG}: cannot reach the receiver at {shown} ({exc}); "
                "check the URL, that the receiver is running, and proxy/TLS settings",
                err=True,
            )
            return EXIT_TARGET
    entry = clause_from_results(results)
    report = webhook_report(
        command="webhooks check",
        seed=seed,
        started_at=started_at,
        target={"mode": "live", "base_url": shown},
        entry=entry,
        gate=settings.gate,
    )
    write_report(report, settings.report_dir)
    for r in results:
        print_line(f"  {r.verdict:<4}  {r.case:<17} {r.reason}")
    print_line(
        f"{CLAUSE} {verdict_label(entry)}: {entry['reason']}; reports in {settings.report_dir}/"
    )
    return report_status(report, settings.gate)
