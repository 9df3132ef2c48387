"""Invite creation, validation, read, update and delete.

Clauses: HCW-INV-01..12 and the scenario side of HCW-GEN-01 (malformed JSON, wrong type,
invalid e-mail, bad gender get 400, never a 5xx).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from teleconform.suite import Context, clause

from ._common import (
    INVITE,
    auth_headers,
    describe,
    future_s,
    invite_body,
    invite_id,
    invite_of,
    iso_at,
    json_body,
    post_invite,
    queue_ref,
    safe_phone,
)

_EPOCH_MS_MIN = 10**12  # 2001-09-09: anything smaller is not epoch milliseconds of today


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _created(ctx: Context, response: httpx.Response, what: str) -> dict[str, Any]:
    """The created invite, or stop the check (its clauses become error)."""
    invite = invite_of(response)
    ctx.precondition(
        response.is_success and invite_id(invite) is not None,
        f"could not create {what}: {describe(response)}",
        response,
    )
    assert invite is not None
    return invite


def _same_fields(
    sent: Mapping[str, Any], got: Mapping[str, Any], keys: tuple[str, ...]
) -> list[str]:
    return [f"{k} is {got.get(k)!r}, sent {sent[k]!r}" for k in keys if got.get(k) != sent[k]]


def _shape_problems(sent: Mapping[str, Any], response: httpx.Response) -> list[str]:
    problems = []
    if response.status_code != 200:
        problems.append(f"status {response.status_code}, expected 200")
    body = json_body(response)
    if not isinstance(body, dict) or body.get("success") is not True:
        problems.append("no {success: true} envelope")
    invite = invite_of(response) or {}
    if not isinstance(invite.get("id"), str) or not invite.get("id"):
        problems.append("no string id")
    for key in ("createdAt", "updatedAt"):
        if not _is_int(invite.get(key)) or invite[key] < _EPOCH_MS_MIN:
            problems.append(f"{key} is {invite.get(key)!r}, not epoch milliseconds")
    problems += _same_fields(sent, invite, ("firstName", "lastName", "gender", "emailAddress"))
    for key in ("phoneNumber", "emailAddress", "status", "patientLanguage"):
        if not isinstance(invite.get(key), str):
            problems.append(f"{key} missing or not a string")
    if not _is_int(invite.get("scheduledFor")):
        problems.append("scheduledFor missing or not a number")
    if invite.get("type") != "PATIENT":
        problems.append(f"type is {invite.get('type')!r}, expected 'PATIENT'")
    if invite.get("patientLanguage") not in (None, sent.get("language")):
        problems.append(f"patientLanguage is {invite.get('patientLanguage')!r}")
    for key in ("invitedBy", "queue", "patientURL"):
        if key not in invite:
            problems.append(f"{key} missing")
    if not isinstance(invite.get("patientURL", ""), str):
        problems.append("patientURL is not a string")
    return problems


# The most this module's checks create, per kind (requests that may create):
# each invite may notify its patient at the safe contacts.
# `run --dry-run` adds these up; tests/live/test_footprint.py checks them.
FOOTPRINT = {"invite": 18, "message": 18}


@clause("HCW-INV-01", "HCW-INV-06", "HCW-INV-09", "HCW-INV-11", "HCW-INV-12")
def invite_crud(ctx: Context) -> None:
    """Create on behalf of the doctor (no sendInvite), read, update, delete."""
    body = invite_body(ctx, sendInvite=None)
    created, _ = post_invite(ctx, body)
    invite = _created(ctx, created, "an invite on behalf of the doctor")
    problems = _shape_problems(body, created)
    ctx.expect(
        "HCW-INV-01",
        not problems,
        "; ".join(problems) or "200 {success: true, invite} with the documented fields",
        created,
    )
    url = invite.get("patientURL")
    ok_url = isinstance(url, str) and url.startswith(("http://", "https://"))
    ctx.expect(
        "HCW-INV-06",
        ok_url,
        "without sendInvite the answer carries the patient link"
        if ok_url
        else f"without sendInvite the answer has no patientURL link ({url!r})",
        created,
    )

    ident = invite_id(invite)
    path = f"{INVITE}/{ident}"
    headers = auth_headers(ctx)
    got = ctx.request("GET", path, headers=headers)
    read = invite_of(got) or {}
    problems = [] if got.status_code == 200 else [f"status {got.status_code}"]
    if read.get("id") != ident:
        problems.append(f"id is {read.get('id')!r}, expected the created id")
    problems += _same_fields(body, read, ("firstName", "lastName", "gender", "emailAddress"))
    ctx.expect(
        "HCW-INV-09",
        not problems,
        "; ".join(problems) or "GET returns the invite with its creation fields",
        got,
    )

    when = future_s(ctx, 3)
    change = {"firstName": "Teleconform-Changed", "scheduledFor": iso_at(when)}
    patched = ctx.request("PATCH", path, headers=headers, json=change)
    after = ctx.request("GET", path, headers=headers)
    seen = invite_of(after) or {}
    problems = [] if patched.status_code == 200 else [f"PATCH answered {patched.status_code}"]
    if seen.get("firstName") != change["firstName"]:
        problems.append(f"later GET shows firstName {seen.get('firstName')!r}")
    # The change must show; its unit and instant are HCW-INV-04's business.
    if seen.get("scheduledFor") in (None, invite.get("scheduledFor")):
        problems.append(f"later GET shows scheduledFor {seen.get('scheduledFor')!r}, unchanged")
    ctx.expect(
        "HCW-INV-11",
        not problems,
        "; ".join(problems) or "PATCH 200 and a later GET shows firstName and scheduledFor",
        patched,
        after,
    )

    deleted = ctx.request("DELETE", path, headers=headers)
    gone = ctx.request("GET", path, headers=headers)
    ctx.expect(
        "HCW-INV-12",
        deleted.status_code == 200 and gone.status_code == 404,
        f"DELETE of an unused invite: {deleted.status_code} (200 expected), "
        f"later GET: {gone.status_code} (404 expected)",
        deleted,
        gone,
    )


@clause("HCW-INV-02", "HCW-INV-03")
def contact_fields(ctx: Context) -> None:
    """Only emailAddress, only phoneNumber: created; neither: 400."""
    for label, fields in (
        ("only emailAddress", {}),
        ("only phoneNumber", {"emailAddress": None, "phoneNumber": safe_phone()}),
    ):
        response, _ = post_invite(ctx, invite_body(ctx, **fields))
        ctx.expect(
            "HCW-INV-02",
            response.is_success,
            f"an invite with {label}: {response.status_code}",
            response,
        )
    response, _ = post_invite(ctx, invite_body(ctx, emailAddress=None))
    ctx.expect(
        "HCW-INV-03",
        response.status_code == 400,
        f"an invite without phoneNumber and emailAddress: {response.status_code} (400 expected)",
        response,
    )


@clause("HCW-INV-04")
def scheduled_for_round_trip(ctx: Context) -> None:
    """scheduledFor with Z and with +02:00 comes back as epoch ms of the same instant."""
    when = future_s(ctx, 2)
    for offset in (0, 2):
        text = iso_at(when, offset)
        response, invite = post_invite(ctx, invite_body(ctx, scheduledFor=text))
        invite = _created(ctx, response, f"an invite scheduled for {text}")
        got = invite.get("scheduledFor")
        ctx.expect(
            "HCW-INV-04",
            got == when * 1000,
            f"scheduledFor {text} came back as {got!r}, expected {when * 1000}",
            response,
        )


@clause("HCW-INV-05")
def gender_values(ctx: Context) -> None:
    """male and female are accepted; the model's other values are not."""
    for gender in ("male", "female"):
        response, _ = post_invite(ctx, invite_body(ctx, gender=gender))
        ctx.expect(
            "HCW-INV-05", response.is_success, f"gender {gender}: {response.status_code}", response
        )
    for gender in ("other", "unknown"):
        response, _ = post_invite(ctx, invite_body(ctx, gender=gender))
        ctx.expect(
            "HCW-INV-05",
            response.status_code == 400,
            f"gender {gender}: {response.status_code} (400 expected)",
            response,
        )


