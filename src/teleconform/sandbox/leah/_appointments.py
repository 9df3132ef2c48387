"""Appointment handlers of the Leah sandbox: create, get, patch (merge-patch; cancel)."""

from __future__ import annotations

from starlette.responses import Response

from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._render import (
    LOCKED,
    NO_SUCH_CHOICE,
    NOT_BLANK,
    Violation,
    appointment_node,
    error,
    invalid,
    jsonld,
)
from teleconform.sandbox.leah._store import Appointment
from teleconform.sandbox.leah._validation import (
    JSON_TYPES,
    MERGE_PATCH,
    contact_violations,
    future_violation,
    json_object,
    negotiate,
    parse_start,
    require_content_type,
    resolve_iri,
    string_field,
)


def find_appointment(ctx: Ctx) -> Appointment:
    """The appointment of the path's id, or a 404 Reject."""
    appt = ctx.state.appointments.get(ctx.request.path_params["id"])
    if appt is None:
        raise error(ctx, 404, "Not Found")
    return appt


async def create_appointment(ctx: Ctx) -> Response:
    """POST /api/appointments: 201 with the new appointment."""
    authenticate(ctx)
    negotiate(ctx)
    require_content_type(ctx, JSON_TYPES)
    body = await json_object(ctx)
    if ctx.on("externalId-rejected") and "externalId" in body:
        raise error(ctx, 400, 'Extra attributes are not allowed ("externalId" is unknown).')
    email = string_field(ctx, body, "email")
    phone = string_field(ctx, body, "phoneNumber")
    external_id = string_field(
        ctx, body, "external_id" if ctx.on("externalId-rejected") else "externalId"
    )
    office_id: str | None = None
    if body.get("office") is not None:
        office = resolve_iri(
            ctx,
            body["office"],
            "office",
            "offices",
            ctx.state.offices_by_id.get,
            allow_unknown=ctx.on("unknown-office-accepted"),
            crash_on_malformed=ctx.on("bad-office-500"),
        )
        office_id = office.id if office is not None else str(body["office"]).rsplit("/", 1)[-1]
    start = None
    if body.get("startTime") is not None:
        start = parse_start(ctx, body["startTime"])

    violations: list[Violation] = []
    blank = "This value should not be blank."
    for name, value, fault in (
        ("phoneNumber", phone, "missing-phone-accepted"),
        ("email", email, "missing-email-accepted"),
        ("office", office_id, "missing-office-accepted"),
        ("startTime", start, "missing-starttime-accepted"),
    ):
        if value in (None, "") and fault not in ctx.faults:
            violations.append(Violation(name, blank, NOT_BLANK))
    violations += contact_violations(email, phone)
    if start is not None:
        violations += future_violation(ctx, start)
    if violations:
        raise invalid(ctx, *violations)

    appt = Appointment(
        id=ctx.state.new_id(),
        seq=ctx.state.next_seq(),
        status="scheduled",
        start=start,
        email=email,
        phone=phone,
        office_id=office_id,
        external_id=external_id,
        created_at=ctx.now(),
    )
    ctx.state.add_appointment(appt)
    iri = f"/api/appointments/{appt.id}"
    status = 200 if ctx.on("appointment-200-not-201") else 201
    return jsonld(
        ctx,
        appointment_node(ctx, appt),
        status=status,
        headers={"location": iri, "content-location": iri},
    )


async def get_appointment(ctx: Ctx) -> Response:
    """GET /api/appointments/{id}."""
    authenticate(ctx)
    negotiate(ctx)
    appt = find_appointment(ctx)
    return jsonld(ctx, appointment_node(ctx, appt), headers={"accept-patch": MERGE_PATCH})


async def appointment_item(ctx: Ctx) -> Response:
    """GET or PATCH /api/appointments/{id} (one route, so 405 lists both)."""
    if ctx.request.method == "PATCH":
        return await patch_appointment(ctx)
    return await get_appointment(ctx)


async def patch_appointment(ctx: Ctx) -> Response:
    """PATCH /api/appointments/{id} (merge-patch): reschedule, edit, cancel."""
    authenticate(ctx)
    negotiate(ctx)
    appt = find_appointment(ctx)
    allowed: tuple[str, ...] = (MERGE_PATCH,)
    if ctx.on("patch-json-accepted"):
        allowed = (MERGE_PATCH, "application/json")
    require_content_type(ctx, allowed)
    body = await json_object(ctx)
    email = string_field(ctx, body, "email")
    phone = string_field(ctx, body, "phoneNumber")
    external_id = string_field(ctx, body, "externalId")
    status = string_field(ctx, body, "status")
    office_id = appt.office_id
    if body.get("office") is not None:
        office_id = resolve_iri(
            ctx, body["office"], "office", "offices", ctx.state.offices_by_id.get
        ).id
    start = None
    if body.get("startTime") is not None:
        start = parse_start(ctx, body["startTime"])

    if appt.status == "cancelled":
        uncancel = "status" in body and status != "cancelled"
        reschedule = "startTime" in body
        others = any(k in body for k in ("email", "phoneNumber", "office", "externalId"))
        if (
            (uncancel and not ctx.on("uncancel-accepted"))
            or (reschedule and not ctx.on("reschedule-after-cancel"))
            or others
        ):
            raise invalid(
                ctx,
                Violation(
                    "status",
                    "This appointment has been cancelled and can no longer be modified.",
                    LOCKED,
                ),
            )

    violations: list[Violation] = []
    blank = "This value should not be blank."
    for name in ("startTime", "email", "phoneNumber", "status"):
        if name in body and body[name] in (None, ""):
            violations.append(Violation(name, blank, NOT_BLANK))
    if status not in (None, "", "scheduled", "cancelled"):
        violations.append(
            Violation("status", "The value you selected is not a valid choice.", NO_SUCH_CHOICE)
        )
    violations += contact_violations(email, phone)
    if start is not None:
        violations += future_violation(ctx, start)
    if violations:
        raise invalid(ctx, *violations)

    with ctx.state.lock:
        if start is not None and not ctx.on("patch-ignored"):
            appt.start = start
        if email:
            appt.email = email
        if phone:
            appt.phone = phone
        if "externalId" in body:
            appt.external_id = external_id
        appt.office_id = office_id
        if status == "cancelled" and not ctx.on("cancel-ignored"):
            appt.status = "cancelled"
            # "permanently deleted": gone after this answer, unless a fault keeps it editable
            if ctx.reading("cancelled_appointment") == "deleted" and not ctx.faults & {
                "reschedule-after-cancel",
                "uncancel-accepted",
            }:
                ctx.state.remove_appointment(appt.id)
        elif status == "scheduled":
            appt.status = "scheduled"
    if status == "cancelled" and ctx.on("cancel-returns-204"):
        return Response(status_code=204)
    return jsonld(ctx, appointment_node(ctx, appt))
