"""HCW@Home reference sandbox: a stateful, in-memory Starlette app of the documented API.

It satisfies every clause of the ``hcw`` catalogue and mirrors the shapes of HCW@Home
5.4.62 where the guide is silent. Decisions where the guide leaves room:

* Authentication: the access JWT is read from ``x-access-token`` (documented) and from
  ``Authorization: Bearer`` (what HCW@Home >= 5.3.56 reads). Cookies are set at login
  (``token=<JWT>``) but never read, so a client's cookie jar cannot authorize a request.
* Errors are always JSON: 400 malformed request, 401 ``{"error": "Unauthorized"}``, 403
  ``{"error": "Forbidden"}`` (wrong role), 404 ``{"error": "Not Found"}``, 409 for a state
  conflict, 415 for a body that is not JSON. Nothing answers 5xx unless a fault asks for it.
* Wrong credentials at login-local get 401 (the guide's "401 : unauthorized request").
* Deleting an invite whose patient requested a consultation is refused with 409 and the
  invite stays (the guide's rule; the real backend deletes it).
* Closing (``POST /api/v1/invite/{id}/consultation/close``) works on an *active*
  consultation only, as on the real backend: a pending one gets 409 "Consultation is not
  active yet" and the doctor must accept it first (``POST /api/v1/consultation/{id}/accept``,
  doctor token from SSO). Closing destroys the invitation (as the real backend does): a
  repeated close answers 200 with the closed consultation, GET/DELETE on the invite give
  404, and the patient can no longer request a consultation with it. An invite without any
  consultation gets 404 "Consultation not found".
* SSO (``GET|POST /api/v1/external-auth-callback?token=JWT&returnUrl=URL``): HS256/384/512
  with the shared secret; ``timestamp`` must be a JSON number of seconds with
  ``0 <= now - timestamp <= 300`` (up to 30 s in the future is tolerated for clock skew);
  ``email`` must be an existing doctor's. Unknown e-mails are *not* provisioned and other
  roles cannot sign in this way (401): auto-provisioning is what lets a scheduler's e-mail
  become a duplicate doctor on the real backend. A token works once (tracked by ``jti``
  and by the token string). ``returnUrl`` is kept only as a same-site path.
  Success: 302 to ``<doctor URL>/app?tk=<access JWT>`` with a short text body.
* Invite fields follow the guide: ``isPatientInvite`` must be ``true``; phoneNumber or
  emailAddress (a valid address) is required; firstName, lastName and gender are optional
  (HCW@Home requires them) but gender, when given, is male or female; language is two
  characters; a scheduler names doctorEmail or queue (queue by name or id); unknown ones
  get 400. ``scheduledFor`` accepts an ISO 8601 string (offset-less strings are read as
  UTC) or epoch milliseconds as a JSON number, and must not be in the past. sendInvite
  defaults to false and nothing is ever sent; patientURL carries the link.
* The patient side (undocumented, as on HCW@Home): ``POST /api/v1/login-invite
  {inviteToken}`` gives a patient JWT, ``POST /api/v1/consultation {invitationToken}`` with
  it requests the consultation (pending; repeated calls return the same one).

The decisions above are the defaults of the *readings* (``READINGS``, _hcw_profiles.py): a
profile (``create_app(profile=NAME|FILE|Profile)``, ``PROFILES``) takes another legitimate
reading where the guide leaves room (enveloped GET, the status of a refused DELETE or close,
the close answer's id field, a repeated close, the patient after close, unknown fields, the
auth header, the login JWT's place, the SSO answer and skew, error bodies, id format,
temporary patient accounts), or reproduces a real release (``hcw-athome-5.4.62``).

Faults (``FAULTS``) switch on realistic deviations, for the whole app or per request with
the header ``X-Teleconform-Fault: name[,name]``; a profile's faults are always on.

Test control: ``GET /_sandbox/inventory`` (and ``inventory(app)``) lists what was created
since start: invites, consultations with their status, temporary patient accounts.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from teleconform.sandbox._faults import FAULT_HEADER, check_fault_names, parse_fault_header
from teleconform.sandbox._profiles import Profile, resolve_profile
from teleconform.sandbox.hcw import _auth as tokens
from teleconform.sandbox.hcw._faults import FAULTS
from teleconform.sandbox.hcw._profiles import PROFILES, READINGS
from teleconform.sandbox.hcw._store import (
    APP_SECRET,
    DOCTOR_EMAIL,
    QUEUE_NAME,
    REFRESH_SECRET,
    SCHEDULER_EMAIL,
    SCHEDULER_PASSWORD,
    SSO_SECRET,
    Consultation,
    Invite,
    Store,
    User,
)

__all__ = ["CREDENTIALS", "FAULTS", "PROFILES", "READINGS", "create_app", "inventory"]

CREDENTIALS: dict[str, str] = {
    "TELECONFORM_HCW_EMAIL": SCHEDULER_EMAIL,
    "TELECONFORM_HCW_PASSWORD": SCHEDULER_PASSWORD,
    "TELECONFORM_HCW_DOCTOR_EMAIL": DOCTOR_EMAIL,
    "TELECONFORM_HCW_QUEUE": QUEUE_NAME,
    "TELECONFORM_HCW_SSO_SECRET": SSO_SECRET,
}

Clock = Callable[[], float]
Handler = Callable[[Request], Awaitable[Response]]

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_STRING_FIELDS = (
    "firstName",
    "lastName",
    "gender",
    "phoneNumber",
    "emailAddress",
    "language",
    "doctorEmail",
    "queue",
    "doctorLanguage",
    "patientTZ",
)
_GENDERS = frozenset({"male", "female"})
_MODEL_GENDERS = frozenset({"male", "female", "other", "unknown"})
_INVITER_ROLES = frozenset({"scheduler", "doctor", "admin"})
_TOO_EARLY_S = 600
# The creation fields the guide lists ("Invite creation on behalf of doctor", "... assigned to a
# queue"); the update refers to the creation. A server reading unknown_fields=refused knows no
# other.
_DOCUMENTED_INVITE_FIELDS = frozenset(
    {
        "phoneNumber",
        "emailAddress",
        "scheduledFor",
        "language",
        "doctorEmail",
        "firstName",
        "lastName",
        "gender",
        "isPatientInvite",
        "sendInvite",
        "queue",
    }
)
_DOCUMENTED_LOGIN_FIELDS = frozenset({"email", "password"})
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


class _Ctx:
    """Per-request view: the app state plus the faults active for this request."""

    def __init__(
        self,
        request: Request,
        store: Store,
        clock: Clock,
        faults: frozenset[str],
        doctor_url: str | None,
        public_url: str | None,
        page_size: int,
        readings: dict[str, Any],
    ) -> None:
        self.request = request
        self.store = store
        self.readings = readings
        self.faults = faults | parse_fault_header(request.headers.get(FAULT_HEADER), FAULTS)
        self._clock = clock
        base = str(request.base_url).rstrip("/")
        self.doctor_url = (doctor_url or base).rstrip("/")
        self.public_url = (public_url or base).rstrip("/")
        self.page_size = page_size

    def on(self, fault: str) -> bool:
        return fault in self.faults

    def reading(self, name: str) -> Any:
        return self.readings[name]

    def now(self) -> float:
        return self._clock()

    def now_ms(self) -> int:
        return int(self._clock() * 1000)


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


def _error_response(ctx: _Ctx, status: int, body: Any, text: str | None = None) -> Response:
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


# ---------------------------------------------------------------------------- helpers


async def _json_body(ctx: _Ctx) -> Any:
    raw = await ctx.request.body()
    if not raw:
        # body-parser's special case: an empty body is {}; whitespace alone is a strict-mode
        # syntax error (400), like any other non-JSON
        return {}
    ctype = ctx.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise ApiError(415, {"success": False, "error": "Content-Type must be application/json"})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        if ctx.on("malformed-json-500"):
            raise ApiError(
                500,
                {
                    "success": False,
                    "message": str(exc),
                    "error": {"status": 400, "type": "entity.parse.failed"},
                },
            ) from exc
        raise ApiError(400, {"success": False, "error": "Malformed JSON body"}) from exc


def _object_body(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ApiError(400, {"success": False, "error": "The body must be a JSON object"})
    return value


def _refuse_unknown_fields(ctx: _Ctx, data: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown and ctx.reading("unknown_fields") == "refused":
        raise ApiError(400, {"success": False, "error": f"Unknown field(s): {', '.join(unknown)}"})


def _token_candidates(ctx: _Ctx) -> list[str]:
    found: list[str] = []
    auth = ctx.request.headers.get("authorization")
    if ctx.reading("access_token_headers") == "x-access-token":
        auth = None  # the documented header only
    if auth is not None:
        found.append(auth[7:].strip() if auth.startswith("Bearer ") else "")
    xat = ctx.request.headers.get("x-access-token")
    if xat is not None and not ctx.on("bearer-only"):
        found.append(xat.strip())
    return found


def _authenticate(ctx: _Ctx) -> User:
    unauthorized = ApiError(401, {"error": "Unauthorized"})
    candidates = _token_candidates(ctx)
    if not candidates:
        raise unauthorized
    for token in candidates:
        try:
            user_id = tokens.verify_access(
                token, APP_SECRET, ctx.now(), check_signature=not ctx.on("api-signature-unchecked")
            )
        except tokens.MalformedToken as exc:
            if ctx.on("malformed-token-500"):
                raise ApiError(500, {"success": False, "message": "jwt malformed"}) from exc
            continue
        user = ctx.store.users.get(user_id) if user_id else None
        if user is not None:
            return user
    raise unauthorized


def _require_role(user: User, roles: Iterable[str]) -> None:
    if user.role not in roles:
        raise ApiError(403, {"error": "Forbidden"}, text="Forbidden")


def _not_found() -> ApiError:
    return ApiError(404, {"error": "Not Found"}, text="Not Found")


def _lookup_invite(ctx: _Ctx, user: User | None) -> Invite:
    invite_id = ctx.request.path_params["id"]
    if ctx.on("unknown-id-500") and not ctx.store.well_formed_id(invite_id):
        raise ApiError(
            500, {"success": False, "message": f'Cast to ObjectId failed for value "{invite_id}"'}
        )
    invite = ctx.store.invites.get(invite_id)
    if invite is None or (user is not None and not ctx.store.owns(user, invite)):
        raise _not_found()
    return invite


def _ms_to_iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _invite_json(ctx: _Ctx, invite: Invite) -> dict[str, Any]:
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


def _consultation_json(
    ctx: _Ctx, cons: Consultation, *, status: str | None = None, iso_closed: bool = False
) -> dict[str, Any]:
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


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _parse_scheduled_for(ctx: _Ctx, value: Any) -> int:
    """Epoch ms of scheduledFor (0 = unscheduled), or ApiError 400."""
    invalid = ApiError(400, {"success": False, "error": "ScheduledFor is not a valid date"})
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise invalid
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 0 <= value < 253402300800000:
            raise invalid
        ms = int(value)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise invalid from exc
        if moment.tzinfo is None or ctx.on("scheduledfor-local-time"):
            moment = moment.replace(tzinfo=UTC)
        try:
            ms = int(moment.timestamp() * 1000)
        except (OverflowError, ValueError) as exc:
            raise invalid from exc
    else:
        raise invalid
    if ms < ctx.now_ms():
        raise ApiError(400, {"success": False, "error": "Consultation Time cannot be in the past"})
    return ms


def _check_types(ctx: _Ctx, data: dict[str, Any]) -> None:
    # null is a wrong type too: the API describes these fields as strings, not nullable ones
    wrong = [k for k in _STRING_FIELDS if k in data and not isinstance(data[k], str)]
    if data.get("sendInvite") is not None and not isinstance(data["sendInvite"], bool):
        wrong.append("sendInvite")
    if wrong:
        if ctx.on("wrong-type-500"):
            raise ApiError(500, {"error": True})
        raise ApiError(400, [{"message": f"{k} has an invalid type"} for k in wrong])


def _check_gender(ctx: _Ctx, gender: str) -> None:
    if ctx.on("gender-unchecked-500"):
        if gender not in _MODEL_GENDERS:
            raise ApiError(500, {"error": True})
        return
    allowed = _MODEL_GENDERS if ctx.on("gender-other-accepted") else _GENDERS
    if gender not in allowed:
        raise ApiError(400, [{"message": "gender must be either male or female"}])


def _check_email(ctx: _Ctx, email: str) -> None:
    if email and not _EMAIL_RE.match(email):
        if ctx.on("invalid-email-500"):
            raise ApiError(500, {"error": True})
        raise ApiError(400, [{"message": "emailAddress must be a valid e-mail address"}])


def _resolve_refs(ctx: _Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """doctorEmail and queue of a create or update, resolved to ids."""
    found: dict[str, Any] = {}
    doctor_email = data.get("doctorEmail")
    if doctor_email:
        doctor = ctx.store.user_by_email(doctor_email, frozenset({"doctor", "admin"}))
        if doctor is None and not ctx.on("unknown-doctor-accepted"):
            raise ApiError(
                400, {"success": False, "error": f"Doctor with email {doctor_email} not found"}
            )
        found["doctor"] = doctor.id if doctor else None
    queue_ref = data.get("queue")
    if queue_ref:
        queue = ctx.store.queue_by(
            queue_ref,
            by_name=not ctx.on("queue-by-name-unsupported"),
            by_id=not ctx.on("queue-by-id-unsupported"),
        )
        if queue is None and not ctx.on("unknown-queue-accepted"):
            raise ApiError(400, {"success": False, "error": f"Queue {queue_ref} doesn't exist"})
        found["queue"] = queue.id if queue else None
    return found


def _check_common(ctx: _Ctx, data: dict[str, Any]) -> None:
    _check_types(ctx, data)
    if data.get("gender") is not None:
        _check_gender(ctx, data["gender"])
    _check_email(ctx, data.get("emailAddress") or "")
    lang = data.get("language")
    if lang and len(lang) != 2:
        raise ApiError(400, {"success": False, "error": "language must be two characters"})
    tz = data.get("patientTZ")
    if tz and tz not in _time_zones():
        raise ApiError(400, {"success": False, "error": f"Unknown timezone identifier {tz}"})


# ---------------------------------------------------------------------------- handlers


async def login_local(ctx: _Ctx) -> Response:
    data = _object_body(await _json_body(ctx))
    _refuse_unknown_fields(ctx, data, _DOCUMENTED_LOGIN_FIELDS)
    email, password = data.get("email"), data.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise ApiError(400, {"message": "Missing credentials", "user": False})
    user = ctx.store.user_by_email(email, frozenset({"scheduler", "admin", "doctor"}))
    if (
        user is None
        or user.password is None
        or not secrets.compare_digest(
            user.password.encode(), password.encode("utf-8", "surrogatepass")
        )
    ):
        body: dict[str, Any] = {"message": "Incorrect email or password", "user": False}
        status = 401
        if user is None and ctx.on("unknown-email-404"):
            status, body = 404, {"message": "User not found", "user": False}
        if ctx.on("wrong-creds-400"):
            status = 400
        if user is not None and ctx.on("wrong-creds-token"):
            body["token"] = tokens.issue(APP_SECRET, user.id, ctx.now(), tokens.ACCESS_LIFETIME_S)
        raise ApiError(status, body)
    if ctx.on("login-2fa-required"):
        local = tokens.issue(
            APP_SECRET, user.id, ctx.now(), 3600, localLoginToken=True, singleFactor=True
        )
        return JSONResponse({"localLoginToken": local, "user": user.id, "role": user.role})
    access = tokens.issue(APP_SECRET, user.id, ctx.now(), tokens.ACCESS_LIFETIME_S)
    refresh = tokens.issue(REFRESH_SECRET, user.id, ctx.now(), tokens.REFRESH_LIFETIME_S)
    details = user.public()
    if not ctx.on("login-no-jwt"):
        details |= {"token": access, "refreshToken": refresh}
    out: dict[str, Any] = {"message": "Login Successful", "user": details}
    if ctx.reading("login_jwt") == "cookie-only":
        out = {"message": "Login Successful"}  # the guide's example: the JWT is in the cookie
    if ctx.on("login-message-missing"):
        out = {"success": True, "user": details}
    response = JSONResponse(out)
    if ctx.on("login-no-jwt"):
        response.set_cookie("sails.sid", secrets.token_urlsafe(24), httponly=True, samesite="lax")
    elif not ctx.on("no-cookie"):
        response.set_cookie(
            "token", access, max_age=tokens.ACCESS_LIFETIME_S, httponly=True, samesite="lax"
        )
    return response


async def list_invites(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, _INVITER_ROLES)
    params = ctx.request.query_params
    try:
        limit = int(params.get("limit", ctx.page_size))
        skip = int(params.get("skip", 0))
    except ValueError as exc:
        raise ApiError(400, {"success": False, "error": "limit and skip must be integers"}) from exc
    if limit < 0 or skip < 0:
        raise ApiError(400, {"success": False, "error": "limit and skip must not be negative"})
    mine = [inv for inv in ctx.store.invites.values() if ctx.store.owns(user, inv)]
    return JSONResponse([_invite_json(ctx, inv) for inv in mine[skip : skip + limit]])


async def create_invite(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, _INVITER_ROLES)
    data = _object_body(await _json_body(ctx))
    _refuse_unknown_fields(ctx, data, _DOCUMENTED_INVITE_FIELDS)
    if data.get("isPatientInvite") is not True:
        raise ApiError(
            400,
            {"success": False, "error": "isPatientInvite must be true for a patient invitation"},
        )
    _check_common(ctx, data)
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
    scheduled = _parse_scheduled_for(ctx, data.get("scheduledFor"))
    refs = _resolve_refs(ctx, data)
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
    return JSONResponse({"success": True, "invite": _invite_json(ctx, invite)}, status)


async def get_invite(ctx: _Ctx) -> Response:
    public = ctx.on("no-auth-200") and not _token_candidates(ctx)
    user = None if public else _authenticate(ctx)
    if user is not None:
        _require_role(user, _INVITER_ROLES)
    invite = _lookup_invite(ctx, user)
    body = _invite_json(ctx, invite)
    if ctx.on("get-mongo-id"):
        body = {"_id": body.pop("id"), **body}
    if ctx.reading("get_invite_shape") == "enveloped":
        body = {"success": True, "invite": body}
    return JSONResponse(body)


async def update_invite(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, _INVITER_ROLES)
    invite = _lookup_invite(ctx, user)
    data = _object_body(await _json_body(ctx))
    _refuse_unknown_fields(ctx, data, _DOCUMENTED_INVITE_FIELDS)
    if invite.status == "ACCEPTED":
        raise ApiError(
            400, {"success": False, "error": "Can't edit Invite has been accepted by patient"}
        )
    _check_common(ctx, data)
    changes: dict[str, Any] = {}
    if "scheduledFor" in data:
        changes["scheduled_for"] = _parse_scheduled_for(ctx, data["scheduledFor"])
    refs = _resolve_refs(ctx, data)
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
    return JSONResponse({"success": True, "invite": _invite_json(ctx, invite)})


async def delete_invite(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, _INVITER_ROLES)
    invite = _lookup_invite(ctx, user)
    if ctx.store.consultation_for(invite.id) and not ctx.on("delete-after-consultation-allowed"):
        raise ApiError(
            ctx.reading("refused_delete_status"),
            {
                "success": False,
                "error": "The patient requested a consultation: "
                "the invitation can no longer be deleted",
            },
        )
    body = _invite_json(ctx, invite)
    if not ctx.on("delete-noop"):
        _destroy_invite(ctx, invite.id)
    return JSONResponse(body)


def _destroy_invite(ctx: _Ctx, invite_id: str) -> None:
    """Remove an invitation (and, on that reading, its temporary patient accounts)."""
    ctx.store.invites.pop(invite_id, None)
    if ctx.reading("patient_accounts_removed") == "with-invite":
        for patient in ctx.store.patients_of(invite_id):
            del ctx.store.users[patient.id]


def _close_answer(
    ctx: _Ctx, cons: Consultation, *, status: str | None = None, iso: bool = False
) -> dict[str, Any]:
    body = _consultation_json(ctx, cons, status=status, iso_closed=iso)
    field = ctx.reading("close_id_field")
    if field != "both":
        del body["id" if field == "_id" else "_id"]
    return body


def _anonymized(cons: Consultation) -> dict[str, Any]:
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


async def close_consultation(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, frozenset({"scheduler", "admin"}))
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
        raise _not_found()
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
            return JSONResponse(_anonymized(cons))
        if repeat.startswith("refused-"):
            status = int(repeat.removeprefix("refused-"))
            raise ApiError(status, {"success": False, "error": "Consultation already closed"})
        return JSONResponse(_close_answer(ctx, cons, iso=iso))
    before = cons.status
    now_ms = ctx.now_ms()
    cons.status, cons.closed_at, cons.updated_at = "closed", now_ms, now_ms
    if not ctx.on("reopen-after-close"):
        _destroy_invite(ctx, invite_id)
    shown = before if ctx.on("close-not-closed") else None
    return JSONResponse(_close_answer(ctx, cons, status=shown, iso=iso))


async def login_invite(ctx: _Ctx) -> Response:
    data = _object_body(await _json_body(ctx))
    token = data.get("inviteToken")
    if not isinstance(token, str) or not token:
        raise ApiError(400, {"error": "inviteToken is required"})
    invite = ctx.store.invite_by_token(token)
    if invite is None or (invite.status == "ACCEPTED" and ctx.reading("patient_login") == "once"):
        raise ApiError(401, {"error": "Invalid invite token"})
    patients = ctx.store.patients_of(invite.id)
    patient = (
        patients[0] if patients and ctx.reading("patient_accounts") == "one-per-invite" else None
    )
    if patient is None:
        patient = User(
            ctx.store.new_id(ctx.now()),
            invite.email_address,
            "patient",
            invite.first_name,
            invite.last_name,
            invite_id=invite.id,
        )
        ctx.store.users[patient.id] = patient
    if invite.status == "SENT":
        invite.status = "ACCEPTED"
        invite.updated_at = ctx.now_ms()
    access = tokens.issue(APP_SECRET, patient.id, ctx.now(), tokens.ACCESS_LIFETIME_S)
    refresh = tokens.issue(REFRESH_SECRET, patient.id, ctx.now(), tokens.REFRESH_LIFETIME_S)
    details = patient.public() | {
        "temporaryAccount": True,
        "inviteToken": invite.id,
        "token": access,
        "refreshToken": refresh,
    }
    return JSONResponse({"user": details})


async def request_consultation(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, {"patient"})
    data = _object_body(await _json_body(ctx))
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
            return JSONResponse(_consultation_json(ctx, closed))
    if invite is None:
        raise ApiError(404, {"success": False, "error": "Invitation not found or already used"})
    if invite.id != user.invite_id:
        raise ApiError(403, {"error": "Forbidden"})
    existing = ctx.store.consultation_for(invite.id)
    if existing is not None and existing.status != "closed":
        return JSONResponse(_consultation_json(ctx, existing))
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
    return JSONResponse(_consultation_json(ctx, cons))


async def accept_consultation(ctx: _Ctx) -> Response:
    user = _authenticate(ctx)
    _require_role(user, {"doctor", "admin"})
    cons = ctx.store.consultations.get(ctx.request.path_params["id"])
    if cons is None or not (cons.doctor == user.id or (cons.queue in user.queues)):
        raise _not_found()
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


def _sso_rules(ctx: _Ctx) -> tokens.SsoRules:
    window = tokens.SSO_WINDOW_S
    if ctx.on("sso-window-10min"):
        window = 600.0
    elif ctx.on("sso-window-1min"):
        window = 60.0
    skew = float(ctx.reading("sso_future_skew_s"))
    if ctx.on("sso-future-accepted"):
        skew = math.inf
    elif ctx.on("sso-skew-2h"):
        skew = 7200.0
    return tokens.SsoRules(
        window_s=window,
        future_skew_s=skew,
        verify_signature=not ctx.on("sso-wrong-secret-accepted"),
        accept_alg_none=ctx.on("sso-alg-none-accepted"),
        trust_seen_signatures=ctx.on("sso-tampered-accepted"),
        require_timestamp=not ctx.on("sso-no-timestamp-accepted"),
        numeric_timestamp_only=not (ctx.on("sso-future-accepted") or ctx.on("sso-nan-accepted")),
    )


def _same_site_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def _offsite(value: str) -> bool:
    parts = urlsplit(value)
    return value.startswith("//") or (parts.scheme in ("http", "https") and bool(parts.netloc))


async def sso_callback(ctx: _Ctx) -> Response:
    values = ctx.request.query_params.getlist("token")
    if not values or not values[0]:
        if ctx.on("sso-no-token-200"):
            return JSONResponse({"message": "Nothing to do"})
        raise ApiError(400, {"error": "Bad Request"}, text="Bad Request")
    if len(values) > 1:
        raise ApiError(401, {"error": "Unauthorized"})
    token = values[0]
    store = ctx.store
    try:
        claims = tokens.sso_claims(
            token, SSO_SECRET, ctx.now(), _sso_rules(ctx), store.verified_sso_signatures
        )
    except tokens.SsoRefused as exc:
        raise ApiError(401, {"error": str(exc)}) from exc
    email = claims.get("email")
    doctor: User | None
    if not isinstance(email, str) or not email:
        if not ctx.on("sso-no-email-accepted"):
            raise ApiError(401, {"error": "Email is required"})
        doctor = store.users[store.doctor_id]
    else:
        doctor = store.user_by_email(email, frozenset({"doctor"}))
    if doctor is None:
        raise ApiError(401, {"error": "Unauthorized"})
    jti = claims.get("jti")
    jti_key = jti if isinstance(jti, str) and jti else None
    replayed = token in store.used_sso_tokens or (
        jti_key is not None and jti_key in store.used_sso_jtis
    )
    if replayed and not ctx.on("sso-replay-accepted"):
        raise ApiError(401, {"error": "Token already used"})
    store.used_sso_tokens.add(token)
    if jti_key is not None:
        store.used_sso_jtis.add(jti_key)
    store.verified_sso_signatures.add(token.rsplit(".", 1)[1])
    secret = SSO_SECRET if ctx.on("sso-tk-unusable") else APP_SECRET
    access = tokens.issue(secret, doctor.id, ctx.now(), tokens.ACCESS_LIFETIME_S)
    return_url = ctx.request.query_params.get("returnUrl") or ""
    if return_url and ctx.on("sso-offsite-redirect") and _offsite(return_url):
        target = return_url.removeprefix("//")
        if return_url.startswith("//"):
            target = "https://" + target
        location = f"{target}{'&' if '?' in target else '?'}tk={access}"
    else:
        location = f"{ctx.doctor_url}/app?tk={access}"
        if return_url and _same_site_path(return_url):
            location += f"&returnUrl={quote(return_url, safe='')}"
    if ctx.reading("sso_success") == "json":
        # signed in without a redirect: the body carries the session JWT (HCW-SSO-01)
        return JSONResponse({"message": "Login Successful", "token": access})
    # The real backend's redirect body is Express's text "Found. Redirecting to ..."; the
    # spec documents text for 302, and the token is not repeated in the body.
    return PlainTextResponse(
        "Found. Redirecting to the doctor app", 302, headers={"location": location}
    )


# ---------------------------------------------------------------------------- app


def resolve(profile: str | Profile | None) -> Profile:
    """A built-in profile by name, a profile file (.yaml/.json) or a Profile, completed."""
    return resolve_profile(profile, "hcw", PROFILES, READINGS, FAULTS)


def inventory(app: Starlette) -> dict[str, Any]:
    """What exists in a sandbox app that was created after it started (test-only).

    ``{"api": "hcw", "profile": NAME, "invites": [{"id", "status"}], "consultations":
    [{"id", "status", "invite", "invite_exists"}], "patient_accounts": [{"id", "invite"}]}``;
    closed consultations are listed (with their status): the API has no way to remove one.
    """
    store: Store = app.state.store
    return {"api": "hcw", "profile": app.state.profile.name, **store.inventory()}


def create_app(
    *,
    profile: str | Profile | None = None,
    faults: Iterable[str] = (),
    clock: Clock | None = None,
    page_size: int = 30,
    doctor_url: str | None = None,
    public_url: str | None = None,
) -> Starlette:
    """A fresh HCW@Home sandbox with seeded accounts (see CREDENTIALS).

    profile: a name of PROFILES (default "as-documented"), a profile file or a Profile (its
    readings decide where the guide leaves room; its faults are switched on); faults: more
    names from FAULTS switched on for every request, on top of the profile's; clock: epoch
    seconds (default time.time); doctor_url/public_url: bases of the SSO redirect and of
    patientURL (default: the URL the request came in on). ValueError for an unknown profile,
    reading or fault.
    """
    chosen_profile = resolve(profile)
    chosen = check_fault_names(faults, FAULTS) | chosen_profile.faults
    readings = dict(chosen_profile.readings)
    store = Store(id_format=readings["id_format"])
    now: Clock = clock or time.time

    def context(request: Request) -> _Ctx:
        return _Ctx(request, store, now, chosen, doctor_url, public_url, page_size, readings)

    def wrap(handler: Callable[[_Ctx], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            ctx = context(request)
            try:
                return await handler(ctx)
            except ApiError as err:
                if err.status >= 500:
                    return JSONResponse(err.body, err.status)
                return _error_response(ctx, err.status, err.body, err.text)

        return endpoint

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        ctx = context(request)
        text = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
        return _error_response(ctx, status, {"error": text}, text)

    async def show_inventory(request: Request) -> Response:
        return JSONResponse(inventory(app))

    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"success": False, "message": "An unexpected error occurred"}, 500)

    api = "/api/v1"
    routes = [
        Route(f"{api}/login-local", wrap(login_local), methods=["POST"]),
        Route(f"{api}/login-invite", wrap(login_invite), methods=["POST"]),
        Route(f"{api}/external-auth-callback", wrap(sso_callback), methods=["GET", "POST"]),
        Route(f"{api}/invite", wrap(list_invites), methods=["GET"]),
        Route(f"{api}/invite", wrap(create_invite), methods=["POST"]),
        Route(f"{api}/invite/{{id}}", wrap(get_invite), methods=["GET"]),
        Route(f"{api}/invite/{{id}}", wrap(update_invite), methods=["PATCH"]),
        Route(f"{api}/invite/{{id}}", wrap(delete_invite), methods=["DELETE"]),
        Route(
            f"{api}/invite/{{id}}/consultation/close", wrap(close_consultation), methods=["POST"]
        ),
        Route(f"{api}/consultation", wrap(request_consultation), methods=["POST"]),
        Route(f"{api}/consultation/{{id}}/accept", wrap(accept_consultation), methods=["POST"]),
        # test control, not part of the API: what the run left behind (see inventory())
        Route("/_sandbox/inventory", show_inventory, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.credentials = dict(CREDENTIALS)
    app.state.faults = chosen
    app.state.profile = chosen_profile
    app.state.store = store
    return app
