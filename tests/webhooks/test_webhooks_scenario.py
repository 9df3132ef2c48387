"""The pieces together: the Leah sandbox delivers appointment.guest.online to our listener."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from teleconform.sandbox import leah
from teleconform.sandbox._server import ThreadedServer
from teleconform.webhooks import WebhookListener, validate_event

from . import _receivers as rx


@pytest.fixture
def sandbox() -> Iterator[httpx.Client]:
    app = leah.create_app(webhook_backoff=0.01)
    key = app.state.credentials["TELECONFORM_LEAH_API_KEY"]
    with (
        ThreadedServer(app) as server,
        httpx.Client(
            base_url=server.base_url, headers={"LEAH-AUTH-TOKEN": key}, timeout=5
        ) as client,
    ):
        yield client


def _appointment(client: httpx.Client, external_id: str) -> str:
    offices = client.get("/api/offices").json()["hydra:member"]
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    r = client.post(
        "/api/appointments",
        json={
            "phoneNumber": "+15555550100",
            "email": "teleconform-probe@example.org",
            "office": offices[0]["@id"],
            "startTime": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "externalId": external_id,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["@id"]).rsplit("/", 1)[-1]


def _arrive(
    client: httpx.Client, listener: WebhookListener, external_id: str, fault: str | None = None
) -> Any:
    assert client.post("/_sandbox/webhooks", json={"url": listener.url + "/hook"}).is_success
    appointment = _appointment(client, external_id)
    headers = {"X-Teleconform-Fault": fault} if fault else {}
    r = client.post(f"/_sandbox/appointments/{appointment}/guest-online", headers=headers)
    assert r.is_success, r.text
    return listener.wait_for(timeout=5)


def test_the_guest_arrives_and_the_listener_gets_a_valid_event(sandbox: httpx.Client) -> None:
    with WebhookListener() as listener:
        event = _arrive(sandbox, listener, "consultation-42")
    assert event is not None, "no delivery within 5 s"
    assert event.check.ok, event.check.problems
    assert event.check.schema_checked  # the installed spec's webhooks section was applied too
    assert event.check.external_id == "consultation-42"
    assert event.method == "POST" and event.path == "/hook"
    # The sandbox logs a delivery once the receiver's answer is back, a moment after the
    # listener has the event: wait for the log entry rather than race it.
    deliveries: list[dict[str, Any]] = []
    until = time.monotonic() + 5
    while not deliveries and time.monotonic() < until:
        deliveries = sandbox.get("/_sandbox/webhooks/deliveries").json()
        time.sleep(0 if deliveries else 0.05)
    assert [d["status"] for d in deliveries] == [200]  # answered 200: no retry


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        ("webhook-payload-missing-externalId", 'payload has no "externalId"'),
        ("webhook-bad-event-name", "the documented event is 'appointment.guest.online'"),
    ],
)
def test_the_listener_flags_the_sandbox_faults(
    sandbox: httpx.Client, fault: str, problem: str
) -> None:
    with WebhookListener() as listener:
        event = _arrive(sandbox, listener, "consultation-43", fault)
    assert event is not None
    assert not event.check.ok
    assert any(problem in p for p in event.check.problems), event.check.problems


def test_a_refusing_receiver_gets_retries_until_it_answers_200(sandbox: httpx.Client) -> None:
    # The sandbox's documented policy: up to 3 attempts, only a 200 stops them.
    def refuse_twice(doc: Any, seen: list[Any]) -> tuple[int, float]:
        return (503 if len(seen) <= 2 else 200), 0.0

    receiver = rx.Receiver(refuse_twice)
    with ThreadedServer(receiver.app) as server:
        assert sandbox.post("/_sandbox/webhooks", json={"url": server.base_url + "/"}).is_success
        appointment = _appointment(sandbox, "consultation-44")
        assert sandbox.post(f"/_sandbox/appointments/{appointment}/guest-online").is_success
        deadline = time.monotonic() + 5
        attempts: list[Any] = []
        while len(attempts) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
            attempts = sandbox.get("/_sandbox/webhooks/deliveries").json()
    assert [(d["attempt"], d["status"]) for d in attempts] == [(1, 503), (2, 503), (3, 200)]
    assert len(receiver.seen) == 3
    assert receiver.seen[0] == receiver.seen[2]  # the same event, delivered again
    check = validate_event(receiver.seen[2])
    assert check.ok and check.external_id == "consultation-44"
