"""Every operation of both specs that can create something is declared as a creation, so the
runner ledgers it before it is sent, whichever part of teleconform sends it; the ledger reads
back what a killed run may have left, including creations whose answer never came."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teleconform._resources import SPEC_FILES, spec_path
from teleconform._yaml import load_yaml_file
from teleconform.runner import creations_of, load_checks
from teleconform.runner._creations import CreationWatch
from teleconform.runner._http import Exchange
from teleconform.runner.ledger import Ledger, left_behind, read_ledger

# Operations that create nothing on the target, each with the reason. Everything else that
# is not a GET must be declared by the API's suites (TELECONFORM_CREATES).
CREATES_NOTHING = {
    "hcw": {
        "POST /api/v1/login-local": "a sign-in: a session token, no record",
        "POST /api/v1/external-auth-callback": "an SSO sign-in of the configured doctor only "
        "(an unknown e-mail is never sent)",
        "PATCH /api/v1/invite/{id}": "changes an invite the run created",
        "DELETE /api/v1/invite/{id}": "removes",
        "POST /api/v1/invite/{id}/consultation/close": "closes a consultation the run opened",
        "POST /api/v1/consultation/{consultation}/accept": "accepts a consultation the run opened",
    },
    "leah": {
        "PATCH /api/appointments/{id}": "changes (cancels) an appointment the run created",
        "POST /api/transfers/{id}/files": "adds files to a transfer the run created (they go "
        "with it)",
        "POST /api/transfers/{id}/share": "sends the transfer's link to the safe contacts: a "
        "message, counted in the dry run's footprint",
        "POST /api/appointments/{id}/guest-online": "tells Leah the guest arrived (an event)",
    },
}


def _operations(api: str) -> list[tuple[str, str]]:
    spec = load_yaml_file(spec_path(SPEC_FILES[api]))
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_every_operation_that_can_create_is_declared(api: str) -> None:
    load_checks(api)
    creations = creations_of(api)
    unaccounted = []
    for method, path in _operations(api):
        label = f"{method} {path}"
        declared = [c for c in creations if c.method == method and c.path == path]
        if method == "GET" or label in CREATES_NOTHING[api]:
            assert not declared, f"{label} is declared as creating but listed as not"
            continue
        if not declared:
            unaccounted.append(label)
    assert unaccounted == [], f"{api}: creating operations nobody ledgers: {unaccounted}"
    kinds = {c.kind for c in creations}
    assert kinds == (
        {"invite", "consultation", "patient_account"}
        if api == "hcw"
        else {"appointment", "transfer"}
    )
    for creation in creations:
        assert creation.cleanup is not None or creation.why, creation


def _exchange(request: httpx.Request, status: int | None, body: object = None) -> Exchange:
    if status is None:
        return Exchange(request, None, "ReadTimeout")
    return Exchange(request, httpx.Response(status, json=body, request=request))


def test_a_creation_is_pending_before_it_is_sent_and_ledgered_from_its_answer(
    tmp_path: Path,
) -> None:
    load_checks("hcw")
    path = tmp_path / "ledger-hcw.jsonl"
    ledger = Ledger(path, "hcw", "http://target", "tc-1")
    secrets: dict[tuple[str, str], str] = {}
    watch = CreationWatch(ledger, creations_of("hcw"), lambda: "properties", secrets)
    sent = httpx.Request("POST", "http://target/api/v1/consultation")
    watch.before_send(sent)
    pending = json.loads(path.read_text().splitlines()[-1])
    assert pending["creates"] == "consultation" and pending["label"] == "properties"
    watch.on_exchange(_exchange(sent, 200, {"id": "c1", "invite": {"id": "i1"}}))
    assert ledger.entries == [
        {
            "kind": "consultation",
            "id": "c1",
            "cleanup": ["POST", "/api/v1/invite/i1"],
            "parent": "i1",
        }
    ]
    login = httpx.Request("POST", "http://target/api/v1/login-invite")
    watch.before_send(login)
    watch.on_exchange(_exchange(login, 200, {"user": {"id": "p1", "token": "jwt"}}))
    assert secrets == {("patient_account", "p1"): "jwt"}
    assert "jwt" not in path.read_text(), "a credential never reaches the ledger"
    refused = httpx.Request("POST", "http://target/api/v1/invite")
    watch.before_send(refused)
    watch.on_exchange(_exchange(refused, 400, {"error": "no"}))
    lost = httpx.Request("POST", "http://target/api/v1/invite")
    watch.before_send(lost)
    watch.on_exchange(_exchange(lost, None))
    # a killed run: the invite whose answer never came may exist; the refused one does not
    _, remaining = read_ledger(path)
    assert [(e["kind"], e["id"]) for e in remaining] == [
        ("consultation", "c1"),
        ("patient_account", "p1"),
        ("invite", None),
    ]
    unanswered = watch.unanswered()
    assert [e["kind"] for e in unanswered] == ["invite"]
    # the run lists it itself: a later `teleconform cleanup` counts it once, not twice
    ledger.created("invite", None, None, why=unanswered[0]["why"], n=unanswered[0]["n"])
    _, remaining = read_ledger(path)
    assert [(e["kind"], e["id"]) for e in remaining].count(("invite", None)) == 1
    items = left_behind([{**e, "why": "w"} for e in unanswered * 2])
    assert items == [{"kind": "invite", "id": None, "count": 2, "why": "w"}]
