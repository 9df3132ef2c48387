"""The Leah client clauses (LEAH-CLIENT-01...06), judged exchange by exchange."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from teleconform.client._exchange import Exchange
from teleconform.client._rules import Judge
from teleconform.client._spec_check import SpecView

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
START_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|\+00:00)?$")
OFFICE_IRI_RE = re.compile(r"^/api/offices/[^/?#]+$")
WORKER_IRI_RE = re.compile(r"^/api/healthcare_workers/[^/?#]+$")
MAX_FILES = 10
MAX_FILE_BYTES = 15_000_000
KINDS = {  # extension -> what the content starts with
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "pdf": (b"%PDF-",),
}
FILTERS = {"listHealthcareWorkers": "email", "listOffices": "healthcareWorker.email"}

SKIP_REASONS = {
    "LEAH-CLIENT-01": "the client sent no request to the Leah API",
    "LEAH-CLIENT-02": "the client never created an appointment",
    "LEAH-CLIENT-03": "the client never rescheduled or cancelled an appointment",
    "LEAH-CLIENT-04": "the client never cancelled an appointment",
    "LEAH-CLIENT-05": "the client never created, filled or shared a document transfer",
    "LEAH-CLIENT-06": (
        "the client never looked a healthcare worker or an office up (with a filter or by paging)"
    ),
}


def iri_path(value: str) -> str:
    """The path of an IRI given absolute or relative."""
    return urlsplit(value).path if "://" in value else value


@dataclass
class _Transfer:
    files: int = 0
    shared: bool = False


@dataclass(frozen=True, slots=True)
class Part:
    """One multipart part: its field name, file name and content."""

    name: str | None
    filename: str | None
    content: bytes


@dataclass
class LeahRules:
    """State learnt from the exchanges, and the checks of each clause."""

    credentials: Mapping[str, str]
    offices: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    transfers: dict[str, _Transfer] = field(default_factory=dict)

    def observe(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        path = ex.path
        if not (path == "/api" or path.startswith("/api/")):
            return  # the sandbox's own test controls (/_sandbox/...) are not Leah's API
        has_key = bool((ex.header("leah-auth-token") or "").strip())
        judge(
            "LEAH-CLIENT-01",
            has_key,
            "LEAH-AUTH-TOKEN sent" if has_key else "no LEAH-AUTH-TOKEN header",
            ex,
        )
        op = spec.operation_id or ""
        appointment = _appointment_path(path)
        if appointment and appointment in self.cancelled:
            judge(
                "LEAH-CLIENT-04", False, "a request for an appointment the client had cancelled", ex
            )
        if op == "createAppointment":
            self._create_appointment(ex, spec, judge)
        elif op == "updateAppointment":
            self._update_appointment(ex, spec, judge, appointment)
        elif op == "createTransfer":
            self._create_transfer(ex, spec, judge)
        elif op == "uploadTransferFiles":
            self._upload(ex, judge)
        elif op == "shareTransfer":
            self._share(ex, spec, judge)
        elif op in FILTERS:
            self._lookup(ex, judge, FILTERS[op])
        self._learn(ex, op)

    def finish(self, judge: Judge) -> None:
        """Nothing waits for the end of the traffic on Leah."""

    def skip_reason(self, clause: str) -> str:
        return SKIP_REASONS.get(clause, "not exercised by the client's traffic")

    # ---- LEAH-CLIENT-02 ------------------------------------------------------------------
    def _create_appointment(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        problems: list[str] = []
        if ex.media_type() not in ("application/json", "application/ld+json"):
            problems.append(f"Content-Type is {ex.media_type() or 'missing'}, not application/json")
        body = ex.json_body()
        if not isinstance(body, dict):
            judge(
                "LEAH-CLIENT-02", False, "; ".join([*problems, "the body is not a JSON object"]), ex
            )
            return
        problems.extend(spec.body_errors)
        phone = body.get("phoneNumber")
        if not (isinstance(phone, str) and phone.strip()):
            problems.append("no phoneNumber")
        email = body.get("email")
        if not (isinstance(email, str) and EMAIL_RE.match(email)):
            problems.append("email is not an e-mail address")
        office = body.get("office")
        if not (isinstance(office, str) and OFFICE_IRI_RE.match(iri_path(office))):
            problems.append("office is not an office IRI (/api/offices/{id})")
        elif self.offices and iri_path(office) not in self.offices:
            problems.append("office is not one of the offices the client read from the server")
        start = body.get("startTime")
        if not (isinstance(start, str) and START_TIME_RE.match(start)):
            problems.append("startTime is not in the documented format yyyy-mm-ddThh:mm:ss (UTC)")
        if "externalId" in body and not isinstance(body["externalId"], str):
            problems.append("externalId is not a string")
        judge(
            "LEAH-CLIENT-02",
            not problems,
            "; ".join(dict.fromkeys(problems)) or "appointment creation as documented",
            ex,
        )

    # ---- LEAH-CLIENT-03 / 04 ---------------------------------------------------------------
    def _update_appointment(
        self, ex: Exchange, spec: SpecView, judge: Judge, appointment: str | None
    ) -> None:
        problems: list[str] = []
        if ex.media_type() != "application/merge-patch+json":
            problems.append(
                f"Content-Type is {ex.media_type() or 'missing'}, not application/merge-patch+json"
            )
        body = ex.json_body()
        cancel = False
        if not isinstance(body, dict):
            problems.append("the body is not a JSON object")
        elif set(body) == {"status"}:
            cancel = body["status"] == "cancelled"
            if not cancel:
                problems.append('a status change other than {"status": "cancelled"}')
        elif set(body) == {"startTime"}:
            start = body["startTime"]
            if not (isinstance(start, str) and START_TIME_RE.match(start)):
                problems.append(
                    "startTime is not in the documented format yyyy-mm-ddThh:mm:ss (UTC)"
                )
        else:
            problems.append(
                "the body is neither a reschedule ({startTime}) nor a cancel "
                '({"status": "cancelled"})'
                + (f": it holds {', '.join(sorted(body))}" if body else "")
            )
        judge(
            "LEAH-CLIENT-03",
            not problems,
            "; ".join(problems) or ("a cancel" if cancel else "a reschedule"),
            ex,
        )
        if cancel and ex.succeeded and appointment:
            self.cancelled.add(appointment)
            judge("LEAH-CLIENT-04", True, "cancelled; no later request for it", ex)

    # ---- LEAH-CLIENT-05 ------------------------------------------------------------------
    def _create_transfer(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        body = ex.json_body()
        worker = body.get("healthcareWorker") if isinstance(body, dict) else None
        ok = isinstance(worker, str) and bool(WORKER_IRI_RE.match(iri_path(worker)))
        problems = [] if ok else ["the transfer is not created with a healthcareWorker IRI"]
        judge("LEAH-CLIENT-05", not problems, "; ".join(problems) or "transfer created", ex)

    def _upload(self, ex: Exchange, judge: Judge) -> None:
        transfer = self.transfers.setdefault(_transfer_id(ex.path), _Transfer())
        problems: list[str] = []
        if transfer.shared:
            problems.append("an upload to a transfer that was already shared")
        if ex.media_type() != "multipart/form-data":
            problems.append(
                f"Content-Type is {ex.media_type() or 'missing'}, not multipart/form-data"
            )
            parts: list[Part] = []
        else:
            parts = list(multipart_parts(ex))
            if not parts:
                problems.append("no part in the upload")
        files = 0
        for part in parts:
            label = part.filename or part.name or "a part"
            if part.name != "file[]":
                problems.append(f"a part named {part.name!r}, not file[]")
                continue
            files += 1
            if len(part.content) > MAX_FILE_BYTES:
                problems.append(f"{label}: {len(part.content)} bytes, above 15 MB")
            problems.extend(_kind_problems(part, label))
        if transfer.files + files > MAX_FILES:
            problems.append(f"{transfer.files + files} files in one transfer, more than 10")
        judge(
            "LEAH-CLIENT-05",
            not problems,
            "; ".join(dict.fromkeys(problems)) or f"{files} file(s) uploaded as documented",
            ex,
        )
        if ex.succeeded:
            transfer.files += files

    def _share(self, ex: Exchange, spec: SpecView, judge: Judge) -> None:
        transfer = self.transfers.setdefault(_transfer_id(ex.path), _Transfer())
        problems = list(spec.body_errors)
        body = ex.json_body()
        email = body.get("email") if isinstance(body, dict) else None
        if not (isinstance(email, str) and EMAIL_RE.match(email)):
            problems.append("the share names no recipient e-mail address")
        if transfer.files == 0:
            problems.append("a share of a transfer without uploaded files")
        judge(
            "LEAH-CLIENT-05",
            not problems,
            "; ".join(dict.fromkeys(problems)) or "transfer shared",
            ex,
        )
        if ex.succeeded:
            transfer.shared = True

    # ---- LEAH-CLIENT-06 ------------------------------------------------------------------
    def _lookup(self, ex: Exchange, judge: Judge, filter_name: str) -> None:
        if ex.query_value(filter_name):
            judge("LEAH-CLIENT-06", True, f"looked up with the {filter_name} filter", ex)
            return
        page = ex.query_value("page") or "1"
        if page.isdigit() and int(page) >= 2:
            judge(
                "LEAH-CLIENT-06",
                False,
                f"walked the unfiltered collection to page {page} "
                f"instead of using the {filter_name} filter",
                ex,
            )

    # ---- what the answers teach ----------------------------------------------------------
    def _learn(self, ex: Exchange, op: str) -> None:
        if not ex.succeeded:
            return
        body = ex.response_json()
        for iri in _ids(body):
            if OFFICE_IRI_RE.match(iri_path(iri)):
                self.offices.add(iri_path(iri))
        if op == "createTransfer" and isinstance(body, dict):
            tid = body.get("id") or (str(body.get("@id", "")).rsplit("/", 1)[-1] or None)
            if tid is not None:
                self.transfers.setdefault(str(tid), _Transfer())


def _appointment_path(path: str) -> str | None:
    match = re.match(r"^/api/appointments/([^/]+)", path)
    return f"/api/appointments/{match.group(1)}" if match else None


def _transfer_id(path: str) -> str:
    match = re.match(r"^/api/transfers/([^/]+)", path)
    return match.group(1) if match else ""


def _ids(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("@id"), str):
            yield node["@id"]
        for value in node.values():
            yield from _ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _ids(value)


def _kind_problems(part: Part, label: str) -> list[str]:
    ext = (part.filename or "").rsplit(".", 1)[-1].lower() if "." in (part.filename or "") else ""
    by_content = next(
        (k for k, magics in KINDS.items() if any(part.content.startswith(m) for m in magics)), None
    )
    problems = []
    if ext not in KINDS:
        problems.append(f"{label}: not a .png, .jpg or .pdf file name")
    if by_content is None:
        problems.append(f"{label}: the content is not a PNG, JPEG or PDF")
    elif ext in KINDS and KINDS[ext] != KINDS[by_content]:
        problems.append(f"{label}: the name says {ext}, the content is {by_content}")
    return problems


def multipart_parts(ex: Exchange) -> Iterator[Part]:
    """The parts of a multipart/form-data request body."""
    match = re.search(r'boundary="?([^";]+)"?', ex.header("content-type") or "", re.IGNORECASE)
    if not match:
        return
    delimiter = b"--" + match.group(1).encode("latin-1")
    for chunk in ex.request_body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        text = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', text)
        filename = re.search(r'\bfilename="([^"]*)"', text)
        yield Part(
            name.group(1) if name else None, filename.group(1) if filename else None, content
        )
