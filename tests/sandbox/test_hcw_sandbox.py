"""The HCW@Home reference sandbox: its documented behaviour, real JWTs, clock, and faults."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.hcw import CREDENTIALS, FAULTS, create_app

EMAIL = CREDENTIALS["TELECONFORM_HCW_EMAIL"]
PASSWORD = CREDENTIALS["TELECONFORM_HCW_PASSWORD"]
DOCTOR = CREDENTIALS["TELECONFORM_HCW_DOCTOR_EMAIL"]
QUEUE = CREDENTIALS["TELECONFORM_HCW_QUEUE"]
SECRET = CREDENTIALS["TELECONFORM_HCW_SSO_SECRET"]
SSO = "/api/v1/external-auth-callback"
T0 = 1_800_000_000.0


class Clock:
    """A settable clock for create_app(clock=...)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(clock=clock), raise_server_exceptions=False) as c:
        yield c


def login(c: httpx.Client, headers: dict[str, str] | None = None) -> httpx.Response:
    return c.post(
        "/api/v1/login-local", json={"email": EMAIL, "password": PASSWORD}, headers=headers or {}
    )


def token_of(c: httpx.Client) -> str:
    r = login(c)
    assert r.status_code == 200, r.text
    return str(r.json()["user"]["token"])


def invite_body(**extra: Any) -> dict[str, Any]:
    body = {
        "firstName": "Tele",
        "lastName": "Conform",
        "gender": "female",
        "emailAddress": "patient@example.org",
        "language": "fr",
        "doctorEmail": DOCTOR,
        "isPatientInvite": True,
    }
    body.update(extra)
    return body


def create(c: httpx.Client, headers: dict[str, str], **extra: Any) -> httpx.Response:
    return c.post("/api/v1/invite", json=invite_body(**extra), headers=headers)


def sso_token(now: float, key: str = SECRET, **claims: Any) -> str:
    payload: dict[str, Any] = {"email": DOCTOR, "timestamp": int(now), "jti": uuid.uuid4().hex}
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm="HS256")


def sso(c: httpx.Client, token: str | None, **params: str) -> httpx.Response:
    query = dict(params)
    if token is not None:
        query["token"] = token
    return c.post(SSO, params=query, follow_redirects=False)


def tk_of(r: httpx.Response) -> str:
    assert r.status_code == 302, r.text
    return httpx.URL(r.headers["location"]).params["tk"]


# -- login and access tokens ----------------------------------------------------------------


