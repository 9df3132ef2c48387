"""Consultation handlers of the HCW@Home sandbox: the patient's request, accept, close."""

from __future__ import annotations

import secrets

from starlette.responses import JSONResponse, Response

from teleconform.sandbox.hcw._auth import authenticate, require_role
from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._invites import destroy_invite
from teleconform.sandbox.hcw._render import (
    ApiError,
    anonymized,
    close_answer,
    consultation_json,
    not_found,
)
from teleconform.sandbox.hcw._store import Consultation
from teleconform.sandbox.hcw._validation import json_body, object_body

_TOO_EARLY_S = 600


async def request_consultation(ctx: Ctx) -> Response:
    """POST /api/v1/consultation {invitationToken}: the patient's pending consultation."""
    user = authenticate(ctx)
    require_role(user, {"patient"})
    data = object_body(await json_body(ctx))
    token = data.get("invitationToken")
    if not isinstance(token, str) or not token:
        raise ApiError(400, {"success": False, "error": "invitationToken is required"})
    invite = ctx.store.invite_by_token(token)
    if invite is None and ctx.reading("reuse_after_close") == "same-closed":
        closed = next(
            (
                c
                for c in ctx.store.consultations.values()
                if c.owner == user.id
                and c.status == "closed"
                and secrets.compare_digest(
                    c.invitation_token.encode(), token.encode("utf-8", "surrogatepass")
                )
            ),
            None,
        )
        if closed is not None:
            return JSONResponse(consultation_json(ctx, closed))
    if invite is None:
        raise ApiError(404, {"success": False, "error": "Invitation not found or already used"})
    if invite.id != user.invite_id:
        raise ApiError(403, {"error": "Forbidden"})
    existing = ctx.store.consultation_for(invite.id)
    if existing is not None and existing.status != "closed":
        return JSONResponse(consultation_json(ctx, existing))
    too_early = invite.scheduled_for - ctx.now_ms() > _TOO_EARLY_S * 1000
    if invite.scheduled_for and too_early and ctx.reading("patient_join") != "any-time":
        raise ApiError(403, {"success": False, "message": "Too early for consultation"})
    now_ms = ctx.now_ms()
    cons = Consultation(
        id=ctx.store.new_id(ctx.now()),
        invite=invite.id,
        created_at=now_ms,
        updated_at=now_ms,
        first_name=invite.first_name,
        last_name=invite.last_name,
        gender=invite.gender,
        invitation_token=invite.invite_token,
        owner=user.id,
        invited_by=invite.invited_by,
        doctor=invite.doctor,
        queue=invite.queue,
        scheduled_for=invite.scheduled_for,
    )
    ctx.store.consultations[cons.id] = cons
    ctx.store.consultation_of_invite[invite.id] = cons.id
    return JSONResponse(consultation_json(ctx, cons))


async def accept_consultation(ctx: Ctx) -> Response:
    """POST /api/v1/consultation/{id}/accept: the doctor makes it active."""
    user = authenticate(ctx)
    require_role(user, {"doctor", "admin"})
    cons = ctx.store.consultations.get(ctx.request.path_params["id"])
    if cons is None or not (cons.doctor == user.id or (cons.queue in user.queues)):
        raise not_found()
    if cons.status != "pending":
        raise ApiError(409, {"success": False, "error": f"Consultation is {cons.status}"})
    now_ms = ctx.now_ms()
    cons.status, cons.accepted_by, cons.accepted_at, cons.updated_at = (
        "active",
        user.id,
        now_ms,
        now_ms,
    )
    return JSONResponse({"message": "success"})


async def close_consultation(ctx: Ctx) -> Response:
    """POST /api/v1/invite/{id}/consultation/close: close it, destroy the invite."""
    user = authenticate(ctx)
    require_role(user, frozenset({"scheduler", "admin"}))
    invite_id = ctx.request.path_params["id"]
    store = ctx.store
    invite = store.invites.get(invite_id)
    cons = store.consultation_for(invite_id)
    if invite is not None:
        allowed = store.owns(user, invite)
    else:
        # Destroyed invite (closed, or deleted under a fault): the consultation decides.
        allowed = cons is not None and user.id in (cons.invited_by, cons.doctor)
    if ctx.on("unknown-id-500") and not ctx.store.well_formed_id(invite_id):
        raise ApiError(
            500, {"success": False, "message": f'Cast to ObjectId failed for value "{invite_id}"'}
        )
    if not allowed:
        raise not_found()
    if cons is None:
        if ctx.on("close-unused-500"):
            raise ApiError(
                500,
                {
                    "success": False,
                    "error": "Cannot read properties of undefined (reading 'status')",
                },
            )
        raise ApiError(404, {"success": False, "error": "Consultation not found"})
    pending_rule = ctx.reading("close_pending")
    if cons.status == "pending" and pending_rule != "allowed":
        status = int(pending_rule.removeprefix("refused-"))
        error = "Consultation not found" if status == 404 else "Consultation is not active yet"
        raise ApiError(status, {"success": False, "error": error})
    iso = ctx.on("close-iso-closedat")
    if cons.status == "closed":
        repeat = ctx.reading("repeat_close")
        if repeat == "anonymized-record":
            return JSONResponse(anonymized(cons))
        if repeat.startswith("refused-"):
            status = int(repeat.removeprefix("refused-"))
            raise ApiError(status, {"success": False, "error": "Consultation already closed"})
        return JSONResponse(close_answer(ctx, cons, iso=iso))
    before = cons.status
    now_ms = ctx.now_ms()
    cons.status, cons.closed_at, cons.updated_at = "closed", now_ms, now_ms
    if not ctx.on("reopen-after-close"):
        destroy_invite(ctx, invite_id)
    shown = before if ctx.on("close-not-closed") else None
    return JSONResponse(close_answer(ctx, cons, status=shown, iso=iso))
