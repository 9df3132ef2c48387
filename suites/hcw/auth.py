"""Service-account login, the auth header, wrong credentials, unauthenticated requests.

Clauses: HCW-AUTH-01..06, HCW-GEN-02, HCW-GEN-03.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from teleconform.suite import Context, clause

from ._common import (
    INVITE,
    LOGIN,
    NO_SUCH_ID,
    auth_headers,
    cookie_jwts,
    describe,
    is_json_response,
    json_body,
    login,
    login_jwt,
    response_jwts,
    unverified_claims,
)

_SECOND_FACTOR_KEYS = ("localLoginToken", "smsLoginToken", "smsVerificationRequired", "2fa")
# A key of our own for "signed with another key" probes; long enough for HS256.
_FOREIGN_KEY = "teleconform-foreign-signing-key-not-the-servers-0123456789"


def _second_factor_markers(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    return [key for key in _SECOND_FACTOR_KEYS if body.get(key)]


# The most this module's checks create, per kind (requests that may create):
# requests without valid credentials: only a server that skips the check creates.
# `run --dry-run` adds these up; tests/live/test_footprint.py checks them.
FOOTPRINT = {"invite": 5}


@clause("HCW-AUTH-01", "HCW-AUTH-02", "HCW-AUTH-05")
def service_account_login(ctx: Context) -> None:
    """One login-local call: message, JWT, no second factor, JWT cookie."""
    response = login(ctx)
    body = json_body(response)
    message = body.get("message") if isinstance(body, dict) else None
    token = login_jwt(response)
    problems = []
    if response.status_code != 200:
        problems.append(f"status {response.status_code}, expected 200")
    if message != "Login Successful":
        problems.append(f"message is {message!r}, expected 'Login Successful'")
    if token is None:
        problems.append("no JWT in the body (user.token) or in a cookie")
    ctx.expect(
        "HCW-AUTH-01",
        not problems,
        "; ".join(problems) or "200 'Login Successful' with a JWT",
        response,
    )

    cookies = cookie_jwts(response)
    if cookies:
        ctx.expect(
            "HCW-AUTH-05",
            token in cookies,
            "the JWT is set as a cookie"
            if token in cookies
            else "a cookie carries a JWT, but not the one of the body",
            response,
        )
    else:
        ctx.fails("HCW-AUTH-05", "login-local sets no cookie holding the JWT", response)

    markers = _second_factor_markers(body)
    if markers:
        ctx.fails(
            "HCW-AUTH-02",
            f"login-local asks for a second factor ({', '.join(markers)}) instead of completing",
            response,
        )
        return
    if token is None:
        ctx.skips(
            "HCW-AUTH-02",
            "login-local handed out no JWT (HCW-AUTH-01), so whether it "
            "completed in one call cannot be judged",
        )
        return
    auth_headers(ctx)  # the JWT of that single call authorizes a request
    ctx.passes(
        "HCW-AUTH-02",
        "one login-local call gave a JWT that authorizes requests",
        response,
        ctx.state["hcw.auth_probe"],
    )


@clause("HCW-AUTH-04")
def x_access_token_header(ctx: Context) -> None:
    """The login JWT in x-access-token alone authorizes a request."""
    auth_headers(ctx)
    probe = ctx.state["hcw.auth_probe"]
    if ctx.state["hcw.auth_style"] == "x-access-token":
        ctx.passes("HCW-AUTH-04", "the JWT in x-access-token authorizes GET requests", probe)
        return
    refused = ctx.state["hcw.x_access_token_refused"]
    ctx.fails(
        "HCW-AUTH-04",
        f"the JWT in x-access-token is refused ({refused.status_code}) but accepted in "
        "Authorization: Bearer; the run continues with Bearer",
        refused,
        probe,
    )


@clause("HCW-AUTH-03", "HCW-AUTH-06")
def wrong_credentials(ctx: Context) -> None:
    """A wrong password and an unknown e-mail: a 4xx (401) without any token."""
    cases = []
    if ctx.has("hcw.email"):
        cases.append(
            ("wrong password", ctx.need("hcw.email"), f"teleconform-wrong-password-{ctx.run_id}")
        )
    cases.append(
        (
            "unknown e-mail",
            f"teleconform-unknown-{ctx.run_id}@example.org",
            "teleconform-wrong-password",
        )
    )
    for label, email, password in cases:
        response = ctx.request("POST", LOGIN, json={"email": email, "password": password})
        leaked = response_jwts(response)
        ctx.expect(
            "HCW-AUTH-03",
            response.is_client_error and not leaked,
            f"{label}: {response.status_code}"
            + (" with a token" if leaked else " without a token"),
            response,
        )
        ctx.expect(
            "HCW-AUTH-06",
            response.status_code == 401,
            f"{label}: {response.status_code} (401 expected)",
            response,
        )


def _foreign_token(subject: str, iat: int, exp: int) -> str:
    return jwt.encode({"id": subject, "iat": iat, "exp": exp}, _FOREIGN_KEY, algorithm="HS256")


def _carries_data(response: httpx.Response) -> bool:
    body = json_body(response)
    if isinstance(body, list):
        return bool(body)
    if isinstance(body, dict):
        return any(key in body for key in ("invite", "inviteToken", "patientURL", "id", "_id"))
    return False


@clause("HCW-GEN-02", "HCW-GEN-03")
def unauthenticated_requests(ctx: Context) -> None:
    """Every invite/consultation operation without valid credentials: 401, JSON, no data."""
    now = int(ctx.now())
    subject = NO_SUCH_ID
    if ctx.has("hcw.email") and ctx.has("hcw.password"):
        token = login_jwt(login(ctx))
        if token is not None:
            # A forged token for the real account tells "signature unchecked" apart.
            subject = str(unverified_claims(token).get("id", subject))
    credentials = [
        ("no token", None),
        ("a malformed token", "not-a-jwt"),
        ("a token signed with another key", _foreign_token(subject, now, now + 900)),
        (
            "an expired token (exp 30 min ago; the run cannot sign with the server's key, so "
            "it is foreign-signed too)",
            _foreign_token(subject, now - 3600, now - 1800),
        ),
    ]
    fake = "".join(ctx.random.choice("0123456789abcdef") for _ in range(24))
    operations: list[tuple[str, str, Any]] = [
        ("GET", INVITE, None),
        ("POST", INVITE, {}),
        ("GET", f"{INVITE}/{fake}", None),
        ("PATCH", f"{INVITE}/{fake}", {"firstName": "Teleconform"}),
        ("DELETE", f"{INVITE}/{fake}", None),
        ("POST", f"{INVITE}/{fake}/consultation/close", None),
    ]
    if not ctx.writes_allowed:
        # Read-only on a live target: even a request that should be refused is not sent.
        operations = [op for op in operations if op[0] == "GET"]
    not_refused: list[tuple[str, httpx.Response]] = []
    not_json: list[httpx.Response] = []
    sample: httpx.Response | None = None
    for label, token in credentials:
        headers = (
            {} if token is None else {"x-access-token": token, "Authorization": f"Bearer {token}"}
        )
        for method, path, body in operations:
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs["json"] = body
            response = ctx.request(method, path, **kwargs)
            sample = sample or response
            if response.status_code != 401 or _carries_data(response):
                not_refused.append((label, response))
            if not is_json_response(response):
                not_json.append(response)
    assert sample is not None
    if not_refused:
        label, first = not_refused[0]
        ctx.fails(
            "HCW-GEN-02",
            f"{len(not_refused)} of {len(credentials) * len(operations)} "
            f"requests without valid credentials were not refused with 401, e.g. {label}: "
            f"{describe(first)}",
            *[r for _, r in not_refused[:3]],
        )
    else:
        ctx.passes(
            "HCW-GEN-02",
            f"{len(credentials) * len(operations)} requests (no token, "
            "malformed, foreign-signed, expired) on every invite and consultation "
            "operation got 401 without data",
            sample,
        )
    if ctx.has("hcw.email") and ctx.has("hcw.password"):
        # The login answer and authorized error answers (unknown id, invalid body) too.
        headers = auth_headers(ctx)
        answers = [login(ctx), ctx.request("GET", f"{INVITE}/{fake}", headers=headers)]
        if ctx.writes_allowed:
            answers.append(ctx.request("POST", INVITE, headers=headers, json={}))
        for response in answers:
            sample = response
            if not is_json_response(response):
                not_json.append(response)
    wrong = ctx.request(
        "POST",
        LOGIN,
        json={"email": f"teleconform-{ctx.run_id}@example.org", "password": "teleconform-wrong"},
    )
    if not is_json_response(wrong):
        not_json.append(wrong)
    if not_json:
        ctx.fails(
            "HCW-GEN-03",
            f"{len(not_json)} error responses are not JSON, e.g. {describe(not_json[0])}",
            *not_json[:3],
        )
    else:
        ctx.passes(
            "HCW-GEN-03",
            "login, 401, 404, 400 and login error responses carry a JSON "
            "content type and a JSON body",
            sample,
            wrong,
        )
