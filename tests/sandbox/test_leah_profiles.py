"""Leah sandbox profiles: every reading is observable, profiles resolve (by name, object or
file), explicit faults add to a profile's, and the test-only inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from teleconform.sandbox._profiles import DEFAULT_PROFILE, Profile
from teleconform.sandbox.leah import (
    CREDENTIALS,
    FAULTS,
    PROFILES,
    READINGS,
    create_app,
    inventory,
    resolve,
)

KEY = {"LEAH-AUTH-TOKEN": CREDENTIALS["TELECONFORM_LEAH_API_KEY"]}
MERGE = {**KEY, "Content-Type": "application/merge-patch+json"}
HCW_EMAIL = CREDENTIALS["TELECONFORM_LEAH_HCW_EMAIL"]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
FUTURE = "2045-01-10T10:15:00"


def client(**readings: Any) -> TestClient:
    """A sandbox on the default profile with these readings changed."""
    profile = Profile(name="test", api="leah", description="test", readings=readings)
    return TestClient(create_app(profile=profile), raise_server_exceptions=False)


def members(doc: dict[str, Any]) -> list[Any]:
    return list(doc.get("hydra:member", doc.get("member", [])))


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc.get("hydra:view", doc.get("view", {})))


def link(doc: dict[str, Any], term: str) -> str | None:
    found = view(doc)
    value = found.get(f"hydra:{term}", found.get(term))
    return str(value) if value is not None else None


def office_iri(c: TestClient) -> str:
    return str(members(c.get("/api/offices", headers=KEY).json())[0]["@id"])


def worker_iri(c: TestClient) -> str:
    doc = c.get("/api/healthcare_workers", params={"email": HCW_EMAIL}, headers=KEY).json()
    return str(members(doc)[0]["@id"])


def book(c: TestClient) -> str:
    body = {
        "phoneNumber": "+15555550100",
        "email": "probe@example.org",
        "office": office_iri(c),
        "startTime": FUTURE,
    }
    r = c.post("/api/appointments", json=body, headers=KEY)
    assert r.status_code == 201, r.text
    return str(r.json()["@id"])


def new_transfer(c: TestClient) -> httpx.Response:
    return c.post("/api/transfers", json={"healthcareWorker": worker_iri(c)}, headers=KEY)


# -- the profile table ---------------------------------------------------------------------------
def test_at_least_seven_conformant_profiles_each_a_different_reading() -> None:
    assert DEFAULT_PROFILE in PROFILES and len(PROFILES) >= 7
    resolved = {name: resolve(name) for name in PROFILES}
    assert all(p.conformant and not p.faults and p.api == "leah" for p in resolved.values())
    default = resolved[DEFAULT_PROFILE].readings
    assert default == {name: r.default for name, r in READINGS.items()}
    seen = set()
    for name, profile in resolved.items():
        key = tuple(sorted(profile.readings.items()))
        assert key not in seen, f"{name} repeats another profile's readings"
        seen.add(key)


def test_every_allowed_value_of_every_reading_is_used_by_a_profile() -> None:
    used = {(n, v) for p in PROFILES.values() for n, v in resolve(p.name).readings.items()}
    missing = {(n, v) for n, r in READINGS.items() for v in r.allowed if (n, v) not in used}
    assert missing == set()
    for reading in READINGS.values():
        assert reading.default in reading.allowed and reading.description


def test_profile_by_name_object_and_file(tmp_path: Path) -> None:
    assert create_app().state.profile.name == DEFAULT_PROFILE
    assert create_app(profile="small-pages").state.profile.readings["page_size"] == 2
    path = tmp_path / "staging.yaml"
    path.write_text(
        "api: leah\nbase: small-pages\nreadings: {transfer_create_status: 200}\n"
        "faults: [pdf-refused]\n",
        encoding="utf-8",
    )
    app = create_app(profile=str(path), faults=["gif-accepted"])
    assert app.state.profile.readings["page_size"] == 2
    assert app.state.faults == ["gif-accepted", "pdf-refused"]  # explicit faults add up
    assert not app.state.profile.conformant
    with pytest.raises(ValueError, match="unknown leah profile"):
        create_app(profile="no-such-profile")
    with pytest.raises(ValueError, match="cannot be 3"):
        create_app(profile=Profile(name="x", api="leah", description="", readings={"page_size": 3}))


def test_explicit_arguments_override_the_profile() -> None:
    c = TestClient(create_app(profile="small-pages", page_size=5, hydra_prefix=False))
    doc = c.get("/api/offices", headers=KEY).json()
    assert len(doc["member"]) == 5


# -- each reading, observed ----------------------------------------------------------------------
@pytest.mark.parametrize("prefixed", [True, False])
def test_hydra_prefix(prefixed: bool) -> None:
    doc = client(hydra_prefix=prefixed).get("/api/offices", headers=KEY).json()
    assert ("hydra:member" in doc) is prefixed and ("member" in doc) is not prefixed
    assert doc["@type"] == ("hydra:Collection" if prefixed else "Collection")


@pytest.mark.parametrize(
    ("escaping", "raw"), [("php", b'"@id":"\\/api\\/offices"'), ("plain", b'"@id":"/api/offices"')]
)
def test_json_escaping(escaping: str, raw: bytes) -> None:
    c = client(json_escaping=escaping)
    response = c.get("/api/offices", headers=KEY)
    assert raw in response.content
    error = c.get("/api/appointments/nope", headers=KEY)
    assert (b"\\/" in error.content) is (escaping == "php")


@pytest.mark.parametrize(
    ("readings", "media", "kind"),
    [
        ({}, "application/ld+json", "hydra:Error"),
        ({"error_format": "ld+json", "hydra_prefix": False}, "application/ld+json", "Error"),
        ({"error_format": "problem+json"}, "application/problem+json", "hydra:Error"),
        ({"hydra_prefix": False}, "application/problem+json", "Error"),
    ],
)
def test_error_format(readings: dict[str, Any], media: str, kind: str) -> None:
    c = client(**readings)
    r = c.get("/api/appointments/nope", headers=KEY)
    assert r.status_code == 404 and r.headers["content-type"].startswith(media)
    assert r.json()["@type"] == kind
    if media == "application/problem+json":
        assert r.json()["status"] == 404 and r.json()["detail"] == "Not Found"
    invalid = c.post("/api/appointments", json={}, headers=KEY)
    assert invalid.status_code == 422 and invalid.headers["content-type"].startswith(media)
    assert invalid.json()["violations"]


@pytest.mark.parametrize("status", [201, 200])
def test_transfer_create_status(status: int) -> None:
    r = new_transfer(client(transfer_create_status=status))
    assert r.status_code == status and r.json()["status"] == "in_progress"


@pytest.mark.parametrize(("reading", "after"), [("kept", 422), ("deleted", 404)])
def test_cancelled_appointment(reading: str, after: int) -> None:
    c = client(cancelled_appointment=reading)
    iri = book(c)
    cancel = c.patch(iri, content=b'{"status": "cancelled"}', headers=MERGE)
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert (
        c.patch(iri, content=b'{"startTime": "2045-02-01T09:00:00"}', headers=MERGE).status_code
        == after
    )
    assert c.patch(iri, content=b'{"status": "scheduled"}', headers=MERGE).status_code == after
    assert c.get(iri, headers=KEY).status_code == (200 if reading == "kept" else 404)


def test_deleted_reading_still_shows_the_faults_that_keep_cancelled_appointments() -> None:
    c = client(cancelled_appointment="deleted")
    iri = book(c)
    fault = {**MERGE, "X-Teleconform-Fault": "reschedule-after-cancel"}
    c.patch(iri, content=b'{"status": "cancelled"}', headers=fault)
    assert (
        c.patch(iri, content=b'{"startTime": "2045-02-01T09:00:00"}', headers=fault).status_code
        == 200
    )


@pytest.mark.parametrize(("reading", "size"), [("honoured", 5), ("ignored", 30)])
def test_items_per_page(reading: str, size: int) -> None:
    doc = client(items_per_page=reading).get("/api/offices?itemsPerPage=5", headers=KEY).json()
    assert len(members(doc)) == size
    assert view(doc)["@id"].startswith("/api/offices?itemsPerPage=5")


def test_page_size_two() -> None:
    doc = client(page_size=2).get("/api/offices", headers=KEY).json()
    assert len(members(doc)) == 2 and link(doc, "next") == "/api/offices?page=2"
    assert link(doc, "last") == "/api/offices?page=18"


@pytest.mark.parametrize("trailing", [False, True])
def test_trailing_empty_page_after_a_full_last_page(trailing: bool) -> None:
    c = client(page_size=2, trailing_empty_page=trailing)
    query = {"healthcareWorker.email": HCW_EMAIL}
    last = c.get("/api/offices", params={**query, "page": "2"}, headers=KEY).json()
    assert len(members(last)) == 2 and link(last, "last") is not None
    expected = "/api/offices?healthcareWorker.email=" + HCW_EMAIL.replace("@", "%40") + "&page=3"
    assert link(last, "next") == (expected if trailing else None)
    if trailing:
        empty = c.get(expected, headers=KEY).json()
        assert members(empty) == [] and link(empty, "next") is None
        assert link(empty, "previous") is not None
    # a last page that is not full never gets the trailing page
    odd = c.get("/api/offices", params={"page": "18"}, headers=KEY).json()
    assert len(members(odd)) == 1 and link(odd, "next") is None


@pytest.mark.parametrize(("reading", "status"), [("refused", 400), ("ignored", 200)])
def test_malformed_items_per_page(reading: str, status: int) -> None:
    c = client(malformed_items_per_page=reading)
    for value in ("abc", "1.5", "1001"):
        r = c.get(f"/api/offices?itemsPerPage={value}", headers=KEY)
        assert r.status_code == status, value
    assert c.get("/api/offices?page=0", headers=KEY).status_code == 400  # page stays strict


@pytest.mark.parametrize(("reading", "status"), [("refused", 422), ("allowed", 200)])
def test_share_without_files(reading: str, status: int) -> None:
    c = client(share_without_files=reading)
    path = new_transfer(c).json()["@id"]
    r = c.post(f"{path}/share", json={"email": "p@example.org"}, headers=KEY)
    assert r.status_code == status
    assert c.post(f"{path}/share", json={"email": "nope"}, headers=KEY).status_code == 422


# -- inventory -----------------------------------------------------------------------------------
def test_inventory_lists_what_was_created_and_is_still_there() -> None:
    app = create_app(profile="document-literal")
    c = TestClient(app)
    assert c.get("/_sandbox/inventory").status_code == 401
    empty = c.get("/_sandbox/inventory", headers=KEY)
    assert empty.status_code == 200 and empty.json() == {
        "appointments": [],
        "transfers": [],
        "webhook_receivers": [],
    }
    kept, gone = book(c), book(c)
    c.patch(gone, content=b'{"status": "cancelled"}', headers=MERGE)  # deleted on this profile
    path = new_transfer(c).json()["@id"]
    c.post(f"{path}/files", files=[("file[]", ("a.png", PNG, "image/png"))] * 2, headers=KEY)
    c.post("/_sandbox/webhooks", json={"url": "https://receiver.example.org/hook"}, headers=KEY)
    expected = {
        "appointments": [{"id": kept.rsplit("/", 1)[1], "status": "scheduled"}],
        "transfers": [{"id": path.rsplit("/", 1)[1], "files": 2}],
        "webhook_receivers": ["https://receiver.example.org/hook"],
    }
    assert inventory(app) == expected
    served = c.get("/_sandbox/inventory", headers=KEY)
    assert served.json() == expected
    assert served.text == json.dumps(expected, sort_keys=True, separators=(",", ":"))


def test_inventory_keeps_cancelled_appointments_on_the_kept_reading() -> None:
    app = create_app()
    c = TestClient(app)
    iri = book(c)
    c.patch(iri, content=b'{"status": "cancelled"}', headers=MERGE)
    assert inventory(app)["appointments"] == [{"id": iri.rsplit("/", 1)[1], "status": "cancelled"}]


def test_profiles_use_only_known_faults() -> None:
    assert all(set(p.faults) <= set(FAULTS) for p in PROFILES.values())
