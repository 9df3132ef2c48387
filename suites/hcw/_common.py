"""Helpers shared by the HCW@Home suites: login, auth headers, SSO tokens, invites, cleanup.

State kept in ``ctx.state`` for one run (keys start with ``hcw.``):
``hcw.login`` (the login-local response), ``hcw.auth_headers`` / ``hcw.auth_style`` (the
header that carries the JWT: "x-access-token" as documented, or "bearer" when the server
only reads that), ``hcw.x_access_token_refused`` (the probe the documented header lost),
``hcw.auth_failure`` (why no header works), ``hcw.doctor_headers`` (SSO session).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from teleconform.runner.ledger import Creation
from teleconform.suite import Context, CredentialsRefused, TargetUnreachable, cleaner, preflight

LOGIN = "/api/v1/login-local"
INVITE = "/api/v1/invite"
SSO = "/api/v1/external-auth-callback"
LOGIN_INVITE = "/api/v1/login-invite"
CONSULTATION = "/api/v1/consultation"
# A well-formed id (24 hex) that no server hands out: its timestamp part is in 1970.
NO_SUCH_ID = "00000000" + "0e1e" * 4
SAFE_EMAIL = "teleconform-probe@example.org"
SAFE_PHONE = "+15555550100"
_UNSET: Any = object()
PATIENT_ACCOUNT_STAYS = (
    "temporary patient account created by login-invite; the API has no operation to remove it"
)
ORPHANED = "consultation orphaned: the server allowed DELETE of its invite (HCW-INV-13 fails)"
ORPHANED_INVITES = "hcw.orphaned_invites"  # ctx.state: invites deleted under a consultation
# Every operation of the HCW@Home API that creates something: the runner ledgers each before
# it is sent and enters what a 2xx answer created (whichever check sends it).
TELECONFORM_CREATES = [
    Creation(
        "POST",
        INVITE,
        "invite",
        ("/invite/id", "/invite/_id", "/id", "/_id"),
        ("DELETE", INVITE + "/{id}"),
    ),
    # closed through its invite (the doctor accepts it first when it is pending)
    Creation(
        "POST",
        CONSULTATION,
        "consultation",
        ("/id", "/_id"),
        ("POST", INVITE + "/{invite}"),
        refs={"invite": "/invite"},
        parent="invite",
    ),
    # the account's JWT stays in memory: cleanup checks whether the account still signs in
    Creation(
        "POST",
        LOGIN_INVITE,
        "patient_account",
        ("/user/id",),
        None,
        why=PATIENT_ACCOUNT_STAYS,
        secret="/user/token",
    ),
]


def safe_email() -> str:
    """Where an invite may send mail without reaching a person (TELECONFORM_SAFE_EMAIL)."""
    return os.environ.get("TELECONFORM_SAFE_EMAIL") or SAFE_EMAIL


def safe_phone() -> str:
    """A phone number that reaches nobody (TELECONFORM_SAFE_PHONE)."""
    return os.environ.get("TELECONFORM_SAFE_PHONE") or SAFE_PHONE


# -- JWT recognition ---------------------------------------------------------------------------


def _b64url_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def is_jwt(value: Any) -> bool:
    """Three base64url segments whose first decodes to a JSON header with an alg."""
    if not isinstance(value, str) or value.count(".") != 2:
        return False
    head, payload, _ = value.split(".")
    try:
        header = _b64url_json(head)
        _b64url_json(payload)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, without checking its signature (ours to inspect only)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims if isinstance(claims, dict) else {}


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_strings(item)


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def cookie_jwts(response: httpx.Response) -> list[str]:
    """JWTs set as cookie values by this response."""
    found: list[str] = []
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(header)
        except CookieError:
            continue
        found += [m.value for m in jar.values() if is_jwt(m.value)]
    return found


def body_jwts(response: httpx.Response) -> list[str]:
    """JWTs anywhere in the body: JSON strings, or dot-separated words of a text body."""
    body = json_body(response)
    strings = list(_walk_strings(body)) if body is not None else response.text.split()
    return [s for s in strings if is_jwt(s)]


def response_jwts(response: httpx.Response) -> list[str]:
    """Every JWT a response hands out (body, cookies, Location)."""
    found = body_jwts(response) + cookie_jwts(response)
    location = response.headers.get("location")
    if location:
        for values in parse_qs(urlsplit(location).query).values():
            found += [v for v in values if is_jwt(v)]
    return found


def is_json_response(response: httpx.Response) -> bool:
    """JSON content type (application/json or +json) and a body that parses."""
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        return False
    try:
        json.loads(response.content)
    except ValueError:
        return False
    return True


def describe(response: httpx.Response) -> str:
    """A short status line for messages (no body: it may hold personal data)."""
    ctype = response.headers.get("content-type", "-").split(";")[0]
    return f"{response.request.method} {response.url.path} -> {response.status_code} ({ctype})"


# -- login and the auth header -----------------------------------------------------------------


def login(ctx: Context) -> httpx.Response:
    """The scheduler's login-local response (sent once per run)."""
    cached = ctx.state.get("hcw.login")
    if isinstance(cached, httpx.Response):
        return cached
    response = ctx.request(
        "POST", LOGIN, json={"email": ctx.need("hcw.email"), "password": ctx.need("hcw.password")}
    )
    ctx.state["hcw.login"] = response
    return response


