"""Invite handlers of the HCW@Home sandbox: list, create, get, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from teleconform.sandbox.hcw._auth import authenticate, require_role, token_candidates
from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._render import ApiError, invite_json, not_found
from teleconform.sandbox.hcw._store import Invite, User
from teleconform.sandbox.hcw._validation import (
    DOCUMENTED_INVITE_FIELDS,
    check_common,
    json_body,
    object_body,
    parse_scheduled_for,
    refuse_unknown_fields,
    resolve_refs,
)

_INVITER_ROLES = frozenset({"scheduler", "doctor", "admin"})


def lookup_invite(ctx: Ctx, user: User | None) -> Invite:
    """The invite of the path's id that ``user`` may see, or ApiError 404."""
    invite_id = ctx.request.path_params["id"]
    if ctx.on("unknown-id-500") and not ctx.store.well_formed_id(invite_id):
        raise ApiError(
            500, {"success": False, "message": f'Cast to ObjectId failed for value "{invite_id}"'}
        )
    invite = ctx.store.invites.get(invite_id)
    if invite is None or (user is not None and not ctx.store.owns(user, invite)):
        raise not_found()
    return invite


async def list_invites(ctx: Ctx) -> Response:
    """GET /api/v1/invite?limit&skip: the caller's invites, as a bare array."""
    user = authenticate(ctx)
    require_role(user, _INVITER_ROLES)
    params = ctx.request.query_params
    try:
        limit = int(params.get("limit", ctx.page_size))
        skip = int(params.get("skip", 0))
    except ValueError as exc:
        raise ApiError(400, {"success": False, "error": "limit and skip must be integers"}) from exc
    if limit < 0 or skip < 0:
        raise ApiError(400, {"success": False, "error": "limit and skip must not be negative"})
    mine = [inv for inv in ctx.store.invites.values() if ctx.store.owns(user, inv)]
    return JSONResponse([invite_json(ctx, inv) for inv in mine[skip : skip + limit]])


async def create_invite(ctx: Ctx) -> Response:
    """POST /api/v1/invite: a patient invite, answered with its patientURL."""
    user = authenticate(ctx)
    require_role(user, _INVITER_ROLES)
    data = object_body(await json_body(ctx))
    refuse_unknown_fields(ctx, data, DOCUMENTED_INVITE_FIELDS)
    if data.get("isPatientInvite") is not True:
        raise ApiError(
            400,
            {"success": False, "error": "isPatientInvite must be true for a patient invitation"},
        )
    check_common(ctx, data)
    # The guide lists firstName, lastName and gender without requiring them (HCW@Home
    # itself requires all three); gender, when given, must be male or female.
    missing: list[dict[str, str]] = []
    has_contact = bool(data.get("emailAddress") or data.get("phoneNumber"))
    if ctx.on("phone-only-rejected") and not data.get("emailAddress"):
        missing.append({"message": "emailAddress is required"})
    elif not has_contact and not ctx.on("no-contact-accepted"):
        missing.append({"message": "emailAddress or phoneNumber are required"})
    if missing:
        raise ApiError(400, missing)
    scheduled = parse_scheduled_for(ctx, data.get("scheduledFor"))
    refs = resolve_refs(ctx, data)
    doctor = refs.get("doctor")
    if user.role == "doctor" and "doctor" not in refs:
        doctor = user.id
    if user.role == "scheduler" and not data.get("doctorEmail") and not data.get("queue"):
        raise ApiError(400, {"success": False, "error": "doctorEmail or queue is required."})
    now_ms = ctx.now_ms()
    invite = Invite(
        id=ctx.store.new_id(ctx.now()),
        created_at=now_ms,
        updated_at=now_ms,
        first_name=data.get("firstName") or "",
        last_name=data.get("lastName") or "",
        gender=data.get("gender") or "",
        phone_number=data.get("phoneNumber") or "",
        email_address=data.get("emailAddress") or "",
        scheduled_for=scheduled,
        patient_language=(data.get("language") or "en").lower(),
        doctor_language=data.get("doctorLanguage") or "",
        patient_tz=data.get("patientTZ") or "",
        queue=refs.get("queue"),
        doctor=doctor,
        invited_by=user.id,
        invite_token=ctx.store.new_token(),
        # Schedulers (and everyone here) default to not sending: the link is returned.
        sent=data.get("sendInvite") is True,
    )
    ctx.store.invites[invite.id] = invite
    status = 201 if ctx.on("create-201") else 200
    return JSONResponse({"success": True, "invite": invite_json(ctx, invite)}, status)


