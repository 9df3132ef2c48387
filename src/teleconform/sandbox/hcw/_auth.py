"""Authentication in the HCW@Home sandbox: JWTs, the request's token, the two logins.

JWTs: access/refresh tokens and the SSO token check (the SSO callback is in ``_sso``).

Access tokens are HS256 ``{id, iat, exp}`` living 15 minutes, like HCW@Home's TokenService.
Expiry is checked against the app's injected clock, not the wall clock, so tests can move
time without sleeping.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.responses import JSONResponse, Response

from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._render import ApiError
from teleconform.sandbox.hcw._store import APP_SECRET, REFRESH_SECRET, User
from teleconform.sandbox.hcw._validation import (
    DOCUMENTED_LOGIN_FIELDS,
    json_body,
    object_body,
    refuse_unknown_fields,
)

ACCESS_LIFETIME_S = 15 * 60
REFRESH_LIFETIME_S = 18 * 3600
SSO_WINDOW_S = 300.0
SSO_FUTURE_SKEW_S = 30.0
_HMAC_ALGS = ["HS256", "HS384", "HS512"]


def issue(secret: str, user_id: str, now: float, lifetime_s: int, **extra: Any) -> str:
    """Sign an HS256 token for user_id at the app clock's now."""
    iat = int(now)
    payload: dict[str, Any] = {"id": user_id, "iat": iat, "exp": iat + lifetime_s, **extra}
    return jwt.encode(payload, secret, algorithm="HS256")


class MalformedToken(ValueError):
    """The token is not a JWT at all (as opposed to a JWT that fails verification)."""


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated base64url segments whose header decodes to a JSON object."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(_b64url_decode(parts[0]))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict)


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify_access(
    token: str, secret: str, now: float, *, check_signature: bool = True
) -> str | None:
    """The user id of a valid, unexpired, full-login access token, else None."""
    if not looks_like_jwt(token):
        raise MalformedToken(token[:16])
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_signature": check_signature},
        )
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
        return None
    if claims.get("singleFactor"):
        return None
    user_id = claims.get("id")
    return user_id if isinstance(user_id, str) else None


@dataclass(frozen=True)
class SsoRules:
    """How strictly the SSO callback checks a token (faults loosen these)."""

    window_s: float = SSO_WINDOW_S
    future_skew_s: float = SSO_FUTURE_SKEW_S
    verify_signature: bool = True
    accept_alg_none: bool = False
    trust_seen_signatures: bool = False
    require_timestamp: bool = True
    numeric_timestamp_only: bool = True


class SsoRefused(Exception):
    """The SSO token is refused; the message is the API's error text."""


def sso_claims(
    token: str, secret: str, now: float, rules: SsoRules, seen_signatures: Collection[str]
) -> dict[str, Any]:
    """Verify an SSO token and its timestamp; return its claims or raise SsoRefused."""
    if not looks_like_jwt(token):
        raise SsoRefused("Unauthorized")
    header = json.loads(_b64url_decode(token.split(".")[0]))
    alg = header.get("alg")
    signature = token.rsplit(".", 1)[1]
    unverified = (
        (alg == "none" and rules.accept_alg_none and signature == "")
        or not rules.verify_signature
        or (rules.trust_seen_signatures and signature in seen_signatures)
    )
    try:
        if unverified:
            claims = jwt.decode(token, options={"verify_signature": False})
        else:
            claims = jwt.decode(
                token,
                secret,
                algorithms=_HMAC_ALGS,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
    except jwt.PyJWTError as exc:
        raise SsoRefused("Unauthorized") from exc
    if not isinstance(claims, dict):
        raise SsoRefused("Unauthorized")
    for bound, late in (("exp", True), ("nbf", False)):
        value = claims.get(bound)
        if value is None:
            continue
        if not _is_number(value) or (late and value <= now) or (not late and value > now + 30):
            raise SsoRefused("Unauthorized")
    _check_timestamp(claims, now, rules)
    return claims


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_timestamp(claims: dict[str, Any], now: float, rules: SsoRules) -> None:
    if "timestamp" not in claims or claims["timestamp"] in (None, "", 0, False):
        if rules.require_timestamp:
            raise SsoRefused("Timestamp is required")
        return
    ts = claims["timestamp"]
    if not _is_number(ts):
        if rules.numeric_timestamp_only:
            raise SsoRefused("Timestamp must be a number of seconds since the epoch")
        # JavaScript semantics: NaN compares false, so the window checks below never refuse.
        return
    age = now - float(ts)
    if age > rules.window_s:
        raise SsoRefused("Timestamp is older than 5 minutes")
    if -age > rules.future_skew_s:
        raise SsoRefused("Timestamp is in the future")


# ---------------------------------------------------------------- requests


def token_candidates(ctx: Ctx) -> list[str]:
    """The access tokens the request carries, in the headers this app reads."""
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


def authenticate(ctx: Ctx) -> User:
    """The user of the first valid access token, or ApiError 401."""
    unauthorized = ApiError(401, {"error": "Unauthorized"})
    candidates = token_candidates(ctx)
    if not candidates:
        raise unauthorized
    for token in candidates:
        try:
            user_id = verify_access(
                token, APP_SECRET, ctx.now(), check_signature=not ctx.on("api-signature-unchecked")
            )
        except MalformedToken as exc:
            if ctx.on("malformed-token-500"):
                raise ApiError(500, {"success": False, "message": "jwt malformed"}) from exc
            continue
        user = ctx.store.users.get(user_id) if user_id else None
        if user is not None:
            return user
    raise unauthorized


def require_role(user: User, roles: Iterable[str]) -> None:
    """ApiError 403 unless the user has one of these roles."""
    if user.role not in roles:
        raise ApiError(403, {"error": "Forbidden"}, text="Forbidden")


async def login_local(ctx: Ctx) -> Response:
    """POST /api/v1/login-local {email, password}: the access JWT (body and cookie)."""
    data = object_body(await json_body(ctx))
    refuse_unknown_fields(ctx, data, DOCUMENTED_LOGIN_FIELDS)
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
            body["token"] = issue(APP_SECRET, user.id, ctx.now(), ACCESS_LIFETIME_S)
        raise ApiError(status, body)
    if ctx.on("login-2fa-required"):
        local = issue(APP_SECRET, user.id, ctx.now(), 3600, localLoginToken=True, singleFactor=True)
        return JSONResponse({"localLoginToken": local, "user": user.id, "role": user.role})
    access = issue(APP_SECRET, user.id, ctx.now(), ACCESS_LIFETIME_S)
    refresh = issue(REFRESH_SECRET, user.id, ctx.now(), REFRESH_LIFETIME_S)
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
            "token", access, max_age=ACCESS_LIFETIME_S, httponly=True, samesite="lax"
        )
    return response


async def login_invite(ctx: Ctx) -> Response:
    """POST /api/v1/login-invite {inviteToken}: a temporary patient account's JWT."""
    data = object_body(await json_body(ctx))
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
    access = issue(APP_SECRET, patient.id, ctx.now(), ACCESS_LIFETIME_S)
    refresh = issue(REFRESH_SECRET, patient.id, ctx.now(), REFRESH_LIFETIME_S)
    details = patient.public() | {
        "temporaryAccount": True,
        "inviteToken": invite.id,
        "token": access,
        "refreshToken": refresh,
    }
    return JSONResponse({"user": details})
