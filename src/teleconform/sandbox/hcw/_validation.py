"""Request checks of the HCW@Home sandbox: the JSON body, unknown fields, invite fields.

Each check raises ``ApiError`` with the answer the sandbox gives (400, 415, or a fault's 500).
"""

from __future__ import annotations

import json
import math
import re
import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._render import ApiError

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

# The creation fields the guide lists ("Invite creation on behalf of doctor", "... assigned to a
# queue"); the update refers to the creation. A server reading unknown_fields=refused knows no
# other.
DOCUMENTED_INVITE_FIELDS = frozenset(
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
DOCUMENTED_LOGIN_FIELDS = frozenset({"email", "password"})


async def json_body(ctx: Ctx) -> Any:
    """The request's JSON body ({} when empty), or ApiError 400/415."""
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


def object_body(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else ApiError 400."""
    if not isinstance(value, dict):
        raise ApiError(400, {"success": False, "error": "The body must be a JSON object"})
    return value


def refuse_unknown_fields(ctx: Ctx, data: dict[str, Any], known: frozenset[str]) -> None:
    """ApiError 400 for fields outside ``known``, on the reading that refuses them."""
    unknown = sorted(set(data) - known)
    if unknown and ctx.reading("unknown_fields") == "refused":
        raise ApiError(400, {"success": False, "error": f"Unknown field(s): {', '.join(unknown)}"})


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_scheduled_for(ctx: Ctx, value: Any) -> int:
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


def _check_types(ctx: Ctx, data: dict[str, Any]) -> None:
    # null is a wrong type too: the API describes these fields as strings, not nullable ones
    wrong = [k for k in _STRING_FIELDS if k in data and not isinstance(data[k], str)]
    if data.get("sendInvite") is not None and not isinstance(data["sendInvite"], bool):
        wrong.append("sendInvite")
    if wrong:
        if ctx.on("wrong-type-500"):
            raise ApiError(500, {"error": True})
        raise ApiError(400, [{"message": f"{k} has an invalid type"} for k in wrong])


def _check_gender(ctx: Ctx, gender: str) -> None:
    if ctx.on("gender-unchecked-500"):
        if gender not in _MODEL_GENDERS:
            raise ApiError(500, {"error": True})
        return
    allowed = _MODEL_GENDERS if ctx.on("gender-other-accepted") else _GENDERS
    if gender not in allowed:
        raise ApiError(400, [{"message": "gender must be either male or female"}])


def _check_email(ctx: Ctx, email: str) -> None:
    if email and not _EMAIL_RE.match(email):
        if ctx.on("invalid-email-500"):
            raise ApiError(500, {"error": True})
        raise ApiError(400, [{"message": "emailAddress must be a valid e-mail address"}])


def resolve_refs(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
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


def check_common(ctx: Ctx, data: dict[str, Any]) -> None:
    """The checks shared by invite create and update (types, gender, e-mail, language, TZ)."""
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
