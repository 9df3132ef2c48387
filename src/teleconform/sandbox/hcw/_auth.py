"""JWTs of the HCW@Home sandbox: access/refresh tokens and the SSO token check.

Access tokens are HS256 ``{id, iat, exp}`` living 15 minutes, like HCW@Home's TokenService.
Expiry is checked against the app's injected clock, not the wall clock, so tests can move
time without sleeping.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import jwt

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