@clause("HCW-INV-07")
def queue_by_name_or_id(ctx: Context) -> None:
    """queue = the configured name, then = the id the first answer references."""
    name = ctx.need("hcw.queue")
    by_name, first = post_invite(ctx, invite_body(ctx, doctorEmail=None, queue=name))
    queue_id = queue_ref((first or {}).get("queue"))
    if not by_name.is_success or queue_id is None:
        ctx.fails(
            "HCW-INV-07",
            f"an invite for the queue by name: {by_name.status_code}"
            + ("" if by_name.is_success else " (2xx expected)")
            + ("" if queue_id else "; it references no queue"),
            by_name,
        )
        return
    by_id, second = post_invite(ctx, invite_body(ctx, doctorEmail=None, queue=queue_id))
    same = queue_ref((second or {}).get("queue")) == queue_id
    ctx.expect(
        "HCW-INV-07",
        by_id.is_success and same,
        f"queue by name: {by_name.status_code}; by its id: {by_id.status_code}, "
        f"referencing {'the same' if same else 'another'} queue",
        by_name,
        by_id,
    )


@clause("HCW-INV-08")
def unknown_references(ctx: Context) -> None:
    """An unknown doctorEmail and an unknown queue are refused with a 4xx."""
    ghost = f"teleconform-no-such-doctor-{ctx.run_id}@example.org"
    response, _ = post_invite(ctx, invite_body(ctx, doctorEmail=ghost))
    ctx.expect(
        "HCW-INV-08",
        response.is_client_error,
        f"unknown doctorEmail: {response.status_code} (4xx expected)",
        response,
    )
    response, _ = post_invite(
        ctx, invite_body(ctx, doctorEmail=None, queue=f"teleconform-no-such-queue-{ctx.run_id}")
    )
    ctx.expect(
        "HCW-INV-08",
        response.is_client_error,
        f"unknown queue: {response.status_code} (4xx expected)",
        response,
    )


