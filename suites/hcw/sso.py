"""The Single Sign-On callback: POST /api/v1/external-auth-callback?token=JWT&returnUrl=URL.

Clauses: HCW-SSO-01..08. Tokens are HS256 {email, timestamp (seconds), jti} minted with the
shared secret at whatever timestamp a probe needs (no waiting). Only the configured doctor's
e-mail is ever signed in. The margin around the 5-minute limit defaults to 20 s
(TELECONFORM_SSO_MARGIN overrides it); the accepted window is then measured by bisection
to 1 s and reported with HCW-SSO-02.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx

from teleconform.suite import Context, clause

from ._common import (
    INVITE,
    describe,
    headers_for,
    mint_sso,
    refused,
    session_jwt,
    signed_in,
    sso_call,
    tampered_sso,
    unsigned_sso,
)

LIMIT_S = 300
RESOLUTION_S = 1
_MAX_PROBE_AGE_S = 4 * 24 * 3600
_FOREIGN_SECRET = "teleconform-not-the-shared-secret-0123456789abcdef"
_EVIL_HOST = "evil.example"


def margin_s() -> int:
    """Seconds of tolerance around the 5-minute limit (clock skew), default 20."""
    raw = os.environ.get("TELECONFORM_SSO_MARGIN", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < LIMIT_S else 20


def _aged(ctx: Context, age_s: int) -> httpx.Response:
    return sso_call(ctx, mint_sso(ctx, timestamp=int(ctx.now()) - age_s))


def _outcome(response: httpx.Response) -> str:
    return "signed in" if signed_in(response) else f"refused ({response.status_code})"


@clause("HCW-SSO-01")
def fresh_token_signs_in(ctx: Context) -> None:
    """A token for the doctor dated now gives a session JWT that authorizes GET /invite."""
    response = sso_call(ctx, mint_sso(ctx))
    token = session_jwt(response)
    if token is None:
        ctx.fails(
            "HCW-SSO-01", f"a fresh token gave no session JWT: {describe(response)}", response
        )
        return
    headers = headers_for(ctx, token)
    ctx.state.setdefault("hcw.doctor_headers", headers)
    listed = ctx.request("GET", INVITE, headers=headers)
    ctx.expect(
        "HCW-SSO-01",
        listed.status_code == 200,
        f"signed in ({response.status_code}); GET {INVITE} with the session JWT: "
        f"{listed.status_code}",
        response,
        listed,
    )


@clause("HCW-SSO-02")
def timestamp_window(ctx: Context) -> None:
    """now-(5 min - margin) accepted, now-(5 min + margin) refused; window measured."""
    margin = margin_s()
    inside, outside = LIMIT_S - margin, LIMIT_S + margin
    r_in, r_out = _aged(ctx, inside), _aged(ctx, outside)
    ctx.expect(
        "HCW-SSO-02",
        signed_in(r_in),
        f"timestamp now-{inside}s: {_outcome(r_in)} (accepted expected)",
        r_in,
    )
    ctx.expect(
        "HCW-SSO-02",
        r_out.status_code == 401 and not signed_in(r_out),
        f"timestamp now-{outside}s: {_outcome(r_out)} (401 expected)",
        r_out,
    )

    lo: int | None = inside if signed_in(r_in) else None
    hi: int | None = None if signed_in(r_out) else outside
    if lo is None:
        lo = 0 if signed_in(_aged(ctx, 0)) else None
    if lo is None:
        ctx.measure("HCW-SSO-02", "accepted_window_s", None)
        ctx.measure("HCW-SSO-02", "note", "a token dated now is refused: nothing to measure")
        return
    if hi is None:
        lo = outside
        age = outside
        while hi is None and age < _MAX_PROBE_AGE_S:
            age *= 2
            if signed_in(_aged(ctx, age)):
                lo = age
            else:
                hi = age
    if hi is None:
        ctx.measure("HCW-SSO-02", "accepted_window_s", f">= {lo}")
        return
    while hi - lo > RESOLUTION_S:
        mid = (lo + hi) // 2
        if signed_in(_aged(ctx, mid)):
            lo = mid
        else:
            hi = mid
    ctx.measure("HCW-SSO-02", "accepted_window_s", lo)
    ctx.measure("HCW-SSO-02", "resolution_s", RESOLUTION_S)


@clause("HCW-SSO-03")
def foreign_signatures(ctx: Context) -> None:
    """Another key, alg none, and a payload edited under a used token's signature: 401."""
    used = mint_sso(ctx)
    first = sso_call(ctx, used)
    ctx.precondition(signed_in(first), f"a fresh token was refused: {describe(first)}", first)
    probes = (
        ("signed with another key", mint_sso(ctx, key=_FOREIGN_SECRET)),
        ('"alg": "none" (unsigned)', unsigned_sso(ctx)),
        ("payload edited under a used token's signature", tampered_sso(ctx, used)),
    )
    for label, token in probes:
        response = sso_call(ctx, token)
        ctx.expect(
            "HCW-SSO-03",
            response.status_code == 401 and not signed_in(response),
            f"token {label}: {_outcome(response)} (401 expected)",
            response,
        )