def login_jwt(response: httpx.Response) -> str | None:
    """The access JWT of a login response: user.token, token, or a JWT cookie."""
    body = json_body(response)
    if isinstance(body, dict):
        user = body.get("user")
        for candidate in (user.get("token") if isinstance(user, dict) else None, body.get("token")):
            if is_jwt(candidate):
                return str(candidate)
    cookies = cookie_jwts(response)
    return cookies[0] if cookies else None


def token_headers(token: str, style: str) -> dict[str, str]:
    """The header carrying token in the given style ("x-access-token" or "bearer")."""
    if style == "bearer":
        return {"Authorization": f"Bearer {token}"}
    return {"x-access-token": token}


def probe_authorized(ctx: Context, headers: Mapping[str, str]) -> tuple[bool, httpx.Response]:
    """Whether headers authorize a read: GET /api/v1/invite, else GET of an unknown id.

    The list is what real servers offer; a server with only the documented operations
    answers 404 for an unknown id once authorized, and 401 otherwise.
    """
    r = ctx.request("GET", INVITE, headers=headers)
    if r.status_code in (404, 405):
        r = ctx.request("GET", f"{INVITE}/{NO_SUCH_ID}", headers=headers)
        return r.status_code == 404 or r.is_success, r
    return r.is_success, r


def auth_headers(ctx: Context) -> dict[str, str]:
    """Headers that authorize the scheduler (login-local once per run, cached).

    The documented ``x-access-token`` is tried first. When the server refuses it but accepts
    ``Authorization: Bearer``, that is recorded for HCW-AUTH-04 and the run continues with
    Bearer. Raises a precondition failure when no JWT or no header works.
    """
    cached = ctx.state.get("hcw.auth_headers")
    if isinstance(cached, dict):
        return dict(cached)
    failure = ctx.state.get("hcw.auth_failure")
    if isinstance(failure, str):
        ctx.precondition(False, failure)
    response = login(ctx)
    token = login_jwt(response)
    if token is None:
        ctx.state["hcw.auth_failure"] = (
            f"login-local answered {response.status_code} without an access JWT"
        )
        ctx.precondition(False, ctx.state["hcw.auth_failure"], response)
        raise AssertionError("unreachable")
    ok, probe = probe_authorized(ctx, token_headers(token, "x-access-token"))
    style = "x-access-token"
    if not ok:
        ok_bearer, bearer_probe = probe_authorized(ctx, token_headers(token, "bearer"))
        if not ok_bearer:
            ctx.state["hcw.auth_failure"] = (
                "the login JWT is refused in x-access-token and in Authorization: Bearer "
                f"({probe.status_code}, {bearer_probe.status_code})"
            )
            ctx.precondition(False, ctx.state["hcw.auth_failure"], probe, bearer_probe)
        ctx.state["hcw.x_access_token_refused"] = probe
        style, probe = "bearer", bearer_probe
    headers = token_headers(token, style)
    ctx.state["hcw.auth_style"] = style
    ctx.state["hcw.auth_probe"] = probe
    ctx.state["hcw.auth_headers"] = headers
    return dict(headers)


def headers_for(ctx: Context, token: str) -> dict[str, str]:
    """Headers for another identity's JWT (patient, doctor) in the style that works.

    Without a scheduler login, the documented header is tried first, then Bearer.
    """
    style = ctx.state.get("hcw.auth_style")
    if isinstance(style, str):
        return token_headers(token, style)
    ok, _ = probe_authorized(ctx, token_headers(token, "x-access-token"))
    return token_headers(token, "x-access-token" if ok else "bearer")


@preflight
def check_login(ctx: Context) -> None:
    """Exit 3 early when the configured scheduler credentials are refused."""
    if not (ctx.has("hcw.email") and ctx.has("hcw.password")):
        return
    response = login(ctx)
    if response.status_code in (404, 405) or json_body(response) is None:
        raise TargetUnreachable(
            f"POST {LOGIN} answered {response.status_code} "
            f"({response.headers.get('content-type', 'no content type')}): "
            "is the target URL the HCW@Home backend (without /api/v1)?"
        )
    if response.status_code in (400, 401, 403):
        raise CredentialsRefused(
            f"login-local refused TELECONFORM_HCW_EMAIL/TELECONFORM_HCW_PASSWORD "
            f"({response.status_code}); check the scheduler account"
        )


