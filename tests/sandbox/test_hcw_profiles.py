"""HCW sandbox profiles: every reading value is observable, profile files, the inventory."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from teleconform.sandbox._profiles import DEFAULT_PROFILE, Profile
from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.hcw import CREDENTIALS, FAULTS, PROFILES, READINGS, create_app, inventory

EMAIL = CREDENTIALS["TELECONFORM_HCW_EMAIL"]
PASSWORD = CREDENTIALS["TELECONFORM_HCW_PASSWORD"]
DOCTOR = CREDENTIALS["TELECONFORM_HCW_DOCTOR_EMAIL"]
SECRET = CREDENTIALS["TELECONFORM_HCW_SSO_SECRET"]
SSO = "/api/v1/external-auth-callback"
T0 = 1_800_000_000.0


class Server:
    """One sandbox app of a profile, driven by a TestClient on a fixed clock."""

    def __init__(self, profile: Any = None, **readings: Any) -> None:
        if readings:
            profile = Profile("test", "hcw", "readings under test", readings=readings)
        self.now = T0
        self.app = create_app(profile=profile, clock=lambda: self.now)
        self.client = TestClient(self.app, raise_server_exceptions=False, follow_redirects=False)

    def login(self) -> httpx.Response:
        return self.client.post("/api/v1/login-local", json={"email": EMAIL, "password": PASSWORD})

    def headers(self) -> dict[str, str]:
        response = self.login()
        token = response.cookies.get("token") or response.json()["user"]["token"]
        self.client.cookies.clear()
        return {"x-access-token": token}

    def invite(self, **extra: Any) -> dict[str, Any]:
        body = {
            "firstName": "Tele",
            "lastName": "Conform",
            "gender": "female",
            "emailAddress": "patient@example.org",
            "doctorEmail": DOCTOR,
            "isPatientInvite": True,
            **extra,
        }
        r = self.client.post("/api/v1/invite", json=body, headers=self.headers())
        assert r.status_code == 200, r.text
        return dict(r.json()["invite"])

    def patient(self, invite: dict[str, Any]) -> dict[str, str]:
        r = self.client.post("/api/v1/login-invite", json={"inviteToken": invite["inviteToken"]})
        assert r.status_code == 200, r.text
        return {"x-access-token": r.json()["user"]["token"]}

    def request_consultation(
        self, invite: dict[str, Any], patient: dict[str, str] | None = None
    ) -> httpx.Response:
        return self.client.post(
            "/api/v1/consultation",
            headers=patient or self.patient(invite),
            json={"invitationToken": invite["inviteToken"]},
        )

    def doctor(self) -> dict[str, str]:
        token = jwt.encode(
            {"email": DOCTOR, "timestamp": int(self.now), "jti": uuid.uuid4().hex},
            SECRET,
            algorithm="HS256",
        )
        r = self.client.post(SSO, params={"token": token})
        return {"x-access-token": httpx.URL(r.headers["location"]).params["tk"]}

    def close(self, invite: dict[str, Any]) -> httpx.Response:
        return self.client.post(
            f"/api/v1/invite/{invite['id']}/consultation/close", headers=self.headers()
        )

    def accepted_and_closed(self, invite: dict[str, Any]) -> dict[str, Any]:
        """Request, accept as the doctor, close: the closed consultation."""
        cons = self.request_consultation(invite).json()
        self.client.post(f"/api/v1/consultation/{cons['id']}/accept", headers=self.doctor())
        r = self.close(invite)
        assert r.status_code == 200, r.text
        return dict(r.json())


# -- the vocabulary and the built-in profiles ----------------------------------------------------


def test_every_reading_has_a_default_among_its_values_and_a_reason() -> None:
    for reading in READINGS.values():
        assert reading.default in reading.allowed and len(reading.allowed) >= 2, reading.name
        assert len(reading.description) > 40, reading.name


def test_at_least_six_conformant_profiles_besides_the_default() -> None:
    conformant = [p for p in PROFILES.values() if p.conformant and not p.faults]
    assert PROFILES[DEFAULT_PROFILE].readings == {}
    assert len(conformant) - 1 >= 6
    # each is a different reading: no two conformant profiles set the same readings
    seen = {json.dumps(dict(p.readings), sort_keys=True) for p in conformant}
    assert len(seen) == len(conformant)
    used = {(k, v) for p in conformant for k, v in p.readings.items()}
    # every non-default value of every reading is taken by some conformant profile
    unused = {
        (r.name, v)
        for r in READINGS.values()
        for v in r.allowed
        if v != r.default and (r.name, v) not in used
    }
    assert not unused


def test_the_observed_release_is_not_conformant_and_names_its_evidence() -> None:
    real = PROFILES["hcw-athome-5.4.62"]
    assert not real.conformant and real.faults <= set(FAULTS)
    assert set(real.evidence) == set(real.faults)
    assert create_app(profile="hcw-athome-5.4.62").state.faults == real.faults


def test_explicit_faults_are_added_on_top_of_the_profile() -> None:
    app = create_app(profile="hcw-athome-5.4.62", faults=["patch-ignored"])
    assert app.state.faults == PROFILES["hcw-athome-5.4.62"].faults | {"patch-ignored"}


@pytest.mark.parametrize("bad", ["no-such-profile", "profile.txt"])
def test_unknown_profile_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown hcw profile"):
        create_app(profile=bad)


# -- each reading, observed ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["bare", "enveloped"])
def test_get_invite_shape(shape: str) -> None:
    s = Server(get_invite_shape=shape)
    invite = s.invite()
    body = s.client.get(f"/api/v1/invite/{invite['id']}", headers=s.headers()).json()
    got = body["invite"] if shape == "enveloped" else body
    assert got["id"] == invite["id"] and (body.get("success") is True) == (shape == "enveloped")


@pytest.mark.parametrize("status", READINGS["refused_delete_status"].allowed)
def test_refused_delete_status(status: int) -> None:
    s = Server(refused_delete_status=status)
    invite = s.invite()
    s.request_consultation(invite)
    r = s.client.delete(f"/api/v1/invite/{invite['id']}", headers=s.headers())
    assert r.status_code == status
    assert s.client.get(f"/api/v1/invite/{invite['id']}", headers=s.headers()).status_code == 200


@pytest.mark.parametrize("rule", READINGS["close_pending"].allowed)
def test_close_pending(rule: str) -> None:
    s = Server(close_pending=rule)
    invite = s.invite()
    s.request_consultation(invite)
    r = s.close(invite)
    if rule == "allowed":
        assert r.status_code == 200 and r.json()["status"] == "closed"
    else:
        assert r.status_code == int(rule.removeprefix("refused-"))
        assert s.accepted_and_closed(invite)["status"] == "closed"


@pytest.mark.parametrize("field", READINGS["close_id_field"].allowed)
def test_close_id_field(field: str) -> None:
    s = Server(close_id_field=field)
    closed = s.accepted_and_closed(s.invite())
    keys = {"_id", "id"} & set(closed)
    assert keys == ({"_id", "id"} if field == "both" else {field})


@pytest.mark.parametrize("repeat", READINGS["repeat_close"].allowed)
def test_repeat_close(repeat: str) -> None:
    s = Server(repeat_close=repeat)
    invite = s.invite()
    first = s.accepted_and_closed(invite)
    again = s.close(invite)
    if repeat.startswith("refused-"):
        assert again.status_code == int(repeat.removeprefix("refused-"))
        return
    assert again.status_code == 200
    body = again.json()
    if repeat == "anonymized-record":
        assert "status" not in body and body["consultationId"] == first["id"]
    else:
        assert body["status"] == "closed" and body["id"] == first["id"]


@pytest.mark.parametrize("rule", READINGS["reuse_after_close"].allowed)
def test_reuse_after_close(rule: str) -> None:
    s = Server(reuse_after_close=rule, patient_accounts_removed="never")
    invite = s.invite()
    patient = s.patient(invite)
    cons = s.request_consultation(invite, patient).json()
    s.client.post(f"/api/v1/consultation/{cons['id']}/accept", headers=s.doctor())
    assert s.close(invite).status_code == 200
    again = s.request_consultation(invite, patient)
    if rule == "refused":
        assert again.status_code == 404
    else:
        assert again.status_code == 200
        assert (again.json()["id"], again.json()["status"]) == (cons["id"], "closed")


@pytest.mark.parametrize("rule", READINGS["patient_join"].allowed)
def test_patient_join(rule: str) -> None:
    s = Server(patient_join=rule)
    invite = s.invite(scheduledFor=int(T0 * 1000) + 86_400_000)
    r = s.request_consultation(invite)
    assert r.status_code == (200 if rule == "any-time" else 403)


@pytest.mark.parametrize("rule", READINGS["unknown_fields"].allowed)
def test_unknown_fields(rule: str) -> None:
    s = Server(unknown_fields=rule)
    body = {
        "emailAddress": "patient@example.org",
        "doctorEmail": DOCTOR,
        "isPatientInvite": True,
        "teleconformExtra": 1,
    }
    r = s.client.post("/api/v1/invite", json=body, headers=s.headers())
    assert r.status_code == (200 if rule == "ignored" else 400)
    extra = {"email": EMAIL, "password": PASSWORD, "remember": True}
    assert s.client.post("/api/v1/login-local", json=extra).status_code == (
        200 if rule == "ignored" else 400
    )


@pytest.mark.parametrize("rule", READINGS["access_token_headers"].allowed)
def test_access_token_headers(rule: str) -> None:
    s = Server(access_token_headers=rule)
    token = s.headers()["x-access-token"]
    assert s.client.get("/api/v1/invite", headers={"x-access-token": token}).status_code == 200
    bearer = s.client.get("/api/v1/invite", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == (200 if rule == "x-access-token-and-bearer" else 401)


@pytest.mark.parametrize("rule", READINGS["login_jwt"].allowed)
def test_login_jwt(rule: str) -> None:
    r = Server(login_jwt=rule).login()
    assert r.status_code == 200 and r.json()["message"] == "Login Successful"
    assert r.cookies.get("token")
    assert ("user" in r.json()) == (rule == "body-and-cookie")


@pytest.mark.parametrize("rule", READINGS["sso_success"].allowed)
def test_sso_success(rule: str) -> None:
    s = Server(sso_success=rule)
    token = jwt.encode(
        {"email": DOCTOR, "timestamp": int(T0), "jti": "j1"}, SECRET, algorithm="HS256"
    )
    r = s.client.post(SSO, params={"token": token})
    if rule == "redirect":
        assert r.status_code == 302 and "tk=" in r.headers["location"]
    else:
        assert r.status_code == 200 and "location" not in r.headers
        session = r.json()["token"]
        assert s.client.get("/api/v1/invite", headers={"x-access-token": session}).is_success


@pytest.mark.parametrize("skew", READINGS["sso_future_skew_s"].allowed)
def test_sso_future_skew(skew: int) -> None:
    s = Server(sso_future_skew_s=skew)
    for ahead in (10, 60, 200):
        token = jwt.encode(
            {"email": DOCTOR, "timestamp": int(T0) + ahead, "jti": f"j{ahead}"},
            SECRET,
            algorithm="HS256",
        )
        r = s.client.post(SSO, params={"token": token})
        assert (r.status_code == 302) == (ahead <= skew), (skew, ahead)


@pytest.mark.parametrize(
    "shape,expected",
    [
        ("as-built", {"error": "Not Found"}),
        ("success-false", {"success": False, "error": "Not Found"}),
        ("message", {"message": "Not Found"}),
    ],
)
def test_error_shape(shape: str, expected: dict[str, Any]) -> None:
    s = Server(error_shape=shape)
    r = s.client.get("/api/v1/invite/" + "0" * 24, headers=s.headers())
    assert r.status_code == 404 and r.json() == expected


@pytest.mark.parametrize("form", READINGS["id_format"].allowed)
def test_id_format(form: str) -> None:
    ident = Server(id_format=form).invite()["id"]
    if form == "uuid":
        assert str(uuid.UUID(ident)) == ident
    else:
        assert len(ident) == 24 and int(ident, 16) >= 0


@pytest.mark.parametrize("per", READINGS["patient_accounts"].allowed)
def test_patient_accounts(per: str) -> None:
    s = Server(patient_accounts=per)
    invite = s.invite()
    s.patient(invite)
    s.patient(invite)
    accounts = inventory(s.app)["patient_accounts"]
    assert len(accounts) == (1 if per == "one-per-invite" else 2)
    assert {a["invite"] for a in accounts} == {invite["id"]}


@pytest.mark.parametrize("rule", READINGS["patient_accounts_removed"].allowed)
def test_patient_accounts_removed(rule: str) -> None:
    s = Server(patient_accounts_removed=rule)
    deleted, closed = s.invite(), s.invite()
    s.patient(deleted)
    s.client.delete(f"/api/v1/invite/{deleted['id']}", headers=s.headers())
    s.accepted_and_closed(closed)
    left = {a["invite"] for a in inventory(s.app)["patient_accounts"]}
    assert left == (set() if rule == "with-invite" else {deleted["id"], closed["id"]})


@pytest.mark.parametrize("rule", READINGS["patient_login"].allowed)
def test_patient_login(rule: str) -> None:
    s = Server(patient_login=rule)
    invite = s.invite()
    s.patient(invite)
    again = s.client.post("/api/v1/login-invite", json={"inviteToken": invite["inviteToken"]})
    assert again.status_code == (200 if rule == "repeatable" else 401)


# -- the observed release's own fault --------------------------------------------------------------


def test_text_plain_errors_where_sails_sends_them() -> None:
    s = Server("hcw-athome-5.4.62")
    bearer = {"Authorization": f"Bearer {s.login().json()['user']['token']}"}
    missing = s.client.get("/api/v1/invite/" + "0" * 24, headers=bearer)
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert missing.headers["content-type"].startswith("text/plain")
    no_token = s.client.post(SSO)
    assert (no_token.status_code, no_token.text) == (400, "Bad Request")
    unauthorized = s.client.get("/api/v1/invite")
    assert unauthorized.status_code == 401 and unauthorized.json() == {"error": "Unauthorized"}
    invite = s.client.post(
        "/api/v1/invite",
        headers=bearer,
        json={"emailAddress": "p@example.org", "doctorEmail": DOCTOR, "isPatientInvite": True},
    ).json()
    patient = s.client.post(
        "/api/v1/login-invite", json={"inviteToken": invite["invite"]["inviteToken"]}
    ).json()
    forbidden = s.client.get(
        "/api/v1/invite", headers={"Authorization": f"Bearer {patient['user']['token']}"}
    )
    assert (forbidden.status_code, forbidden.text) == (403, "Forbidden")


# -- profile files -------------------------------------------------------------------------------


def test_a_yaml_profile_file_layers_on_its_base(tmp_path: Path) -> None:
    path = tmp_path / "staging.yaml"
    path.write_text(
        "api: hcw\nname: staging\nbase: uuid-forbidden\n"
        "readings: {refused_delete_status: 400}\nfaults: [sso-replay-accepted]\n"
        "evidence: {sso-replay-accepted: 'HCW-SSO-08 failed'}\n"
    )
    app = create_app(profile=str(path))
    profile = app.state.profile
    assert profile.name == "staging" and not profile.conformant
    assert profile.readings["refused_delete_status"] == 400
    assert profile.readings["id_format"] == "uuid"  # from the base
    assert app.state.faults == {"sso-replay-accepted"}


def test_a_json_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"api": "hcw", "readings": {"get_invite_shape": "enveloped"}}))
    s = Server(str(path))
    invite = s.invite()
    assert "invite" in s.client.get(f"/api/v1/invite/{invite['id']}", headers=s.headers()).json()


@pytest.mark.parametrize(
    "content,message",
    [
        ("readings: {no_such_reading: 1}\n", "unknown reading"),
        ("readings: {refused_delete_status: 500}\n", "cannot be 500"),
        ("faults: [no-such-fault]\n", "unknown fault"),
        ("api: leah\n", "not 'hcw'"),
        ("- a list\n", "mapping at the top level"),
        ("readings: [1, 2\n", "not valid YAML/JSON"),
        ("base: nothing-like-it\n", "unknown base profile"),
        ("evidence: [x]\n", "evidence must be a mapping"),
    ],
)
def test_bad_profile_files_are_refused_with_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        create_app(profile=str(path))


def test_a_missing_profile_file() -> None:
    with pytest.raises(ValueError, match="cannot read profile"):
        create_app(profile="/nonexistent/teleconform-profile.yaml")


# -- the inventory -------------------------------------------------------------------------------


def test_inventory_lists_only_what_was_created_with_a_stable_shape() -> None:
    s = Server("hcw-athome-conformant")
    assert inventory(s.app) == {
        "api": "hcw",
        "profile": "hcw-athome-conformant",
        "invites": [],
        "consultations": [],
        "patient_accounts": [],
    }
    kept, used = s.invite(), s.invite()
    cons = s.request_consultation(used).json()
    got = inventory(s.app)
    assert got["invites"] == [
        {"id": kept["id"], "status": "SENT"},
        {"id": used["id"], "status": "ACCEPTED"},
    ]
    assert got["consultations"] == [
        {"id": cons["id"], "status": "pending", "invite": used["id"], "invite_exists": True}
    ]
    assert [a["invite"] for a in got["patient_accounts"]] == [used["id"]]


def test_inventory_route_over_http() -> None:
    app = create_app(profile="guide-literal")
    with ThreadedServer(app) as server:
        r = httpx.get(f"{server.base_url}/_sandbox/inventory")
    assert r.status_code == 200 and r.json()["profile"] == "guide-literal"
    assert set(r.json()) == {"api", "profile", "invites", "consultations", "patient_accounts"}