@clause("HCW-SSO-04")
def missing_claims(ctx: Context) -> None:
    """A token without email, and one without timestamp, are refused."""
    for label, token in (
        ("without email", mint_sso(ctx, email=None)),
        ("without timestamp", mint_sso(ctx, timestamp=None)),
    ):
        response = sso_call(ctx, token)
        ctx.expect(
            "HCW-SSO-04",
            refused(response),
            f"token {label}: {_outcome(response)} (a 4xx expected)",
            response,
        )


@clause("HCW-SSO-05")
def missing_token(ctx: Context) -> None:
    """The callback without a token: a 4xx."""
    response = sso_call(ctx, None)
    ctx.expect(
        "HCW-SSO-05",
        refused(response),
        f"callback without token: {response.status_code} (a 4xx expected)",
        response,
    )


@clause("HCW-SSO-06")
def future_timestamps(ctx: Context) -> None:
    """+1 h, +10 years, a millisecond value and a non-numeric value are refused."""
    now = int(ctx.now())
    probes = (
        ("now + 1 h", now + 3600),
        ("now + 10 years", now + 10 * 365 * 86400),
        # 10 minutes ago in ms: refused whether read as seconds (far future) or as ms (old).
        ("a millisecond timestamp", (now - 600) * 1000),
        ("a non-numeric timestamp", "not-a-number"),
    )
    for label, timestamp in probes:
        response = sso_call(ctx, mint_sso(ctx, timestamp=timestamp))
        ctx.expect(
            "HCW-SSO-06",
            refused(response),
            f"{label}: {_outcome(response)} (refusal expected)",
            response,
        )


@clause("HCW-SSO-07")
def off_site_return_url(ctx: Context) -> None:
    """returnUrl of another host, absolute or protocol-relative, never becomes the Location."""
    for target in (f"https://{_EVIL_HOST}/teleconform", f"//{_EVIL_HOST}/teleconform"):
        response = sso_call(ctx, mint_sso(ctx), return_url=target)
        location = response.headers.get("location", "")
        host = urlsplit(location).hostname if response.is_redirect else None
        ctx.expect(
            "HCW-SSO-07",
            host != _EVIL_HOST,
            f"returnUrl {target}: {response.status_code}, Location host {host or '-'}",
            response,
        )


@clause("HCW-SSO-08")
def replay(ctx: Context) -> None:
    """The same token a second time is refused (every minted token has its own jti)."""
    token = mint_sso(ctx)
    first = sso_call(ctx, token)
    ctx.precondition(signed_in(first), f"a fresh token was refused: {describe(first)}", first)
    second = sso_call(ctx, token)
    ctx.expect(
        "HCW-SSO-08",
        refused(second),
        f"the same token again: {_outcome(second)} (refusal expected)",
        first,
        second,
    )