# -- SSO -------------------------------------------------------------------------------------


def _jti(ctx: Context) -> str:
    counter = ctx.state.setdefault("hcw.jti_counter", itertools.count(1))
    # parallel workers have separate states: a per-state prefix keeps their jtis apart
    prefix = ctx.state.setdefault("hcw.jti_prefix", f"{ctx.random.getrandbits(32):08x}")
    return f"teleconform-{ctx.run_id}-{prefix}-{next(counter)}"


def mint_sso(
    ctx: Context,
    *,
    email: Any = _UNSET,
    timestamp: Any = _UNSET,
    key: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """An HS256 SSO token {email, timestamp (s), jti}; _UNSET claims get the defaults.

    Every token carries a fresh ``jti`` so that two sign-ins never share a token
    (HCW-SSO-08). Pass ``None`` to leave a claim out.
    """
    claims: dict[str, Any] = {
        "email": ctx.need("hcw.doctor_email") if email is _UNSET else email,
        "timestamp": int(ctx.now()) if timestamp is _UNSET else timestamp,
        "jti": _jti(ctx),
    }
    claims.update(extra or {})
    payload = {k: v for k, v in claims.items() if v is not None}
    secret = key if key is not None else ctx.need("hcw.sso_secret")
    with warnings.catch_warnings():
        # Deployments pick their own secret length; short ones are the target's business.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(payload, secret, algorithm="HS256")


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_sso(ctx: Context) -> str:
    """An "alg": "none" token for the doctor, now (no signature)."""
    claims = {"email": ctx.need("hcw.doctor_email"), "timestamp": int(ctx.now()), "jti": _jti(ctx)}
    return f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(claims)}."


def tampered_sso(ctx: Context, used: str) -> str:
    """used's header and signature over an edited payload (new jti, added claim)."""
    head, _, signature = used.split(".")
    claims = unverified_claims(used) | {"jti": _jti(ctx), "role": "admin"}
    return f"{head}.{_b64url(claims)}.{signature}"


def sso_call(ctx: Context, token: str | None, return_url: str | None = None) -> httpx.Response:
    """POST /api/v1/external-auth-callback?token=...[&returnUrl=...] (no redirect followed)."""
    params = {}
    if token is not None:
        params["token"] = token
    if return_url is not None:
        params["returnUrl"] = return_url
    return ctx.request("POST", SSO, params=params or None)


def session_jwt(response: httpx.Response) -> str | None:
    """The session JWT an SSO answer hands out: in the Location (3xx) or a 200 body."""
    if 300 <= response.status_code < 400:
        location = str(response.headers.get("location") or "")
        query = parse_qs(urlsplit(location).query)
        for value in query.get("tk", []) + [v for vs in query.values() for v in vs]:
            if is_jwt(value):
                return value
        return None
    if response.status_code == 200:
        found = body_jwts(response)
        return found[0] if found else None
    return None


def signed_in(response: httpx.Response) -> bool:
    """Whether an SSO answer signed someone in (a session JWT was handed out)."""
    return session_jwt(response) is not None


def refused(response: httpx.Response) -> bool:
    """A 4xx that hands out no session."""
    return 400 <= response.status_code < 500 and not signed_in(response)


def doctor_headers(ctx: Context) -> dict[str, str]:
    """Headers of the configured doctor, signed in through SSO (cached for the run)."""
    cached = ctx.state.get("hcw.doctor_headers")
    if isinstance(cached, dict):
        return dict(cached)
    response = sso_call(ctx, mint_sso(ctx))
    token = session_jwt(response)
    ctx.precondition(token is not None, "the doctor's SSO sign-in gave no session JWT", response)
    assert token is not None
    headers = headers_for(ctx, token)
    ctx.state["hcw.doctor_headers"] = headers
    return dict(headers)


# -- time --------------------------------------------------------------------------------------


def iso_at(epoch_s: int, offset_hours: int = 0) -> str:
    """epoch_s as ISO 8601 with an explicit offset (Z for 0)."""
    if offset_hours == 0:
        return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    zone = timezone(timedelta(hours=offset_hours))
    return datetime.fromtimestamp(epoch_s, zone).isoformat(timespec="seconds")


