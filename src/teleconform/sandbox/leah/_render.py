"""How the Leah sandbox writes its answers, API Platform style: JSON-LD bodies and errors.

The resources' bodies (workers, offices, appointments, transfers) are built here, with the
faults that change them; the spelling and error format come from the app's ``Dialect``
(``_context``); Hydra collections are in ``_collections``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from teleconform.sandbox.leah._context import Ctx, Dialect
from teleconform.sandbox.leah._store import Appointment, HealthcareWorker, Office, Transfer

LD_JSON = "application/ld+json; charset=utf-8"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
PLAIN_JSON = "application/json"
HYDRA_ERROR_LINK = '<http://www.w3.org/ns/hydra/error>; rel="http://www.w3.org/ns/json-ld#error"'

# Symfony constraint codes, so violation lists look like the real thing.
NOT_BLANK = "c1051bb4-d103-4f74-8988-acbcafc7fdc3"
INVALID_EMAIL = "bd79c0ab-ddba-46cc-a703-a7a4b08de310"
INVALID_PHONE = "ca23f4ca-38f4-4325-9bcc-eb570a4abe7f"
GREATER_THAN = "778b7ae0-84d3-481a-9dec-35fdb64b1d78"
NO_SUCH_CHOICE = "8e179f1b-97aa-4560-a02f-2a8b42e49df7"
TOO_LARGE = "df8637af-d466-48c6-a59d-e7126250a654"
INVALID_MIME = "744f00bc-4389-4c74-92de-9a43cde55534"
TOO_MANY = "756b1212-697c-468d-a9ad-50dd783bb169"
LOCKED = "7911c98d-b845-4da0-94b7-a8dac36bc55a"


def encode(data: Any, *, escape: bool = True) -> bytes:
    """JSON as API Platform's encoder writes it: escaped slashes and HTML characters
    (``escape=False``: plain JSON, as most other encoders write it).

    The replaced characters can only occur inside JSON strings, so the substitutions are safe.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if not escape:
        return text.encode("utf-8")
    for raw, escaped in (
        ("/", "\\/"),
        ("<", "\\u003C"),
        (">", "\\u003E"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
    ):
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


def jsonld(
    ctx: Ctx, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON-LD response, escaped as the profile's encoder does."""
    return Response(
        encode(data, escape=ctx.dialect.escape),
        status_code=status,
        headers={"content-type": LD_JSON, **(headers or {})},
    )


class Reject(Exception):
    """Stop handling a request with this response (bad input, missing auth...)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def error(ctx: Ctx, status: int, message: str, headers: dict[str, str] | None = None) -> Reject:
    """A generic error answer to raise (see ``error_response``)."""
    return Reject(error_response(ctx.dialect, status, message, headers))


def invalid(ctx: Ctx, *violations: Violation) -> Reject:
    """A 422 answer with these constraint violations, to raise."""
    return Reject(violations_response(ctx.dialect, violations))


def error_response(
    dialect: Dialect, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A generic API Platform error (400, 404, 405, 406, 415, 500...)."""
    h = dialect.key
    if not dialect.problem:
        body: dict[str, Any] = {
            "@context": "/api/contexts/Error",
            "@type": h("Error"),
            h("title"): "An error occurred",
            h("description"): message,
        }
        return Response(
            encode(body, escape=dialect.escape),
            status_code=status,
            headers={"content-type": LD_JSON, **(headers or {})},
        )
    body = {
        "@context": "/api/contexts/Error",
        "@id": f"/api/errors/{status}",
        "@type": h("Error"),
        "title": "An error occurred",
        "detail": message,
        "status": status,
        "type": f"/errors/{status}",
        "description": message,
    }
    if dialect.prefixed:  # 3.4 RFC 7807 mode: no @context, both spellings of the text
        del body["@context"]
        body.update({"hydra:title": "An error occurred", "hydra:description": message})
    return Response(
        encode(body, escape=dialect.escape),
        status_code=status,
        headers={"content-type": PROBLEM_JSON, "link": HYDRA_ERROR_LINK, **(headers or {})},
    )


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    message: str
    code: str


def violations_response(dialect: Dialect, violations: Sequence[Violation]) -> Response:
    """422 with the constraint violation list."""
    description = "\n".join(f"{v.path}: {v.message}" for v in violations)
    items = [{"propertyPath": v.path, "message": v.message, "code": v.code} for v in violations]
    h = dialect.key
    if not dialect.problem:
        body: dict[str, Any] = {
            "@context": "/api/contexts/ConstraintViolationList",
            "@type": "ConstraintViolationList",
            h("title"): "An error occurred",
            h("description"): description,
            "violations": items,
        }
        return Response(
            encode(body, escape=dialect.escape), status_code=422, headers={"content-type": LD_JSON}
        )
    code = violations[0].code if violations else NOT_BLANK
    body = {
        "@context": "/api/contexts/ConstraintViolation",
        "@id": f"/api/validation_errors/{code}",
        "@type": "ConstraintViolation",
        "status": 422,
        "violations": items,
        "detail": description,
        "description": description,
        "title": "An error occurred",
        "type": f"/validation_errors/{code}",
    }
    if dialect.prefixed:
        # 3.2-3.4 in RFC 7807 mode: the old type name, no @context, both spellings of the text
        del body["@context"]
        body["@type"] = "ConstraintViolationList"
        body.update({"hydra:title": "An error occurred", "hydra:description": description})
    return Response(
        encode(body, escape=dialect.escape),
        status_code=422,
        headers={"content-type": PROBLEM_JSON, "link": HYDRA_ERROR_LINK},
    )


def unrouted_response(dialect: Dialect, request: Request, exc: HTTPException) -> Response:
    """The answer to a request no route takes (404, 405) or another HTTP exception."""
    method_url = f"{request.method} {request.url}"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f'No route found for "{method_url}": Method Not Allowed (Allow: {allowed})'
    elif exc.status_code == 404:
        message = f'No route found for "{method_url}"'
    else:
        message = str(exc.detail)
    return error_response(dialect, exc.status_code, message, dict(exc.headers or {}))


def paris_offset(instant: datetime) -> timedelta:
    """Europe/Paris UTC offset (EU rule: summer time from the last Sunday of March, 01:00 UTC,
    to the last Sunday of October, 01:00 UTC). Hand-written so no tz database is needed."""

    def last_sunday(month: int) -> datetime:
        day = datetime(instant.year, month, 31, 1, tzinfo=UTC)
        return day - timedelta(days=(day.weekday() + 1) % 7)

    utc = instant.astimezone(UTC)
    summer = last_sunday(3) <= utc < last_sunday(10)
    return timedelta(hours=2 if summer else 1)


def rfc3339(instant: datetime, offset: timedelta = timedelta(0)) -> str:
    """PHP's DATE_RFC3339: seconds precision and a numeric offset (never Z)."""
    local = instant.astimezone(timezone(offset))
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def worker_iri(ctx: Ctx, worker: HealthcareWorker) -> str:
    """A worker's IRI (its sequence number under a fault)."""
    ident = str(worker.seq) if ctx.on("member-id-not-uuid") else worker.id
    return f"/api/healthcare_workers/{ident}"


def worker_node(ctx: Ctx, worker: HealthcareWorker) -> dict[str, Any]:
    """A healthcare worker as a JSON-LD node."""
    node: dict[str, Any] = {
        "@id": worker_iri(ctx, worker),
        "@type": "HealthcareWorker",
        "firstname": worker.firstname,
        "lastname": worker.lastname,
        "email": worker.email,
        "currentOrganization": f"/api/organizations/{ctx.state.seed.organization_id}",
    }
    if ctx.on("hcw-missing-email"):
        del node["email"]
    return node


def office_node(ctx: Ctx, office: Office) -> dict[str, Any]:
    """An office as a JSON-LD node."""
    organization: Any = f"/api/organizations/{ctx.state.seed.organization_id}"
    if ctx.on("office-organization-embedded"):
        organization = {"@id": organization, "@type": "Organization", "name": "Sandbox clinic"}
    node: dict[str, Any] = {
        "@id": f"/api/offices/{office.id}",
        "@type": "https://schema.org/Place" if ctx.on("member-type-schema-org") else "Office",
        "id": office.seq if ctx.on("office-id-integer") else office.id,
        "slug": office.slug,
        "organization": organization,
        "features": [f"/api/features/{f}" for f in office.features],
        "createdAt": (
            office.created_at.strftime("%Y-%m-%d %H:%M:%S")
            if ctx.on("office-createdat-no-offset")
            else rfc3339(office.created_at)
        ),
        "currentMeeting": None,
    }
    if ctx.on("office-missing-slug"):
        del node["slug"]
    return ctx.dialect.strip_nulls(node)


def appointment_node(ctx: Ctx, appt: Appointment) -> dict[str, Any]:
    """An appointment as a JSON-LD document."""
    start = None
    if appt.start is not None:
        offset = paris_offset(appt.start) if ctx.on("startTime-not-utc") else timedelta(0)
        start = rfc3339(appt.start, offset)
    status = appt.status
    if status == "scheduled" and ctx.on("appointment-status-pending"):
        status = "pending"
    node: dict[str, Any] = {
        "@context": "/api/contexts/Appointment",
        "@id": f"/api/appointments/{appt.id}",
        "@type": "Appointment",
        "status": status,
        "startTime": start,
        "email": appt.email,
        "phoneNumber": None if ctx.on("appointment-phone-not-echoed") else appt.phone,
        "office": f"/api/offices/{appt.office_id}" if appt.office_id else None,
        "externalId": appt.external_id,
    }
    # Appointment has a merge-patch PATCH, so even 2.x skips its null values.
    return ctx.dialect.strip_nulls(node, merge_patch_resource=True)


def transfer_node(ctx: Ctx, transfer: Transfer) -> dict[str, Any]:
    """A transfer as a JSON-LD document."""
    worker = ctx.state.workers_by_id[transfer.worker_id]
    files: list[str] | None = [f"/api/transfer_files/{f.id}" for f in transfer.files]
    if not files and ctx.on("transfer-files-null"):
        files = None
    status = transfer.status
    if status == "ready" and ctx.on("upload-keeps-in-progress"):
        status = "in_progress"
    node: dict[str, Any] = {
        "@context": "/api/contexts/Transfer",
        "@id": f"/api/transfers/{transfer.id}",
        "@type": "Transfer",
        "id": transfer.id,
        "hash": transfer.hash,
        "expiresAt": rfc3339(transfer.expires_at),
        "healthcareWorker": worker.id
        if ctx.on("transfer-hcw-not-iri")
        else worker_iri(ctx, worker),
        "status": status,
        "files": files,
        "type": "healthcare_worker",
        "email": None,
        "firstname": None,
        "lastname": None,
    }
    return ctx.dialect.strip_nulls(node)