def test_login_returns_real_hs256_jwt_and_cookie(client: TestClient) -> None:
    r = login(client)
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == "Login Successful"
    assert body["user"]["role"] == "scheduler"
    token = body["user"]["token"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["id"] == body["user"]["id"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert client.cookies.get("token") == token
    assert "localLoginToken" not in body


@pytest.mark.parametrize("email,password", [(EMAIL, "wrong-password"), ("ghost@example.org", "x")])
def test_wrong_credentials_get_401_without_token(
    client: TestClient, email: str, password: str
) -> None:
    r = client.post("/api/v1/login-local", json={"email": email, "password": password})
    assert r.status_code == 401
    assert "eyJ" not in r.text and "set-cookie" not in r.headers


def test_login_missing_fields_400(client: TestClient) -> None:
    assert client.post("/api/v1/login-local", json={"email": EMAIL}).status_code == 400


@pytest.mark.parametrize("style", ["x-access-token", "bearer"])
def test_both_documented_headers_authorize(client: TestClient, style: str) -> None:
    token = token_of(client)
    headers = (
        {"x-access-token": token}
        if style == "x-access-token"
        else {"Authorization": f"Bearer {token}"}
    )
    assert client.get("/api/v1/invite", headers=headers).status_code == 200


def test_bad_tokens_get_401_json(client: TestClient, clock: Clock) -> None:
    token = token_of(client)
    claims = jwt.decode(token, options={"verify_signature": False})
    foreign = jwt.encode(claims, "another-key-that-is-long-enough-for-hs256!", algorithm="HS256")
    client.cookies.clear()
    for headers in (
        {},
        {"x-access-token": "garbage"},
        {"x-access-token": foreign},
        {"Authorization": token},
    ):
        r = client.get("/api/v1/invite", headers=headers)
        assert r.status_code == 401 and r.json() == {"error": "Unauthorized"}, headers
    clock.now += 15 * 60
    r = client.get("/api/v1/invite", headers={"x-access-token": token})
    assert r.status_code == 401, "expired on the injected clock"


def test_the_login_cookie_alone_does_not_authorize(client: TestClient) -> None:
    token_of(client)
    assert client.cookies.get("token")
    assert client.get("/api/v1/invite").status_code == 401


# -- invites -----------------------------------------------------------------------------------


def test_invite_create_shape_matches_the_guide(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    r = create(client, h)
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    inv = body["invite"]
    assert inv["createdAt"] == inv["updatedAt"] == int(T0 * 1000)
    assert (inv["status"], inv["type"], inv["scheduledFor"], inv["patientLanguage"]) == (
        "SENT",
        "PATIENT",
        0,
        "fr",
    )
    assert len(inv["id"]) == 24 and inv["patientURL"].endswith(inv["inviteToken"])
    for key in (
        "patientInvite",
        "translationOrganization",
        "translator",
        "translatorRequestInvite",
        "translatorInvite",
        "guestInvite",
    ):
        assert inv[key] is None


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"emailAddress": "not-an-email"}, 400),
        ({"gender": "other"}, 400),
        ({"firstName": 123}, 400),
        ({"emailAddress": None}, 400),
        ({"isPatientInvite": False}, 400),
        ({"doctorEmail": "nobody@example.org"}, 400),
        ({"scheduledFor": "not-a-date"}, 400),
        ({"scheduledFor": "2020-01-01T00:00:00Z"}, 400),
        ({"language": "french"}, 400),
        ({"emailAddress": None, "phoneNumber": "+44 7700 900123"}, 200),
        ({"doctorEmail": None, "queue": QUEUE}, 200),
    ],
)
def test_invite_validation(client: TestClient, change: dict[str, Any], expected: int) -> None:
    h = {"x-access-token": token_of(client)}
    body = {k: v for k, v in invite_body(**change).items() if v is not None}
    r = client.post("/api/v1/invite", json=body, headers=h)
    assert r.status_code == expected, r.text
    assert r.headers["content-type"].startswith("application/json")


