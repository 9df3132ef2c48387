"""Request checks of the Leah sandbox: content negotiation, the JSON body, fields, IRIs, dates.

Each check raises ``Reject`` with the answer API Platform (with Symfony's constraints) gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._render import (
    GREATER_THAN,
    INVALID_EMAIL,
    INVALID_PHONE,
    Reject,
    Violation,
    error,
    error_response,
    paris_offset,
)

# Symfony's Email constraint, "html5" mode.
EMAIL_RE = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9 ().-]+$")
JSON_TYPES = ("application/json", "application/ld+json")
MERGE_PATCH = "application/merge-patch+json"
ACCEPTABLE = {
    "*/*",
    "application/*",
    "application/ld+json",
    "application/json",
    "application/problem+json",
}


def php_type(value: Any) -> str:
    """gettype() of the PHP value a JSON value decodes to."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, (list, dict)):
        return "array"
    return "string"


def negotiate(ctx: Ctx) -> None:
    """406 when Accept names nothing this API can produce."""
    accept = ctx.request.headers.get("accept", "").strip()
    if not accept:
        return
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if not types & ACCEPTABLE:
        raise error(
            ctx,
            406,
            f'Requested format "{accept}" is not supported. Supported MIME '
            'types are "application/ld+json", "application/json".',
        )


def require_content_type(ctx: Ctx, allowed: Sequence[str]) -> None:
    """A 415 Reject unless the Content-Type is one of ``allowed``."""
    raw = ctx.request.headers.get("content-type")
    if raw is None:
        raise error(ctx, 415, 'The "Content-Type" header must exist.')
    media = raw.split(";")[0].strip().lower()
    if media not in allowed:
        supported = ", ".join(f'"{a}"' for a in allowed)
        raise error(
            ctx,
            415,
            f'The content-type "{media}" is not supported. Supported MIME types are {supported}.',
        )


async def json_object(ctx: Ctx) -> dict[str, Any]:
    """The request's body as a JSON object, or a 400 Reject."""
    raw = await ctx.request.body()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(ctx, 400, "Syntax error") from exc
    if not isinstance(data, dict):
        raise error(ctx, 400, "The input data is misformatted.")
    return data


def string_field(ctx: Ctx, body: dict[str, Any], name: str) -> str | None:
    """A string (or null) attribute of the body, or a 400 Reject naming its type."""
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise error(
        ctx, 400, f'The type of the "{name}" attribute must be "string", "{php_type(value)}" given.'
    )


def resolve_iri(
    ctx: Ctx,
    value: Any,
    attribute: str,
    collection: str,
    lookup: Callable[[str], Any],
    *,
    allow_unknown: bool = False,
    crash_on_malformed: bool = False,
) -> Any:
    """Turn an IRI (path or absolute URL) into the item, API Platform style (400 otherwise)."""
    if isinstance(value, dict):
        raise error(
            ctx,
            400,
            f'Nested documents for attribute "{attribute}" are not allowed. Use IRIs instead.',
        )
    if not isinstance(value, str):
        raise error(
            ctx,
            400,
            f'Expected IRI or nested document for attribute "{attribute}", '
            f'"{php_type(value)}" given.',
        )
    path = re.sub(r"^https?://[^/]+", "", value)
    prefix = f"/api/{collection}/"
    ident = path[len(prefix) :] if path.startswith(prefix) else None
    if ident is None or not ident or "/" in ident:
        if crash_on_malformed:
            raise Reject(error_response(ctx.dialect, 500, "Internal Server Error"))
        raise error(ctx, 400, f'Invalid IRI "{value}".')
    item = lookup(ident)
    if item is None and not allow_unknown:
        raise error(ctx, 400, f'Item not found for "{value}".')
    return item


def parse_start(ctx: Ctx, value: Any) -> datetime:
    """startTime as an aware UTC datetime (no offset: UTC), or a 400 Reject."""
    if not isinstance(value, str) or not value.strip():
        raise error(
            ctx,
            400,
            "The data is either not an string, an empty string, or null; you "
            "should pass a string that can be parsed with the passed format "
            "or a valid DateTime string.",
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise error(
            ctx,
            400,
            f"DateTime::__construct(): Failed to parse time string ({value}) "
            "at position 0: The timezone could not be found in the "
            "database",
        ) from exc
    if parsed.tzinfo is None:
        if ctx.on("naive-time-local"):
            guess = parsed.replace(tzinfo=UTC)
            parsed = parsed.replace(tzinfo=timezone(paris_offset(guess - timedelta(hours=1))))
        else:
            parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError as exc:
        raise error(ctx, 400, f"Failed to parse time string ({value}).") from exc


def contact_violations(email: str | None, phone: str | None) -> list[Violation]:
    """Violations of the e-mail and phone number constraints."""
    found = []
    if email is not None and email and not EMAIL_RE.match(email):
        found.append(Violation("email", "This value is not a valid email address.", INVALID_EMAIL))
    if phone is not None and phone:
        digits = re.sub(r"\D", "", phone)
        if not PHONE_RE.match(phone) or not 8 <= len(digits) <= 15:
            found.append(
                Violation("phoneNumber", "This value is not a valid phone number.", INVALID_PHONE)
            )
    return found


def future_violation(ctx: Ctx, start: datetime) -> list[Violation]:
    """The violation of a startTime that is not in the future."""
    if start <= ctx.now():
        return [Violation("startTime", "This value should be greater than now.", GREATER_THAN)]
    return []
