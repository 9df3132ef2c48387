"""Leah appointments: creation (LEAH-APT-01..04, LEAH-APT-09), rescheduling and cancelling
with merge-patch (LEAH-APT-05/06/07) and no way back from a cancellation (LEAH-APT-08).

Every appointment is booked with the safe contact data (TELECONFORM_SAFE_EMAIL/PHONE) in
January of next year, and cancelled by the cleanup. Times are sent in the documented form
``yyyy-mm-ddThh:mm:ss`` (UTC); one extra probe sends an explicit offset.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from teleconform.hydra import uuid_of_iri
from teleconform.suite import Context, clause

from ._common import (
    an_office_iri,
    appointment_body,
    as_utc,
    future_wall_time,
    json_body,
    parse_rfc3339,
    patch_appointment,
    post_appointment,
    register_appointment,
)

CREATED_OK = (200, 201)


def _body(response: httpx.Response) -> dict[str, Any]:
    body = json_body(response)
    return body if isinstance(body, dict) else {}


def _shape_problems(
    body: dict[str, Any], sent: dict[str, Any], status: str = "scheduled"
) -> list[str]:
    """What an Appointment answer lacks, per LEAH-APT-01 (startTime checked separately)."""
    problems = []
    context = body.get("@context")
    if not isinstance(context, str) or not context.endswith("/api/contexts/Appointment"):
        problems.append(f"@context is {context!r}")
    if uuid_of_iri(body.get("@id"), "appointments") is None:
        problems.append(f"@id {body.get('@id')!r} is not /api/appointments/<uuid>")
    if body.get("@type") != "Appointment":
        problems.append(f"@type is {body.get('@type')!r}")
    if body.get("status") != status:
        problems.append(f"status is {body.get('status')!r}, not {status!r}")
    for field in ("email", "phoneNumber"):
        if body.get(field) != sent[field]:
            problems.append(f"{field} is {body.get(field)!r}, not the value sent")
    return problems


def _start_problem(body: dict[str, Any], expected: datetime) -> str | None:
    """Why startTime is not ``expected`` written in UTC with +00:00, or None."""
    raw = body.get("startTime")
    parsed = parse_rfc3339(raw)
    if parsed is None or not isinstance(raw, str):
        return f"startTime {raw!r} is not an RFC 3339 date-time with offset"
    if parsed != expected:
        return f"startTime {raw!r} is not the instant {expected.isoformat()}"
    if not raw.endswith("+00:00"):
        return f"startTime {raw!r} is not written in UTC with +00:00"
    return None


# The most this module's checks create, per kind (requests that may create):
# each appointment may notify its patient at the safe contacts.
# `run --dry-run` adds these up; tests/live/test_footprint.py checks them.
FOOTPRINT = {"appointment": 10, "message": 10}


@clause("LEAH-APT-01", "LEAH-APT-09")
def create_appointment(ctx: Context) -> None:
    """A complete POST gives 201 and the Appointment; the naive startTime comes back as UTC."""
    if not ctx.writes_allowed:
        ctx.skips("LEAH-APT-01", "creating appointments needs --allow-writes")
        ctx.skips("LEAH-APT-09", "creating appointments needs --allow-writes")
        return
    office = an_office_iri(ctx)
    start = future_wall_time(ctx, 12, 10)
    sent = appointment_body(ctx, office, start)
    response = post_appointment(ctx, sent)
    body = _body(response)
    ctx.precondition(
        response.is_success and bool(body),
        "POST /api/appointments with every field succeeds",
        response,
    )
    problems = _shape_problems(body, sent)
    if response.status_code != 201:
        problems.insert(0, f"answered {response.status_code}, not 201")
    raw_start = body.get("startTime")
    if not (
        isinstance(raw_start, str)
        and raw_start.endswith("+00:00")
        and parse_rfc3339(raw_start) is not None
    ):
        problems.append(f"startTime {raw_start!r} is not written in UTC with +00:00")
    ctx.expect(
        "LEAH-APT-01",
        not problems,
        "; ".join(problems) or "201 with the Appointment, status scheduled, startTime in UTC",
        response,
    )
    problem = _start_problem(body, as_utc(start))
    ctx.expect(
        "LEAH-APT-09",
        problem is None,
        problem or f"{start} (no offset) came back as {raw_start}",
        response,
    )
    if isinstance(body.get("@id"), str):
        ctx.state["leah.appointment_iri"] = body["@id"]

    # The same instant sent with an explicit offset must come back converted to UTC.
    local = future_wall_time(ctx, 13, 11) + "+02:00"
    offset_body = appointment_body(ctx, office, local)
    response = post_appointment(ctx, offset_body)
    if response.status_code in (400, 422):
        ctx.passes(
            "LEAH-APT-01",
            f"an explicit offset ({local}) is refused: the documented format has none",
            response,
        )
        return
    body = _body(response)
    expected = datetime.fromisoformat(local)
    problem = (
        _start_problem(body, expected)
        if response.is_success
        else (f"answered {response.status_code} to a startTime with an offset")
    )
    ctx.expect(
        "LEAH-APT-01",
        problem is None,
        problem or f"{local} came back as {body.get('startTime')}",
        response,
    )


@clause("LEAH-APT-02")
def mandatory_fields(ctx: Context) -> None:
    """Leaving out any one of phoneNumber, email, office, startTime gets 400 or 422."""
    if not ctx.writes_allowed:
        ctx.skips("LEAH-APT-02", "probing appointment creation needs --allow-writes")
        return
    office = an_office_iri(ctx)
    complete = appointment_body(ctx, office, future_wall_time(ctx, 14, 9))
    for field in ("phoneNumber", "email", "office", "startTime"):
        body = {k: v for k, v in complete.items() if k != field}
        response = post_appointment(ctx, body)
        ctx.expect(
            "LEAH-APT-02",
            response.status_code in (400, 422),
            f"without {field}: {response.status_code}",
            response,
        )


@clause("LEAH-APT-03")
def external_id_accepted(ctx: Context) -> None:
    """externalId is accepted (and, when echoed, kept)."""
    if not ctx.writes_allowed:
        ctx.skips("LEAH-APT-03", "creating appointments needs --allow-writes")
        return
    office = an_office_iri(ctx)
    external = f"teleconform-{ctx.run_id}"
    response = post_appointment(
        ctx, appointment_body(ctx, office, future_wall_time(ctx, 15, 9), externalId=external)
    )
    body = _body(response)
    echoed = body.get("externalId", external)
    ctx.expect(
        "LEAH-APT-03",
        response.status_code in CREATED_OK and echoed == external,
        f"with externalId: {response.status_code}, externalId {echoed!r}",
        response,
    )


@clause("LEAH-APT-04")
def office_must_be_an_office(ctx: Context) -> None:
    """A malformed office IRI and the IRI of a missing office get 400 or 422."""
    if not ctx.writes_allowed:
        ctx.skips("LEAH-APT-04", "probing appointment creation needs --allow-writes")
        return
    nobody = str(uuid.UUID(int=ctx.random.getrandbits(128), version=4))
    for label, office in (
        ("a malformed office IRI", "no-such-office"),
        ("the IRI of an office that does not exist", f"/api/offices/{nobody}"),
    ):
        body = appointment_body(ctx, office, future_wall_time(ctx, 16, 9))
        response = post_appointment(ctx, body)
        ctx.expect(
            "LEAH-APT-04",
            response.status_code in (400, 422),
            f"{label}: {response.status_code}",
            response,
        )


def _new_appointment(ctx: Context, day: int) -> tuple[str, datetime, timedelta]:
    """Book one; returns its @id, the naive time sent (as UTC) and how the server shifted it
    (zero when it reads naive times as UTC; LEAH-APT-09 judges that, not these checks)."""
    start = future_wall_time(ctx, day, 10)
    response = post_appointment(ctx, appointment_body(ctx, an_office_iri(ctx), start))
    body = _body(response)
    iri = body.get("@id")
    returned = parse_rfc3339(body.get("startTime"))
    ctx.precondition(
        response.is_success and isinstance(iri, str) and returned is not None,
        "an appointment can be created to work on",
        response,
    )
    assert isinstance(iri, str) and returned is not None
    return iri, as_utc(start), returned - as_utc(start)


@clause("LEAH-APT-05", "LEAH-APT-06", "LEAH-APT-08")
def reschedule_cancel_and_no_way_back(ctx: Context) -> None:
    """PATCH a new startTime (200, same status), cancel (200, cancelled), then neither a new
    startTime nor status scheduled is accepted."""
    if not ctx.writes_allowed:
        for cid in ("LEAH-APT-05", "LEAH-APT-06", "LEAH-APT-08"):
            ctx.skips(cid, "changing appointments needs --allow-writes")
        return
    iri, _, shift = _new_appointment(ctx, 17)
    new_start = future_wall_time(ctx, 18, 9)
    response = patch_appointment(ctx, iri, {"startTime": new_start})
    body = _body(response)
    returned = parse_rfc3339(body.get("startTime"))
    expected = as_utc(new_start) + shift
    ctx.expect(
        "LEAH-APT-05",
        response.status_code == 200 and returned == expected and body.get("status") == "scheduled",
        f"reschedule to {new_start}: {response.status_code}, startTime "
        f"{body.get('startTime')!r}, status {body.get('status')!r}",
        response,
    )

    response = patch_appointment(ctx, iri, {"status": "cancelled"})
    body = _body(response)
    ctx.expect(
        "LEAH-APT-06",
        response.status_code == 200 and body.get("status") == "cancelled",
        f"cancel: {response.status_code}, status {body.get('status')!r}",
        response,
    )
    ctx.precondition(response.is_success, "the cancellation was accepted", response)

    later = future_wall_time(ctx, 19, 9)
    response = patch_appointment(ctx, iri, {"startTime": later})
    ctx.expect(
        "LEAH-APT-08",
        400 <= response.status_code < 500,
        f"rescheduling the cancelled appointment: {response.status_code}",
        response,
    )
    response = patch_appointment(ctx, iri, {"status": "scheduled"})
    ctx.expect(
        "LEAH-APT-08",
        400 <= response.status_code < 500,
        f"un-cancelling it (status scheduled): {response.status_code}",
        response,
    )


@clause("LEAH-APT-07")
def patch_needs_merge_patch(ctx: Context) -> None:
    """PATCH with Content-Type application/json is refused with 415."""
    if not ctx.writes_allowed:
        ctx.skips("LEAH-APT-07", "changing appointments needs --allow-writes")
        return
    iri = ctx.state.get("leah.appointment_iri")
    if not isinstance(iri, str):
        iri, _, _ = _new_appointment(ctx, 20)
    response = patch_appointment(
        ctx, iri, {"startTime": future_wall_time(ctx, 21, 9)}, content_type="application/json"
    )
    ctx.expect(
        "LEAH-APT-07",
        response.status_code == 415,
        f"PATCH as application/json: {response.status_code}",
        response,
    )
    if response.is_success:
        register_appointment(ctx, response)
