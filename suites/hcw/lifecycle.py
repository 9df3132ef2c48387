"""An invitation's life: the patient uses it, deletion is refused, the consultation closes.

Clauses: HCW-INV-13, HCW-CONS-01, HCW-CONS-02, HCW-CONS-03.

The patient side is not in the guide but is how HCW@Home works: POST /api/v1/login-invite
{inviteToken} gives the patient a JWT, and POST /api/v1/consultation {invitationToken}
requests the consultation. HCW@Home closes only consultations a doctor accepted
(POST /api/v1/consultation/{id}/accept); when close answers a 4xx, the doctor is signed
in through SSO, accepts, and close is sent again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from teleconform.suite import Context, clause

from ._common import (
    CONSULTATION,
    INVITE,
    LOGIN_INVITE,
    ORPHANED_INVITES,
    auth_headers,
    describe,
    doctor_headers,
    headers_for,
    invite_body,
    invite_id,
    is_jwt,
    json_body,
    post_invite,
)

_EPOCH_MS_MIN = 10**12
_STRING_FIELDS = (
    "gender",
    "IMADTeam",
    "invitationToken",
    "firstName",
    "lastName",
    "birthDate",
    "type",
    "patientRating",
    "patientComment",
    "doctorRating",
    "doctorComment",
)
_FLAG_FIELDS = ("flagPatientOnline", "flagGuestOnline", "flagTranslatorOnline", "flagDoctorOnline")
_NUMBER_FIELDS = ("updatedAt", "acceptedAt", "scheduledFor")
_REF_FIELDS = ("queue", "owner", "invitedBy", "acceptedBy", "translator", "guest")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ref_id(value: Any) -> Any:
    return value.get("id", value.get("_id")) if isinstance(value, dict) else value


def _invite_token(invite: dict[str, Any]) -> str | None:
    token = invite.get("inviteToken")
    if isinstance(token, str) and token:
        return token
    url = invite.get("patientURL")
    if isinstance(url, str):
        values = parse_qs(urlsplit(url).query).get("invite")
        if values:
            return values[0]
    return None


def _consultation_id(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    value = body.get("_id", body.get("id"))
    return value if isinstance(value, str) and value else None


def _consultation_problems(body: Any, invite: str) -> list[str]:
    if not isinstance(body, dict):
        return ["the answer is not a JSON object"]
    problems = []
    if _consultation_id(body) is None:
        problems.append("no _id or id")
    if body.get("status") != "closed":
        problems.append(f"status is {body.get('status')!r}, expected 'closed'")
    if _ref_id(body.get("invite")) != invite:
        problems.append("invite is not the invite's id")
    for key in ("createdAt", "closedAt"):
        if not _is_int(body.get(key)) or body[key] < _EPOCH_MS_MIN:
            problems.append(f"{key} is {body.get(key)!r}, not epoch milliseconds")
    typed = [(k, str, "a string") for k in _STRING_FIELDS] + [
        (k, bool, "a boolean") for k in _FLAG_FIELDS
    ]
    for key, kind, label in typed:
        if key in body and not isinstance(body[key], kind):
            problems.append(f"{key} is not {label}")
    for key in _NUMBER_FIELDS:
        if key in body and not _is_int(body[key]):
            problems.append(f"{key} is not a number")
    for key in _REF_FIELDS:
        if key in body and not isinstance(_ref_id(body[key]), str | type(None)):
            problems.append(f"{key} is not an id or null")
    return problems


# The most this module's checks create, per kind (requests that may create):
# one patient session; a second consultation request only on a server that reopens.
# `run --dry-run` adds these up; tests/live/test_footprint.py checks them.
FOOTPRINT = {"invite": 2, "patient_account": 1, "consultation": 2, "message": 2}


@clause("HCW-CONS-03")
def close_before_use(ctx: Context) -> None:
    """Closing an invitation nobody used: a 4xx, not a 5xx."""
    created, invite = post_invite(ctx, invite_body(ctx))
    ident = invite_id(invite)
    ctx.precondition(ident is not None, f"could not create an invite: {describe(created)}", created)
    response = ctx.request(
        "POST", f"{INVITE}/{ident}/consultation/close", headers=auth_headers(ctx)
    )
    note = "" if response.status_code == 404 else " (404 expected)"
    ctx.expect(
        "HCW-CONS-03",
        response.is_client_error,
        f"close before the invitation was used: {response.status_code}{note}",
        response,
    )


@clause("HCW-INV-13", "HCW-CONS-01", "HCW-CONS-02")
def consultation_lifecycle(ctx: Context) -> None:
    """Patient requests a consultation; DELETE refused; close; closed stays closed."""
    created, invite = post_invite(ctx, invite_body(ctx))
    ident = invite_id(invite)
    ctx.precondition(
        ident is not None and invite is not None,
        f"could not create an invite: {describe(created)}",
        created,
    )
    assert ident is not None and invite is not None
    token = _invite_token(invite)
    ctx.precondition(
        token is not None, "the invite carries no inviteToken or patient link", created
    )
    assert token is not None  # the precondition above stopped the check otherwise
    patient_login = ctx.request("POST", LOGIN_INVITE, json={"inviteToken": token})
    login_body = json_body(patient_login)
    user = login_body.get("user") if isinstance(login_body, dict) else None
    patient_jwt = user.get("token") if isinstance(user, dict) else None
    ctx.precondition(
        patient_login.is_success and is_jwt(patient_jwt),
        f"patient login with the invite token: {describe(patient_login)}",
        patient_login,
    )
    patient = headers_for(ctx, str(patient_jwt))
    requested = ctx.request("POST", CONSULTATION, headers=patient, json={"invitationToken": token})
    consultation = _consultation_id(json_body(requested))
    ctx.precondition(
        requested.is_success and consultation is not None,
        f"the patient's consultation request: {describe(requested)}",
        requested,
    )
    # If the run stops before the close below, cleanup must close this consultation (the
    # invite's DELETE is refused while it is open): no test patient is left waiting.
    ctx.created("consultation", str(consultation), cleanup=("POST", f"{INVITE}/{ident}"))

    scheduler = auth_headers(ctx)
    path = f"{INVITE}/{ident}"
    # the one invite a run deletes under a consultation: a server that wrongly allows it
    # orphans this consultation, and the report's left_behind says so
    deleted = ctx.request("DELETE", path, headers=scheduler)
    if deleted.is_success:
        ctx.state.setdefault(ORPHANED_INVITES, set()).add(ident)
    still = ctx.request("GET", path, headers=scheduler)
    ctx.expect(
        "HCW-INV-13",
        deleted.is_client_error and still.status_code == 200,
        f"DELETE after the consultation request: {deleted.status_code} (4xx expected); "
        f"GET afterwards: {still.status_code} (200 expected)",
        deleted,
        still,
    )

    close = f"{path}/consultation/close"
    first = ctx.request("POST", close, headers=scheduler)
    exchanges = [first]
    if first.is_client_error:
        # Not active yet on HCW@Home: the doctor accepts, then the scheduler closes.
        accepted = ctx.request(
            "POST", f"{CONSULTATION}/{consultation}/accept", headers=doctor_headers(ctx)
        )
        ctx.precondition(
            accepted.is_success,
            f"close answered {first.status_code} and the doctor could not accept "
            f"the consultation: {describe(accepted)}",
            first,
            accepted,
        )
        first = ctx.request("POST", close, headers=scheduler)
        exchanges += [accepted, first]
    problems = [] if first.status_code == 200 else [f"close answered {first.status_code}"]
    problems += _consultation_problems(json_body(first), ident) if first.is_success else []
    ctx.expect(
        "HCW-CONS-01",
        not problems,
        "; ".join(problems)
        or "close returned the closed consultation with _id, status, "
        "invite, createdAt and closedAt",
        *exchanges,
    )
    if not first.is_success:
        ctx.skips("HCW-CONS-02", "the consultation could not be closed (HCW-CONS-01)")
        return

    # closed by the check itself: the cleaner has nothing left to do (a server may refuse a
    # repeated close, which must not read as a cleanup failure)
    ctx.state.setdefault("hcw.closed_consultations", set()).add(str(consultation))

    again = ctx.request("POST", close, headers=scheduler)
    again_body = json_body(again)
    status = again_body.get("status", "closed") if isinstance(again_body, dict) else "closed"
    ctx.expect(
        "HCW-CONS-02",
        (again.is_success or again.is_client_error) and status == "closed",
        f"a repeated close: {again.status_code}, status {status!r}",
        again,
    )
    _no_reuse(ctx, path, token, patient, str(consultation))


def _no_reuse(
    ctx: Context, path: str, token: str, patient: dict[str, str], consultation: str
) -> None:
    """After close the invitation serves nothing but the same consultation, still closed.

    HCW-CONS-02: the patient's earlier session, and a new login with the invite token, are
    refused with a 4xx or answered with the same consultation still "closed"; another status
    or a new consultation fails.
    """
    reuse = ctx.request("POST", CONSULTATION, headers=patient, json={"invitationToken": token})
    ctx.expect(
        "HCW-CONS-02",
        *_still_closed(
            ctx, path, reuse, consultation, "the patient's earlier session asking again"
        ),
    )
    relogin = ctx.request("POST", LOGIN_INVITE, json={"inviteToken": token})
    body = json_body(relogin)
    user = body.get("user") if isinstance(body, dict) else None
    fresh = user.get("token") if isinstance(user, dict) else None
    if relogin.is_client_error or not (relogin.is_success and is_jwt(fresh)):
        ctx.expect(
            "HCW-CONS-02",
            relogin.is_client_error,
            f"a new login with the invite token after close: {relogin.status_code} "
            "(4xx, or a session that finds only the closed consultation, expected)",
            relogin,
        )
        return
    again = ctx.request(
        "POST", CONSULTATION, headers=headers_for(ctx, str(fresh)), json={"invitationToken": token}
    )
    ctx.expect(
        "HCW-CONS-02",
        *_still_closed(
            ctx, path, again, consultation, "a new login with the invite token asking again"
        ),
    )


def _still_closed(
    ctx: Context, path: str, response: httpx.Response, consultation: str, label: str
) -> tuple[bool, str, httpx.Response]:
    """A 4xx, or 2xx with the same consultation still closed; a new one enters the ledger."""
    if response.is_client_error:
        return True, f"{label} after close: {response.status_code}", response
    body = json_body(response)
    got = _consultation_id(body)
    status = body.get("status") if isinstance(body, dict) else None
    if response.is_success and got is not None and got != consultation:
        ctx.created("consultation", got, cleanup=("POST", path))
    ok = response.is_success and got == consultation and status == "closed"
    what = (
        "the same consultation, still closed"
        if ok
        else f"{'the same' if got == consultation else 'another'} consultation, status {status!r}"
    )
    return (
        ok,
        (
            f"{label} after close: {response.status_code}, {what}"
            + ("" if ok else " (a 4xx or the same consultation still closed expected)")
        ),
        response,
    )
