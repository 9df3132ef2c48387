"""HCW-CLIENT-01...09: each clause fails on a client that breaks it and passes on one that
keeps it, judged on exchanges fed straight to the validator."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from teleconform.client import ClientValidator, Exchange

BASE = "http://sandbox.test"
SECRET = "sso-shared-secret-" + "s" * 64
APP_SECRET = "app-secret-" + "a" * 64
NOW = 1_800_000_000.0
DOCTOR = "doctor@example.org"


def access_token(user: str = "u1", *, exp: float = NOW + 900) -> str:
    return jwt.encode(
        {"id": user, "iat": int(exp - 900), "exp": int(exp)}, APP_SECRET, algorithm="HS256"
    )


def sso_token(**claims: Any) -> str:
    alg = claims.pop("alg", "HS256")
    secret = claims.pop("secret", SECRET)
    payload = {"email": DOCTOR, "timestamp": int(NOW), **claims}
    return jwt.encode(payload, secret, algorithm=alg)


def validator() -> ClientValidator:
    return ClientValidator("hcw", credentials={"TELECONFORM_HCW_SSO_SECRET": SECRET})


def ex(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
    response: Any = None,
    response_headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    at: float = NOW,
) -> Exchange:
    hdrs = dict(headers or {})
    if body is not None and raw is None:
        hdrs.setdefault("content-type", "application/json")
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return Exchange.of(
        method,
        BASE + path,
        headers=hdrs,
        body=content,
        status=status,
        response_headers={"content-type": "application/json", **(response_headers or {})},
        response_body=b"" if response is None else json.dumps(response).encode(),
        at=at,
    )


def login(v: ClientValidator, token: str | None = None, **kw: Any) -> str:
    token = token or access_token()
    v.observe(
        ex(
            "POST",
            "/api/v1/login-local",
            body={"email": "scheduler@example.org", "password": "pw-123456"},
            response={"message": "Login Successful", "user": {"token": token}},
            **kw,
        )
    )
    return token


def both(token: str) -> dict[str, str]:
    return {"x-access-token": token, "authorization": f"Bearer {token}"}


GOOD_INVITE = {
    "isPatientInvite": True,
    "emailAddress": "patient@example.org",
    "phoneNumber": "+41 79 123 45 67",
    "doctorEmail": DOCTOR,
    "gender": "female",
    "language": "fr",
    "scheduledFor": "2027-01-15T10:00:00+01:00",
}


def create_invite(
    v: ClientValidator, token: str, body: Any = None, invite_id: str = "i1", **kw: Any
) -> None:
    v.observe(
        ex(
            "POST",
            "/api/v1/invite",
            body=GOOD_INVITE if body is None else body,
            headers=both(token),
            response={
                "success": True,
                "invite": {"id": invite_id, "inviteToken": f"tok-{invite_id}"},
            },
            **kw,
        )
    )


def verdict(v: ClientValidator, clause: str) -> str:
    return v.verdicts()[clause]


# ---- HCW-CLIENT-01 ----------------------------------------------------------------------
def test_01_documented_login_passes() -> None:
    v = validator()
    login(v)
    assert verdict(v, "HCW-CLIENT-01") == "pass"


@pytest.mark.parametrize(
    "exchange",
    [
        ex(
            "POST",
            "/api/v1/login-local",
            raw=b"email=a%40b.org&password=x",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        ex("POST", "/api/v1/login-local?email=a%40b.org&password=secret1", body={}),
        ex("POST", "/api/v1/login-local", body={"email": "a@b.org"}),
        ex("GET", "/api/v1/login-local?email=a%40b.org&password=secret1"),
    ],
    ids=["form-encoded", "query-string", "no-password", "get"],
)
def test_01_undocumented_logins_fail(exchange: Exchange) -> None:
    v = validator()
    v.observe(exchange)
    assert verdict(v, "HCW-CLIENT-01") == "fail"


def test_01_access_token_in_the_query_string_fails() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", f"/api/v1/invite/i1?token={token}", headers=both(token)))
    assert verdict(v, "HCW-CLIENT-01") == "fail"


# ---- HCW-CLIENT-02 / 03 ------------------------------------------------------------------
def test_02_03_both_headers_pass() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(token)))
    assert (verdict(v, "HCW-CLIENT-02"), verdict(v, "HCW-CLIENT-03")) == ("pass", "pass")


def test_02_a_token_from_the_login_cookie_counts_as_issued() -> None:
    v = validator()
    token = access_token()
    v.observe(
        ex(
            "POST",
            "/api/v1/login-local",
            body={"email": "scheduler@example.org", "password": "pw-123456"},
            response={"message": "Login Successful"},
            response_headers={"set-cookie": f"token={token}; HttpOnly; Path=/"},
        )
    )
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(token)))
    assert verdict(v, "HCW-CLIENT-02") == "pass"
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(access_token("other"))))
    assert verdict(v, "HCW-CLIENT-02") == "fail"


def test_02_bearer_only_fails_02_and_passes_03() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers={"authorization": f"Bearer {token}"}))
    assert (verdict(v, "HCW-CLIENT-02"), verdict(v, "HCW-CLIENT-03")) == ("fail", "pass")


def test_02_no_token_or_a_forged_one_fails() -> None:
    v = validator()
    login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", status=401))
    assert verdict(v, "HCW-CLIENT-02") == "fail"
    v = validator()
    login(v)
    forged = access_token("someone-else")
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(forged), status=401))
    assert verdict(v, "HCW-CLIENT-02") == "fail"


def test_02_public_operations_need_no_token() -> None:
    v = validator()
    v.observe(ex("POST", "/api/v1/login-invite", body={"inviteToken": "abc"}))
    assert verdict(v, "HCW-CLIENT-02") == "skip"


def test_03_x_access_token_alone_fails() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers={"x-access-token": token}))
    assert (verdict(v, "HCW-CLIENT-02"), verdict(v, "HCW-CLIENT-03")) == ("pass", "fail")


def test_03_refused_x_access_token_then_bearer_passes() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers={"x-access-token": token}, status=401))
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(token)))
    assert verdict(v, "HCW-CLIENT-03") == "pass"


def test_03_refused_x_access_token_never_recovered_fails() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers={"x-access-token": token}, status=401))
    assert verdict(v, "HCW-CLIENT-03") == "fail"
    assert "never retried" in v.violations()[0].message


# ---- HCW-CLIENT-04 ------------------------------------------------------------------------
def test_04_documented_invite_bodies_pass() -> None:
    v = validator()
    token = login(v)
    create_invite(v, token)
    v.observe(
        ex(
            "PATCH",
            "/api/v1/invite/i1",
            body={"scheduledFor": "2027-01-16T09:00:00Z"},
            headers=both(token),
        )
    )
    assert verdict(v, "HCW-CLIENT-04") == "pass"


@pytest.mark.parametrize(
    "change",
    [
        {"isPatientInvite": False},
        {"isPatientInvite": None},
        {"doctorEmail": None},
        {"emailAddress": None, "phoneNumber": None},
        {"phoneNumber": "079 123 45 67"},
        {"emailAddress": "not-an-email"},
        {"gender": "other"},
        {"language": "fra"},
        {"scheduledFor": "2027-01-15T10:00:00"},
        {"scheduledFor": 1800000000000},
        {"metadata": {"x": 1}},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_04_undocumented_creation_bodies_fail(change: dict[str, Any]) -> None:
    v = validator()
    token = login(v)
    body = {k: val for k, val in {**GOOD_INVITE, **change}.items() if val is not None}
    create_invite(v, token, body, status=400)
    assert verdict(v, "HCW-CLIENT-04") == "fail"


def test_04_queue_instead_of_doctor_email_and_undocumented_real_fields_pass() -> None:
    v = validator()
    token = login(v)
    body = {**GOOD_INVITE, "queue": "General", "patientTZ": "Europe/Zurich", "note": "n"}
    del body["doctorEmail"]
    create_invite(v, token, body)
    assert verdict(v, "HCW-CLIENT-04") == "pass"


def test_04_update_with_an_unlisted_field_or_as_form_fails() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("PATCH", "/api/v1/invite/i1", body={"status": "SENT"}, headers=both(token)))
    assert verdict(v, "HCW-CLIENT-04") == "fail"
    v = validator()
    token = login(v)
    v.observe(
        ex(
            "PATCH",
            "/api/v1/invite/i1",
            raw=b"language=fr",
            headers={**both(token), "content-type": "application/x-www-form-urlencoded"},
        )
    )
    assert verdict(v, "HCW-CLIENT-04") == "fail"


# ---- HCW-CLIENT-05 ------------------------------------------------------------------------
def request_consultation(v: ClientValidator, invite_id: str = "i1") -> None:
    patient = access_token("patient")
    v.observe(
        ex(
            "POST",
            "/api/v1/login-invite",
            body={"inviteToken": f"tok-{invite_id}"},
            response={"user": {"token": patient}},
        )
    )
    v.observe(
        ex(
            "POST",
            "/api/v1/consultation",
            body={"invitationToken": f"tok-{invite_id}"},
            headers=both(patient),
            response={"id": "c1", "invite": invite_id, "status": "pending"},
        )
    )


def test_05_delete_of_an_unused_invite_passes() -> None:
    v = validator()
    token = login(v)
    create_invite(v, token)
    v.observe(ex("DELETE", "/api/v1/invite/i1", headers=both(token)))
    assert verdict(v, "HCW-CLIENT-05") == "pass"


def test_05_delete_after_the_consultation_request_fails_even_when_the_server_allows_it() -> None:
    v = validator()
    token = login(v)
    create_invite(v, token)
    request_consultation(v)
    v.observe(ex("DELETE", "/api/v1/invite/i1", headers=both(token), status=200))
    assert verdict(v, "HCW-CLIENT-05") == "fail"


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_05_a_refusal_naming_the_consultation_fails(status: int) -> None:
    v = validator()
    token = login(v)
    v.observe(
        ex(
            "DELETE",
            "/api/v1/invite/i9",
            headers=both(token),
            status=status,
            response={
                "success": False,
                "error": "The patient requested a consultation: "
                "the invitation can no longer be deleted",
            },
        )
    )
    assert verdict(v, "HCW-CLIENT-05") == "fail"


def test_05_other_refusals_are_not_that_clause() -> None:
    v = validator()
    token = login(v)
    v.observe(
        ex(
            "DELETE",
            "/api/v1/invite/i9",
            headers=both(token),
            status=404,
            response={"error": "Not Found"},
        )
    )
    assert verdict(v, "HCW-CLIENT-05") == "pass"


def test_05_refused_delete_sent_again_fails() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("DELETE", "/api/v1/invite/i9", headers=both(token), status=409))
    v.observe(ex("DELETE", "/api/v1/invite/i9", headers=both(token), status=409))
    messages = [f.message for f in v.violations()]
    assert verdict(v, "HCW-CLIENT-05") == "fail"
    assert any("again unchanged" in m for m in messages)


# ---- HCW-CLIENT-06 / 07 ------------------------------------------------------------------
def sso(
    v: ClientValidator,
    token: str | None,
    *,
    path: str | None = None,
    body: Any = None,
    at: float = NOW,
) -> None:
    v.observe(
        ex(
            "GET",
            path or f"/api/v1/external-auth-callback?token={token}",
            body=body,
            status=302,
            at=at,
            response_headers={"location": f"http://x/app?tk={access_token('doc')}"},
        )
    )


def test_06_07_documented_fresh_tokens_pass() -> None:
    v = validator()
    sso(v, sso_token())
    sso(v, sso_token(timestamp=int(NOW) - 60), at=NOW)
    sso(
        v,
        None,
        path="/api/v1/external-auth-callback?token="
        f"{sso_token(jti='x')}&returnUrl=%2Fapp%2Fconsultations",
    )
    assert (verdict(v, "HCW-CLIENT-06"), verdict(v, "HCW-CLIENT-07")) == ("pass", "pass")


@pytest.mark.parametrize(
    "claims",
    [
        {"timestamp": int(NOW * 1000)},
        {"timestamp": int(NOW) - 301},
        {"timestamp": int(NOW) + 31},
        {"timestamp": str(int(NOW))},
        {"email": "not an email"},
        {"secret": "another-secret-" + "x" * 64},
        {"alg": "HS512"},
    ],
    ids=["milliseconds", "too-old", "future", "string", "email", "wrong-secret", "hs512"],
)
def test_06_undocumented_tokens_fail(claims: dict[str, Any]) -> None:
    v = validator()
    sso(v, sso_token(**claims))
    assert verdict(v, "HCW-CLIENT-06") == "fail"


def test_06_token_in_the_body_or_foreign_return_url_fails() -> None:
    v = validator()
    sso(v, None, path="/api/v1/external-auth-callback", body={"token": sso_token()})
    assert verdict(v, "HCW-CLIENT-06") == "fail"
    v = validator()
    sso(
        v,
        None,
        path=f"/api/v1/external-auth-callback?token={sso_token()}"
        "&returnUrl=https%3A%2F%2Fevil.example%2F",
    )
    assert verdict(v, "HCW-CLIENT-06") == "fail"


def test_07_replayed_sso_token_fails() -> None:
    v = validator()
    token = sso_token()
    sso(v, token)
    sso(v, token)
    assert (verdict(v, "HCW-CLIENT-06"), verdict(v, "HCW-CLIENT-07")) == ("pass", "fail")


def test_sso_issued_token_counts_as_issued() -> None:
    v = validator()
    sso(v, sso_token())
    doctor = access_token("doc")
    v.observe(ex("POST", "/api/v1/consultation/c1/accept", headers=both(doctor)))
    assert verdict(v, "HCW-CLIENT-02") == "pass"


# ---- HCW-CLIENT-08 ------------------------------------------------------------------------
def test_08_sign_in_again_after_expiry_passes() -> None:
    v = validator()
    old = login(v, access_token(exp=NOW - 1))
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(old), status=401))
    new = login(v, access_token("u1", exp=NOW + 900))
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(new)))
    assert verdict(v, "HCW-CLIENT-08") == "pass"


def test_08_retrying_the_expired_token_fails() -> None:
    v = validator()
    old = login(v, access_token(exp=NOW - 1))
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(old), status=401))
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(old), status=401))
    assert verdict(v, "HCW-CLIENT-08") == "fail"


def test_08_giving_up_after_expiry_fails_and_no_expiry_is_skip() -> None:
    v = validator()
    old = login(v, access_token(exp=NOW - 1))
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(old), status=401))
    assert verdict(v, "HCW-CLIENT-08") == "fail"
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers=both(token), status=401))
    assert verdict(v, "HCW-CLIENT-08") == "skip"


# ---- HCW-CLIENT-09 ------------------------------------------------------------------------
def test_09_close_of_a_started_consultation_once_passes() -> None:
    v = validator()
    token = login(v)
    create_invite(v, token)
    request_consultation(v)
    sso(v, sso_token())
    v.observe(
        ex(
            "POST",
            "/api/v1/consultation/c1/accept",
            headers=both(access_token("doc")),
            response={"message": "success"},
        )
    )
    v.observe(ex("POST", "/api/v1/invite/i1/consultation/close", headers=both(token)))
    assert verdict(v, "HCW-CLIENT-09") == "pass"


def test_09_close_unseen_or_twice_fails() -> None:
    v = validator()
    token = login(v)
    create_invite(v, token)
    v.observe(ex("POST", "/api/v1/invite/i1/consultation/close", headers=both(token), status=404))
    assert verdict(v, "HCW-CLIENT-09") == "fail"
    v = validator()
    token = login(v)
    create_invite(v, token)
    request_consultation(v)
    v.observe(
        ex(
            "POST",
            "/api/v1/consultation/c1/accept",
            headers=both(access_token("doc")),
            response={"message": "success"},
        )
    )
    for _ in range(2):
        v.observe(ex("POST", "/api/v1/invite/i1/consultation/close", headers=both(token)))
    assert verdict(v, "HCW-CLIENT-09") == "fail"


# ---- report shape ---------------------------------------------------------------------------
def test_unexercised_clauses_are_skip_with_a_reason_and_evidence_is_redacted() -> None:
    v = validator()
    token = login(v)
    v.observe(ex("GET", "/api/v1/invite/i1", headers={"x-access-token": token}))
    run = v.run_json(BASE)
    assert run["target"] == {"mode": "client", "base_url": BASE}
    by_id = {c["id"]: c for c in run["clauses"]}
    assert by_id["HCW-CLIENT-04"]["verdict"] == "skip"
    assert by_id["HCW-CLIENT-04"]["reason"] == "the client never created or updated an invite"
    failing = by_id["HCW-CLIENT-03"]
    assert failing["verdict"] == "fail" and failing["evidence"]
    text = json.dumps(run)
    assert token not in text and "pw-123456" not in text and "scheduler@example.org" not in text


def test_observe_returns_the_findings_of_that_exchange() -> None:
    v = validator()
    found = v.observe(ex("POST", "/api/v1/login-local", body={"email": "a@b.org"}, at=time.time()))
    assert [(f.clause, f.verdict) for f in found] == [("HCW-CLIENT-01", "fail")]
    assert "no password" in found[0].line()
