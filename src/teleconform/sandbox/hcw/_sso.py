"""The SSO callback of the HCW@Home sandbox (``/api/v1/external-auth-callback``).

The token checks themselves are in ``_auth`` (``sso_claims``); faults loosen them here.
"""

from __future__ import annotations

import math
from urllib.parse import quote, urlsplit

from starlette.responses import JSONResponse, PlainTextResponse, Response

from teleconform.sandbox.hcw._auth import (
    ACCESS_LIFETIME_S,
    SSO_WINDOW_S,
    SsoRefused,
    SsoRules,
    issue,
    sso_claims,
)
from teleconform.sandbox.hcw._context import Ctx
from teleconform.sandbox.hcw._render import ApiError
from teleconform.sandbox.hcw._store import APP_SECRET, SSO_SECRET, User


def _sso_rules(ctx: Ctx) -> SsoRules:
    window = SSO_WINDOW_S
    if ctx.on("sso-window-10min"):
        window = 600.0
    elif ctx.on("sso-window-1min"):
        window = 60.0
    skew = float(ctx.reading("sso_future_skew_s"))
    if ctx.on("sso-future-accepted"):
        skew = math.inf
    elif ctx.on("sso-skew-2h"):
        skew = 7200.0
    return SsoRules(
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


async def sso_callback(ctx: Ctx) -> Response:
    """GET|POST /api/v1/external-auth-callback?token&returnUrl: SSO sign-in."""
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
        claims = sso_claims(
            token, SSO_SECRET, ctx.now(), _sso_rules(ctx), store.verified_sso_signatures
        )
    except SsoRefused as exc:
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
    access = issue(secret, doctor.id, ctx.now(), ACCESS_LIFETIME_S)
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