def test_malformed_json_and_wrong_content_type(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    r = client.post(
        "/api/v1/invite",
        content=b'{"emailAddress": ',
        headers=h | {"content-type": "application/json"},
    )
    assert r.status_code == 400
    r = client.post(
        "/api/v1/invite",
        content=b"a=b",
        headers=h | {"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415


def test_whitespace_is_malformed_json_but_an_empty_body_is_an_empty_object(
    client: TestClient,
) -> None:
    """Express body-parser (strict): "" is {}, "  " is a syntax error."""
    h = {"x-access-token": token_of(client), "content-type": "application/json"}
    invite = create(client, {"x-access-token": token_of(client)}).json()["invite"]
    r = client.patch(f"/api/v1/invite/{invite['id']}", content=b" ", headers=h)
    assert r.status_code == 400
    r = client.patch(f"/api/v1/invite/{invite['id']}", content=b"", headers=h)
    assert r.status_code == 200, r.text


def test_queue_by_name_or_id_and_scheduled_for_offset(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    by_name = create(client, h, queue=QUEUE).json()["invite"]
    by_id = create(client, h, queue=by_name["queue"]).json()["invite"]
    assert by_name["queue"] == by_id["queue"] and by_name["queue"]
    assert create(client, h, queue="no-such-queue").status_code == 400
    r = create(client, h, scheduledFor="2027-03-01T12:00:00+02:00")
    assert r.json()["invite"]["scheduledFor"] == 1803895200000


def test_get_patch_delete(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    inv = create(client, h).json()["invite"]
    path = f"/api/v1/invite/{inv['id']}"
    assert client.get(path, headers=h).json()["firstName"] == "Tele"
    r = client.patch(path, json={"firstName": "Changed"}, headers=h)
    assert r.status_code == 200 and r.json()["invite"]["firstName"] == "Changed"
    assert client.get(path, headers=h).json()["firstName"] == "Changed"
    assert client.delete(path, headers=h).status_code == 200
    assert client.get(path, headers=h).status_code == 404
    for method in ("GET", "PATCH", "DELETE"):
        for bad in ("0" * 24, "not-an-id"):
            r = client.request(method, f"/api/v1/invite/{bad}", headers=h, json={})
            assert r.status_code == 404 and r.json() == {"error": "Not Found"}


# -- the patient flow and close ----------------------------------------------------------------


def used_invite(c: httpx.Client, h: dict[str, str]) -> tuple[dict[str, Any], dict[str, str], str]:
    """An invite whose patient logged in and requested a consultation."""
    inv = create(c, h).json()["invite"]
    r = c.post("/api/v1/login-invite", json={"inviteToken": inv["inviteToken"]})
    assert r.status_code == 200
    patient = {"Authorization": f"Bearer {r.json()['user']['token']}"}
    r = c.post(
        "/api/v1/consultation", json={"invitationToken": inv["inviteToken"]}, headers=patient
    )
    assert r.status_code == 200 and r.json()["status"] == "pending"
    return inv, patient, r.json()["_id"]


def test_lifecycle_delete_refused_then_accept_and_close(client: TestClient, clock: Clock) -> None:
    h = {"x-access-token": token_of(client)}
    inv, patient, cid = used_invite(client, h)
    path = f"/api/v1/invite/{inv['id']}"
    assert client.delete(path, headers=h).status_code == 409
    assert client.get(path, headers=h).status_code == 200
    assert client.post(f"{path}/consultation/close", headers=h).status_code == 409
    doctor = {"x-access-token": tk_of(sso(client, sso_token(clock.now)))}
    assert client.post(f"{path}/consultation/close", headers=doctor).status_code == 403
    assert client.post(f"/api/v1/consultation/{cid}/accept", headers=doctor).status_code == 200
    clock.now += 60
    r = client.post(f"{path}/consultation/close", headers=h)
    assert r.status_code == 200
    cons = r.json()
    assert (cons["_id"], cons["status"], cons["invite"]) == (cid, "closed", inv["id"])
    assert cons["closedAt"] == int(clock.now * 1000) and cons["duration"] == 60000
    again = client.post(f"{path}/consultation/close", headers=h)
    assert again.status_code == 200 and again.json()["status"] == "closed"
    r = client.post(
        "/api/v1/consultation", json={"invitationToken": inv["inviteToken"]}, headers=patient
    )
    assert 400 <= r.status_code < 500
    assert client.get(path, headers=h).status_code == 404


def test_close_before_use_is_404(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    inv = create(client, h).json()["invite"]
    r = client.post(f"/api/v1/invite/{inv['id']}/consultation/close", headers=h)
    assert r.status_code == 404 and r.json()["error"] == "Consultation not found"


def test_patient_token_cannot_manage_invites(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    inv, patient, _ = used_invite(client, h)
    assert client.get(f"/api/v1/invite/{inv['id']}", headers=patient).status_code == 403


# -- SSO ---------------------------------------------------------------------------------------


def test_sso_signs_the_doctor_in(client: TestClient, clock: Clock) -> None:
    r = sso(client, sso_token(clock.now), returnUrl="/app/consultations")
    assert r.headers["location"].startswith("http://testserver/app?tk=")
    assert r.headers["location"].endswith("&returnUrl=%2Fapp%2Fconsultations")
    tk = tk_of(r)
    assert client.get("/api/v1/invite", headers={"x-access-token": tk}).status_code == 200
    r = client.get(SSO, params={"token": sso_token(clock.now)}, follow_redirects=False)
    assert r.status_code == 302, "GET works like POST"


@pytest.mark.parametrize(
    "age,accepted",
    [
        (0, True),
        (280, True),
        (300, True),
        (301, False),
        (320, False),
        (-20, True),
        (-31, False),
        (-3600, False),
        (-10 * 365 * 86400, False),
    ],
)
def test_sso_window_on_the_injected_clock(
    client: TestClient, clock: Clock, age: int, accepted: bool
) -> None:
    r = sso(client, sso_token(clock.now - age))
    assert (r.status_code == 302) is accepted
    if not accepted:
        assert r.status_code == 401 and "location" not in r.headers


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(now: float) -> dict[str, str]:
    good = sso_token(now)
    head, _, sig = good.split(".")
    claims = {"email": DOCTOR, "timestamp": int(now), "jti": uuid.uuid4().hex}
    return {
        "wrong key": sso_token(now, key="a-completely-different-shared-secret-value"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "tampered": f"{head}.{_b64(claims | {'role': 'admin'})}.{sig}",
        "ms timestamp": sso_token(now, timestamp=int((now - 600) * 1000)),
        "non-numeric": sso_token(now, timestamp="not-a-number"),
        "string seconds": sso_token(now, timestamp=str(int(now))),
        "no email": sso_token(now, email=None),
        "no timestamp": sso_token(now, timestamp=None),
        "scheduler": sso_token(now, email=EMAIL),
        "unknown": sso_token(now, email="new-doctor@example.org"),
        "expired exp": sso_token(now, exp=int(now) - 1),
    }


def test_sso_refusals(client: TestClient, clock: Clock) -> None:
    for name, token in forged_tokens(clock.now).items():
        r = sso(client, token)
        assert r.status_code == 401, name
        assert r.headers["content-type"].startswith("application/json")
    assert sso(client, None).status_code == 400
    assert sso(client, "not.a.jwt").status_code == 401


def test_sso_replay_and_offsite_return_url(client: TestClient, clock: Clock) -> None:
    token = sso_token(clock.now)
    assert sso(client, token).status_code == 302
    assert sso(client, token).status_code == 401
    same_jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert sso(client, sso_token(clock.now + 1, jti=same_jti)).status_code == 401
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        r = sso(client, sso_token(clock.now), returnUrl=target)
        assert httpx.URL(r.headers["location"]).host == "testserver", target
        assert "evil" not in r.headers["location"]


# -- faults ------------------------------------------------------------------------------------


def test_every_fault_declares_known_clauses() -> None:
    assert len(FAULTS) >= 40
    for fault in FAULTS.values():
        assert fault.clauses and all(c.startswith("HCW-") for c in fault.clauses), fault.name
    with pytest.raises(ValueError, match="unknown fault"):
        create_app(faults=["no-such-fault"])


Probe = Callable[[TestClient, Clock, dict[str, str]], bool]


def _login_status(c: TestClient, f: dict[str, str]) -> httpx.Response:
    r: httpx.Response = c.post(
        "/api/v1/login-local", json={"email": EMAIL, "password": "nope"}, headers=f
    )
    return r


def _create_status(change: dict[str, Any]) -> Probe:
    def probe(c: TestClient, clk: Clock, f: dict[str, str]) -> bool:
        h = {"x-access-token": token_of(c)} | f
        body = {k: v for k, v in invite_body(**change).items() if v is not None}
        return bool(c.post("/api/v1/invite", json=body, headers=h).status_code == 200)

    return probe


def _offset_roundtrip(c: TestClient, clk: Clock, f: dict[str, str]) -> bool:
    h = {"x-access-token": token_of(c)} | f
    r = create(c, h, scheduledFor="2027-03-01T12:00:00+02:00")
    return bool(r.json()["invite"]["scheduledFor"] == 1803895200000)


# (fault, probe that is True on the clean sandbox and False with the fault)
BEHAVIOUR: list[tuple[str, Probe]] = [
    (
        "bearer-only",
        lambda c, clk, f: (
            c.get("/api/v1/invite", headers={"x-access-token": token_of(c)} | f).status_code == 200
        ),
    ),
    ("wrong-creds-400", lambda c, clk, f: _login_status(c, f).status_code == 401),
    ("wrong-creds-token", lambda c, clk, f: "eyJ" not in _login_status(c, f).text),
    ("no-cookie", lambda c, clk, f: "token=" in login(c, f).headers.get("set-cookie", "")),
    ("login-2fa-required", lambda c, clk, f: "token" in login(c, f).json().get("user", {})),
    (
        "malformed-json-500",
        lambda c, clk, f: (
            c.post(
                "/api/v1/invite",
                content=b"{",
                headers={"x-access-token": token_of(c), "content-type": "application/json"} | f,
            ).status_code
            == 400
        ),
    ),
    ("gender-other-accepted", lambda c, clk, f: not _create_status({"gender": "other"})(c, clk, f)),
    (
        "phone-only-rejected",
        _create_status({"emailAddress": None, "phoneNumber": "+44 7700 900123"}),
    ),
    (
        "no-contact-accepted",
        lambda c, clk, f: not _create_status({"emailAddress": None})(c, clk, f),
    ),
    ("scheduledfor-local-time", _offset_roundtrip),
    ("scheduledfor-seconds", _offset_roundtrip),
    (
        "unknown-doctor-accepted",
        lambda c, clk, f: not _create_status({"doctorEmail": "x@example.org"})(c, clk, f),
    ),
    (
        "sso-window-10min",
        lambda c, clk, f: (
            c.post(
                SSO, params={"token": sso_token(clk.now - 500)}, headers=f, follow_redirects=False
            ).status_code
            == 401
        ),
    ),
    (
        "sso-future-accepted",
        lambda c, clk, f: (
            c.post(
                SSO, params={"token": sso_token(clk.now + 3600)}, headers=f, follow_redirects=False
            ).status_code
            == 401
        ),
    ),
    ("sso-no-token-200", lambda c, clk, f: c.post(SSO, headers=f).status_code == 400),
]


@pytest.mark.parametrize("fault,probe", BEHAVIOUR, ids=[b[0] for b in BEHAVIOUR])
def test_fault_changes_behaviour_per_request(
    client: TestClient, clock: Clock, fault: str, probe: Probe
) -> None:
    assert probe(client, clock, {}), "clean behaviour"
    assert not probe(client, clock, {"X-Teleconform-Fault": f"{fault}, unknown-name"}), fault


def test_fault_switched_on_for_the_whole_app(clock: Clock) -> None:
    with TestClient(
        create_app(faults=["bearer-only"], clock=clock), raise_server_exceptions=False
    ) as c:
        token = token_of(c)
        assert c.get("/api/v1/invite", headers={"x-access-token": token}).status_code == 401
        assert (
            c.get("/api/v1/invite", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )


def test_tampered_fault_trusts_a_used_signature(client: TestClient, clock: Clock) -> None:
    f = {"X-Teleconform-Fault": "sso-tampered-accepted"}
    good = sso_token(clock.now)
    head, _, sig = good.split(".")
    tampered = f"{head}.{_b64({'email': DOCTOR, 'timestamp': int(clock.now), 'jti': 'x'})}.{sig}"
    assert client.post(SSO, params={"token": tampered}, headers=f).status_code == 401
    assert (
        client.post(SSO, params={"token": good}, headers=f, follow_redirects=False).status_code
        == 302
    )
    assert (
        client.post(SSO, params={"token": tampered}, headers=f, follow_redirects=False).status_code
        == 302
    )
    assert sso(client, tampered).status_code == 401, "without the fault"


def test_html_error_pages_and_500_faults(client: TestClient) -> None:
    r = client.get(
        "/api/v1/invite/" + "0" * 24, headers={"X-Teleconform-Fault": "html-error-pages"}
    )
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    h = {"x-access-token": token_of(client)}
    r = client.get("/api/v1/invite/bad-id", headers=h | {"X-Teleconform-Fault": "unknown-id-500"})
    assert r.status_code == 500
    r = client.get(
        "/api/v1/invite/bad-id", headers=h | {"X-Teleconform-Fault": "malformed-token-500"}
    )
    assert r.status_code == 404, "a valid token is unaffected"
    r = client.get(
        "/api/v1/invite",
        headers={"x-access-token": "junk", "X-Teleconform-Fault": "malformed-token-500"},
    )
    assert r.status_code == 500


def test_delete_after_consultation_fault_orphans_the_consultation(client: TestClient) -> None:
    h = {"x-access-token": token_of(client)}
    inv, _, _ = used_invite(client, h)
    f = {"X-Teleconform-Fault": "delete-after-consultation-allowed"}
    assert client.delete(f"/api/v1/invite/{inv['id']}", headers=h | f).status_code == 200
    r = client.post(f"/api/v1/invite/{inv['id']}/consultation/close", headers=h)
    assert r.status_code == 409, "the orphaned consultation is still found by invite id"


# -- over real HTTP ----------------------------------------------------------------------------


def test_sandbox_over_real_http() -> None:
    with ThreadedServer(create_app()) as server, httpx.Client(base_url=server.base_url) as c:
        h = {"x-access-token": token_of(c)}
        inv = create(c, h).json()["invite"]
        assert inv["patientURL"].startswith(server.base_url + "/inv/?invite=")
        r = sso(c, sso_token(time.time()))
        assert r.headers["location"].startswith(server.base_url + "/app?tk=")
        assert (
            c.get(f"/api/v1/invite/{inv['id']}", headers={"x-access-token": tk_of(r)}).status_code
            == 200
        ), "the invite's doctor sees it"
        r = c.get("/api/v1/nope")
        assert r.status_code == 404 and r.json() == {"error": "Not Found"}