def future_s(ctx: Context, days: int) -> int:
    """A whole-minute instant days ahead of the run clock."""
    return (int(ctx.now()) // 60 + days * 24 * 60) * 60


# -- invites -----------------------------------------------------------------------------------


def invite_body(ctx: Context, **fields: Any) -> dict[str, Any]:
    """A valid patient invite on behalf of the configured doctor; None drops a field.

    sendInvite is false unless the caller says otherwise, so a live run sends nothing.
    """
    body: dict[str, Any] = {
        "firstName": "Teleconform",
        "lastName": f"Probe-{ctx.run_id}",
        "gender": "male",
        "emailAddress": safe_email(),
        "language": "en",
        "doctorEmail": ctx.need("hcw.doctor_email") if ctx.has("hcw.doctor_email") else None,
        "isPatientInvite": True,
        "sendInvite": False,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def invite_of(response: httpx.Response) -> dict[str, Any] | None:
    """The invite object of a response: the envelope's invite, or a bare record."""
    body = json_body(response)
    if not isinstance(body, dict):
        return None
    inner = body.get("invite")
    if isinstance(inner, dict):
        return inner
    return body if "id" in body or "_id" in body else None


def invite_id(invite: Mapping[str, Any] | None) -> str | None:
    """id (or _id) of an invite object."""
    if not invite:
        return None
    value = invite.get("id", invite.get("_id"))
    return str(value) if isinstance(value, str | int) and value != "" else None


def post_invite(
    ctx: Context, body: Any = None, *, content: bytes | None = None
) -> tuple[httpx.Response, dict[str, Any] | None]:
    """POST /api/v1/invite as the scheduler; anything created enters the cleanup ledger."""
    headers = auth_headers(ctx)
    if content is not None:
        response = ctx.request(
            "POST", INVITE, headers=headers | {"Content-Type": "application/json"}, content=content
        )
    else:
        response = ctx.request("POST", INVITE, headers=headers, json=body)
    invite = invite_of(response) if response.is_success else None
    ident = invite_id(invite)
    if ident is not None:
        ctx.created("invite", ident, cleanup=("DELETE", f"{INVITE}/{ident}"))
    return response, invite


def queue_ref(value: Any) -> str | None:
    """The queue id an invite references (an id string or a populated record)."""
    if isinstance(value, dict):
        value = value.get("id", value.get("_id"))
    return value if isinstance(value, str) and value else None


@cleaner
def delete_invite(ctx: Context, entry: dict[str, Any]) -> bool | str:
    """Remove what this run created: close a consultation, delete an invite (already gone
    counts as removed), and check whether a temporary patient account went with its invite."""
    cleanup = entry.get("cleanup")
    kind = entry.get("kind")
    if kind == "consultation" and cleanup:
        return _close_consultation(ctx, str(entry["id"]), str(cleanup[1]))
    if kind == "patient_account":
        return _patient_account_gone(ctx, str(entry.get("id")))
    if kind != "invite" or not cleanup:
        return False
    method, path = cleanup
    if entry.get("keep_for"):  # its consultation stays open: only find out whether it is gone
        return ctx.request("GET", path, headers=auth_headers(ctx)).status_code == 404
    response = ctx.request(method, path, headers=auth_headers(ctx))
    return response.is_success or response.status_code == 404


def _patient_account_gone(ctx: Context, account: str) -> bool | str:
    """True when the account's own JWT is refused with 401 (the account no longer exists)."""
    secrets = ctx.state.get("ledger.secrets") or {}
    token = secrets.get(("patient_account", account))
    if not isinstance(token, str):
        return PATIENT_ACCOUNT_STAYS
    style = ctx.state.get("hcw.auth_style")
    headers = token_headers(token, style if isinstance(style, str) else "x-access-token")
    response = ctx.request("GET", INVITE, headers=headers)
    return True if response.status_code == 401 else PATIENT_ACCOUNT_STAYS


def _close_consultation(ctx: Context, consultation: str, invite_path: str) -> bool | str:
    """Close a consultation the run opened: close, else the doctor accepts it and close again.

    Only a 2xx close counts: a 404 may be a pending consultation whose invite is gone.
    """
    closed = ctx.state.get("hcw.closed_consultations")
    if isinstance(closed, set) and consultation in closed:
        return True  # the check closed it itself (a repeated close may be refused)
    close = f"{invite_path}/consultation/close"
    scheduler = auth_headers(ctx)
    first = ctx.request("POST", close, headers=scheduler)
    if first.is_success:
        return True
    invite = invite_path.rsplit("/", 1)[-1]
    orphaned = invite in (ctx.state.get(ORPHANED_INVITES) or ())
    if not ctx.has("hcw.sso_secret"):
        return (
            ORPHANED
            if orphaned
            else f"consultation left {'pending' if first.status_code in (404, 409) else 'open'}: "
            "closing it needs the doctor to accept it first (TELECONFORM_HCW_SSO_SECRET "
            "not set)"
        )
    accepted = ctx.request(
        "POST", f"/api/v1/consultation/{consultation}/accept", headers=doctor_headers(ctx)
    )
    again = ctx.request("POST", close, headers=scheduler)
    if again.is_success:
        return True
    if orphaned:
        return ORPHANED
    return (
        f"consultation could not be closed: close answered {first.status_code}, "
        f"accept {accepted.status_code}, close again {again.status_code}"
    )