@clause("HCW-INV-10")
def unknown_invite_ids(ctx: Context) -> None:
    """GET, PATCH, DELETE and close on ids that do not exist: 4xx (404 expected)."""
    headers = auth_headers(ctx)
    well_formed = "".join(ctx.random.choice("0123456789abcdef") for _ in range(24))
    for ident in (well_formed, f"teleconform-no-such-invite-{ctx.run_id}"):
        for method, path, body in (
            ("GET", f"{INVITE}/{ident}", None),
            ("PATCH", f"{INVITE}/{ident}", {"firstName": "Teleconform"}),
            ("DELETE", f"{INVITE}/{ident}", None),
            ("POST", f"{INVITE}/{ident}/consultation/close", None),
        ):
            if method != "GET" and not ctx.writes_allowed:
                continue  # read-only run: no PATCH/DELETE/close, even on an id that does not exist
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs["json"] = body
            response = ctx.request(method, path, **kwargs)
            note = "" if response.status_code == 404 else " (404 expected)"
            ctx.expect(
                "HCW-INV-10",
                response.is_client_error,
                f"{method} on an unknown id: {response.status_code}{note}",
                response,
            )


@clause("HCW-GEN-01")
def malformed_invites(ctx: Context) -> None:
    """Malformed JSON, a wrong type, an invalid e-mail, a bad gender: 400, never 5xx."""
    if not ctx.has("hcw.doctor_email") and not ctx.has("hcw.queue"):
        ctx.skips(
            "HCW-GEN-01",
            "needs hcw.doctor_email or hcw.queue so that only the probed field is invalid",
        )
        return
    extra = {} if ctx.has("hcw.doctor_email") else {"queue": ctx.need("hcw.queue")}
    cases: list[tuple[str, Any, bytes | None]] = [
        ("malformed JSON", None, b'{"emailAddress": '),
        ("firstName of the wrong type", invite_body(ctx, firstName=12345, **extra), None),
        (
            "an emailAddress that is not an e-mail",
            invite_body(ctx, emailAddress="not-an-email", **extra),
            None,
        ),
        ("gender outside male/female", invite_body(ctx, gender="banana", **extra), None),
    ]
    for label, body, content in cases:
        response, _ = post_invite(ctx, body, content=content)
        ctx.expect(
            "HCW-GEN-01",
            response.status_code == 400,
            f"{label}: {response.status_code} (400 expected)",
            response,
        )
