"""Leah webhooks: the events Leah delivers (LEAH-WH-01) and the integrator's receiver (WH-02).

On the embedded sandbox LEAH-WH-01 is a scenario: a listener on loopback is registered
through the sandbox's test-control endpoint, an appointment is created with an externalId,
the guest's arrival is simulated, and the delivered event must carry that externalId in
the documented shape. On a live target, Leah cannot be made to send an event on demand, so
the events come from `teleconform webhooks listen` (its webhook-events.jsonl file).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from teleconform.suite import Context, clause
from teleconform.webhooks import (
    ReceiverUnreachable,
    WebhookListener,
    run_cases,
    validate_delivery,
)

from ._common import auth_headers

DELIVERY_WAIT_S = 5.0
RECEIVER_TIME_LIMIT_S = 10.0  # the clause's "within 10 s"
LISTENER_PATH = "/leah-webhooks"
# Stands in for the listener of a recorded session, whose address is not in the file.
RECORDED_BASE = "http://webhook-listener.invalid"


def _delivery_response(
    url: str, method: str, content_type: str | None, body: bytes | str
) -> httpx.Response:
    """The delivery as an exchange (Leah's request, our 200) so it can serve as evidence."""
    headers = {"content-type": content_type} if content_type else {}
    request = httpx.Request(method, url, headers=headers, content=body)
    return httpx.Response(
        200, request=request, content=b"ok\n", headers={"content-type": "text/plain; charset=utf-8"}
    )


# The most this module's checks create, per kind; `run --dry-run` adds these up.
FOOTPRINT = {"appointment": 1, "message": 1}


@clause("LEAH-WH-01")
def guest_online_event_shape(ctx: Context) -> None:
    """appointment.guest.online deliveries have the documented shape."""
    if ctx.mode == "sandbox":
        _sandbox_delivery(ctx)
    else:
        _recorded_events(ctx, Path(ctx.need("leah.webhook_events")))


def _first_office(ctx: Context, headers: dict[str, str]) -> str:
    r = ctx.request("GET", "/api/offices", headers=headers)
    ctx.precondition(r.status_code == 200, "GET /api/offices answers 200", r)
    doc = r.json()
    members = doc.get("hydra:member", doc.get("member")) if isinstance(doc, dict) else None
    ctx.precondition(
        isinstance(members, list)
        and bool(members)
        and isinstance(members[0], dict)
        and isinstance(members[0].get("@id"), str),
        "the organization has an office to book the appointment in",
        r,
    )
    assert isinstance(members, list)
    return str(members[0]["@id"])


def _sandbox_delivery(ctx: Context) -> None:
    headers = auth_headers(ctx)
    external_id = f"teleconform-{ctx.run_id}-wh01"
    with WebhookListener("127.0.0.1", 0) as listener:
        receiver = listener.url + LISTENER_PATH
        r = ctx.request("POST", "/_sandbox/webhooks", headers=headers, json={"url": receiver})
        ctx.precondition(r.is_success, "the sandbox registers the webhook receiver", r)

        office = _first_office(ctx, headers)
        start = dt.datetime.fromtimestamp(ctx.now(), dt.UTC) + dt.timedelta(days=2)
        body = {
            "phoneNumber": str(ctx.state.get("safe_phone") or "+15555550100"),
            "email": str(ctx.state.get("safe_email") or "teleconform-probe@example.org"),
            "office": office,
            "startTime": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "externalId": external_id,
        }
        created = ctx.request("POST", "/api/appointments", headers=headers, json=body)
        ctx.precondition(created.status_code in (200, 201), "the appointment is created", created)
        iri = created.json().get("@id")
        ctx.precondition(isinstance(iri, str) and bool(iri), "the appointment has an @id", created)
        assert isinstance(iri, str)
        ctx.created("appointment", iri, ("PATCH", iri))  # PATCH = cancel, as in properties.py
        appointment_id = iri.rstrip("/").rsplit("/", 1)[-1]

        already = len(listener.events)
        trigger = ctx.request(
            "POST", f"/_sandbox/appointments/{appointment_id}/guest-online", headers=headers
        )
        ctx.precondition(trigger.is_success, "the sandbox simulates the guest's arrival", trigger)
        event = listener.wait_for(timeout=DELIVERY_WAIT_S, after=already)
        if event is None:
            log = ctx.request("GET", "/_sandbox/webhooks/deliveries", headers=headers)
            ctx.fails(
                "LEAH-WH-01",
                f"no delivery reached the registered receiver within "
                f"{DELIVERY_WAIT_S:g} s of the guest's arrival",
                trigger,
                log,
            )
            return
        recording = ctx.state.get("recording")  # --record: a replay serves it as the events file
        if recording is not None:
            recording.add("webhook_events", listener.records[event.index - 1])
        delivered = _delivery_response(
            receiver, event.method, event.content_type, listener.records[event.index - 1]["body"]
        )
        check = event.check
        if not check.ok:
            ctx.fails("LEAH-WH-01", f"delivered event: {check.summary()}", delivered)
            return
        ctx.expect(
            "LEAH-WH-01",
            check.external_id == external_id,
            f"the event carries the appointment's externalId ({check.summary()})"
            if check.external_id == external_id
            else f"the event carries externalId {check.external_id!r}, "
            f"not the appointment's {external_id!r}",
            delivered,
        )


def _recorded_events(ctx: Context, path: Path) -> None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        ctx.errors("LEAH-WH-01", f"cannot read the webhook events file: {exc.strerror}")
        return
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or "body" not in record:
            ctx.errors(
                "LEAH-WH-01", f"line {number} of the events file is not a `webhooks listen` record"
            )
            return
        records.append(record)
    if not records:
        ctx.skips("LEAH-WH-01", "the webhook events file holds no deliveries")
        return
    for record in records:
        method = str(record.get("method") or "POST")
        content_type = record.get("content_type")
        content_type = content_type if isinstance(content_type, str) else None
        body = record.get("body")
        body_text = body if isinstance(body, str) else json.dumps(body)
        # Re-validated here (the spec may be newer than the listener), and the listener's
        # own verdict counts too: it saw the raw body, this file holds the redacted one.
        check = validate_delivery(method, content_type, body_text)
        problems = list(check.problems)
        if record.get("verdict") not in (None, "pass"):
            problems += [p for p in record.get("problems") or [] if p not in problems]
            problems = problems or ["the listener judged this delivery not as documented"]
        url = RECORDED_BASE + str(record.get("path") or "/")
        delivered = _delivery_response(url, method, content_type, body_text)
        label = f"event {record.get('index', '?')} ({check.event or 'no event name'})"
        if problems:
            ctx.fails("LEAH-WH-01", f"{label}: " + "; ".join(problems), delivered)
        else:
            ctx.passes("LEAH-WH-01", f"{label}: documented shape", delivered)


@clause("LEAH-WH-02")
def receiver_always_answers_200(ctx: Context) -> None:
    """The integrator's receiver answers 200 in time to every LEAH-WH-02 case."""
    url = ctx.need("leah.webhook_receiver")

    def send(body: bytes, timeout_s: float) -> httpx.Response:
        return ctx.request(
            "POST",
            url,
            content=body,
            timeout=timeout_s,
            headers={"Content-Type": "application/json"},
        )

    token = f"{ctx.random.getrandbits(32):08x}"
    try:
        results = run_cases(url, send, timeout_s=RECEIVER_TIME_LIMIT_S, token=token)
    except ReceiverUnreachable as exc:
        ctx.errors("LEAH-WH-02", f"the webhook receiver could not be reached ({exc})")
        return
    for result in results:
        message = f"{result.case}: {result.reason}"
        responses = [result.response] if result.response is not None else []
        if result.verdict == "pass":
            ctx.passes("LEAH-WH-02", message, *responses)
        else:
            ctx.fails("LEAH-WH-02", message, *responses)
