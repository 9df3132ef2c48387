"""Response bodies and errors of the HCW@Home sandbox: invites, consultations, error answers.

Shapes follow the HCW@Home 5.4.62 records; faults and readings that change a body (ISO dates,
a missing patientURL, the close answer's id field, the error shape) are applied here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._store import Consultation, Invite

_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
}


class ApiError(Exception):
    """An error answer: status and JSON body (``text``: what Sails' default response sends)."""

    def __init__(self, status: int, body: Any, text: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.text = text


def _error_text(body: Any, status: int) -> str:
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    if isinstance(body, list):
        texts = [str(item.get("message")) for item in body if isinstance(item, dict)]
        if texts:
            return "; ".join(texts)
    return _STATUS_TEXT.get(status, "Error")


def error_response(ctx: Ctx, status: int, body: Any, text: str | None = None) -> Response:
    """An error answer in the shape this app's reading and faults give."""
    if ctx.on("html-error-pages"):
        title = _STATUS_TEXT.get(status, "Error")
        return HTMLResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>", status)
    if text is not None and ctx.on("text-plain-errors"):
        return PlainTextResponse(text, status)
    shape = ctx.reading("error_shape")
    if shape == "success-false":
        body = {"success": False, "error": _error_text(body, status)}
    elif shape == "message":
        body = {"message": _error_text(body, status)}
    return JSONResponse(body, status)


def not_found() -> ApiError:
    """The 404 error answer."""
    return ApiError(404, {"error": "Not Found"}, text="Not Found")


def _ms_to_iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def invite_json(ctx: Ctx, invite: Invite) -> dict[str, Any]:
    """An invite as HCW@Home 5.4.62 serialises it."""
    created: Any = invite.created_at
    updated: Any = invite.updated_at
    if ctx.on("invite-iso-dates"):
        created, updated = _ms_to_iso(created), _ms_to_iso(updated)
    scheduled = invite.scheduled_for
    if ctx.on("scheduledfor-seconds"):
        scheduled //= 1000
    body: dict[str, Any] = {
        "id": invite.id,
        "createdAt": created,
        "updatedAt": updated,
        "firstName": invite.first_name,
        "lastName": invite.last_name,
        "gender": invite.gender,
        "phoneNumber": invite.phone_number,
        "emailAddress": invite.email_address,
        "status": invite.status,
        "scheduledFor": scheduled,
        "type": "PATIENT",
        "patientLanguage": invite.patient_language,
        "doctorLanguage": invite.doctor_language,
        "guestEmailAddress": "",
        "guestPhoneNumber": "",
        "patientTZ": invite.patient_tz,
        "queue": invite.queue,
        "invitedBy": invite.invited_by,
        "doctor": invite.doctor,
        "inviteToken": invite.invite_token,
        "patientInvite": None,
        "translationOrganization": None,
        "translator": None,
        "translatorRequestInvite": None,
        "translatorInvite": None,
        "guestInvite": None,
        "patientURL": f"{ctx.public_url}/inv/?invite={quote(invite.invite_token)}",
        "doctorURL": ctx.doctor_url,
    }
    if ctx.on("invite-missing-patienturl"):
        del body["patientURL"]
    return body


def consultation_json(
    ctx: Ctx, cons: Consultation, *, status: str | None = None, iso_closed: bool = False
) -> dict[str, Any]:
    """A consultation record (``status`` overrides the one shown)."""
    closed_at: Any = _ms_to_iso(cons.closed_at) if iso_closed and cons.closed_at else cons.closed_at
    body: dict[str, Any] = {
        "_id": cons.id,
        "id": cons.id,
        "queue": cons.queue,
        "gender": cons.gender,
        "IMADTeam": "none",
        "invitationToken": cons.invitation_token,
        "status": status or cons.status,
        "owner": cons.owner,
        "firstName": cons.first_name,
        "lastName": cons.last_name,
        "invitedBy": cons.invited_by,
        "doctor": cons.doctor,
        "invite": cons.invite,
        "createdAt": cons.created_at,
        "updatedAt": cons.updated_at,
        "birthDate": "",
        "type": "",
        "acceptedBy": cons.accepted_by,
        "translator": None,
        "guest": None,
        "acceptedAt": cons.accepted_at,
        "closedAt": closed_at,
        "patientRating": "",
        "patientComment": "",
        "doctorRating": "",
        "doctorComment": "",
        "flagPatientOnline": cons.status != "closed",
        "flagGuestOnline": False,
        "flagTranslatorOnline": False,
        "flagDoctorOnline": cons.status == "active",
        "scheduledFor": cons.scheduled_for,
    }
    if cons.status == "closed":
        body["duration"] = max(0, cons.closed_at - cons.accepted_at) if cons.accepted_at else 0
    return body


def close_answer(
    ctx: Ctx, cons: Consultation, *, status: str | None = None, iso: bool = False
) -> dict[str, Any]:
    """The closed consultation, with the id field(s) this app's reading names."""
    body = consultation_json(ctx, cons, status=status, iso_closed=iso)
    field = ctx.reading("close_id_field")
    if field != "both":
        del body["id" if field == "_id" else "_id"]
    return body


def anonymized(cons: Consultation) -> dict[str, Any]:
    """The statistics record HCW@Home answers a repeated close with (no status)."""
    return {
        "consultationId": cons.id,
        "invite": cons.invite,
        "IMADTeam": "none",
        "acceptedAt": cons.accepted_at,
        "closedAt": cons.closed_at,
        "consultationCreatedAt": cons.created_at,
        "createdAt": cons.created_at,
        "queue": cons.queue,
        "owner": cons.owner,
        "acceptedBy": cons.accepted_by,
        "doctor": cons.doctor,
        "invitedBy": cons.invited_by,
        "patientRating": "",
        "patientComment": "",
        "doctorRating": "",
        "doctorComment": "",
        "duration": max(0, cons.closed_at - cons.accepted_at) if cons.accepted_at else 0,
    }