async def get_invite(ctx: Ctx) -> Response:
    """GET /api/v1/invite/{id}."""
    public = ctx.on("no-auth-200") and not token_candidates(ctx)
    user = None if public else authenticate(ctx)
    if user is not None:
        require_role(user, _INVITER_ROLES)
    invite = lookup_invite(ctx, user)
    body = invite_json(ctx, invite)
    if ctx.on("get-mongo-id"):
        body = {"_id": body.pop("id"), **body}
    if ctx.reading("get_invite_shape") == "enveloped":
        body = {"success": True, "invite": body}
    return JSONResponse(body)


async def update_invite(ctx: Ctx) -> Response:
    """PATCH /api/v1/invite/{id}: change fields (not once the patient accepted)."""
    user = authenticate(ctx)
    require_role(user, _INVITER_ROLES)
    invite = lookup_invite(ctx, user)
    data = object_body(await json_body(ctx))
    refuse_unknown_fields(ctx, data, DOCUMENTED_INVITE_FIELDS)
    if invite.status == "ACCEPTED":
        raise ApiError(
            400, {"success": False, "error": "Can't edit Invite has been accepted by patient"}
        )
    check_common(ctx, data)
    changes: dict[str, Any] = {}
    if "scheduledFor" in data:
        changes["scheduled_for"] = parse_scheduled_for(ctx, data["scheduledFor"])
    refs = resolve_refs(ctx, data)
    email = data.get("emailAddress", invite.email_address) or ""
    phone = data.get("phoneNumber", invite.phone_number) or ""
    if not email and not phone:
        raise ApiError(400, [{"message": "emailAddress or phoneNumber are required"}])
    fields = {
        "firstName": "first_name",
        "lastName": "last_name",
        "gender": "gender",
        "language": "patient_language",
        "doctorLanguage": "doctor_language",
        "patientTZ": "patient_tz",
    }
    changes |= {attr: data[key] for key, attr in fields.items() if data.get(key) is not None}
    changes |= {"email_address": email, "phone_number": phone}
    changes |= refs
    if not ctx.on("patch-ignored"):
        for attr, value in changes.items():
            setattr(invite, attr, value)
        invite.updated_at = ctx.now_ms()
    return JSONResponse({"success": True, "invite": invite_json(ctx, invite)})


async def delete_invite(ctx: Ctx) -> Response:
    """DELETE /api/v1/invite/{id}: refused once a consultation was requested."""
    user = authenticate(ctx)
    require_role(user, _INVITER_ROLES)
    invite = lookup_invite(ctx, user)
    if ctx.store.consultation_for(invite.id) and not ctx.on("delete-after-consultation-allowed"):
        raise ApiError(
            ctx.reading("refused_delete_status"),
            {
                "success": False,
                "error": "The patient requested a consultation: "
                "the invitation can no longer be deleted",
            },
        )
    body = invite_json(ctx, invite)
    if not ctx.on("delete-noop"):
        destroy_invite(ctx, invite.id)
    return JSONResponse(body)


def destroy_invite(ctx: Ctx, invite_id: str) -> None:
    """Remove an invitation (and, on that reading, its temporary patient accounts)."""
    ctx.store.invites.pop(invite_id, None)
    if ctx.reading("patient_accounts_removed") == "with-invite":
        for patient in ctx.store.patients_of(invite_id):
            del ctx.store.users[patient.id]
