"""The Leah reference sandbox: behaviour (in process), every fault, and real HTTP with
webhook delivery to a loopback receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.leah import CREDENTIALS, FAULTS, create_app

KEY = {"LEAH-AUTH-TOKEN": CREDENTIALS["TELECONFORM_LEAH_API_KEY"]}
HCW_EMAIL = CREDENTIALS["TELECONFORM_LEAH_HCW_EMAIL"]
MERGE = {**KEY, "Content-Type": "application/merge-patch+json"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
JPG = b"\xff\xd8\xff\xe0" + bytes(32)
PDF = b"%PDF-1.4\n%%EOF\n"
FUTURE = "2045-01-10T10:15:00"


def client_for(**kwargs: Any) -> TestClient:
    return TestClient(create_app(**kwargs), raise_server_exceptions=False)


@pytest.fixture()
def c() -> TestClient:
    return client_for()


def fx(fault: str | None) -> dict[str, str]:
    return {**KEY, "X-Teleconform-Fault": fault} if fault else dict(KEY)


def office_iri(c: TestClient) -> str:
    return str(c.get("/api/offices", headers=KEY).json()["hydra:member"][0]["@id"])


def worker_iri(c: TestClient) -> str:
    r = c.get("/api/healthcare_workers", params={"email": HCW_EMAIL}, headers=KEY)
    return str(r.json()["hydra:member"][0]["@id"])


def appointment(c: TestClient, fault: str | None = None, **changes: Any) -> httpx.Response:
    body = {
        "phoneNumber": "+15555550100",
        "email": "probe@example.org",
        "office": office_iri(c),
        "startTime": FUTURE,
    }
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    return c.post("/api/appointments", json=body, headers=fx(fault))


def transfer(c: TestClient, fault: str | None = None) -> str:
    r = c.post("/api/transfers", json={"healthcareWorker": worker_iri(c)}, headers=fx(fault))
    assert r.status_code == 201, r.text
    return str(r.json()["@id"])


def upload(
    c: TestClient, path: str, *files: tuple[str, bytes], fault: str | None = None
) -> httpx.Response:
    parts = [("file[]", (name, content, "application/octet-stream")) for name, content in files]
    return c.post(f"{path}/files", files=parts, headers=fx(fault))


# -- authentication and errors -------------------------------------------------------------------
def test_credentials_are_seeded_and_on_the_app() -> None:
    app = create_app()
    assert app.state.credentials == CREDENTIALS
    assert set(CREDENTIALS) == {"TELECONFORM_LEAH_API_KEY", "TELECONFORM_LEAH_HCW_EMAIL"}
    assert HCW_EMAIL.endswith("@example.org")


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/healthcare_workers"),
        ("GET", "/api/offices"),
        ("POST", "/api/appointments"),
        ("PATCH", "/api/appointments/00000000-0000-4000-8000-000000000000"),
        ("POST", "/api/transfers"),
        ("POST", "/api/transfers/00000000-0000-4000-8000-000000000000/files"),
        ("POST", "/api/transfers/00000000-0000-4000-8000-000000000000/share"),
    ],
)
def test_every_endpoint_needs_the_key(c: TestClient, method: str, path: str) -> None:
    missing = c.request(method, path, json={})
    assert missing.status_code == 401
    assert missing.json()["hydra:description"].startswith("Full authentication is required")
    wrong = c.request(method, path, json={}, headers={"LEAH-AUTH-TOKEN": "nope"})
    assert wrong.status_code == 401 and wrong.json() == {"message": "Invalid credentials."}


def test_unknown_route_and_method_get_api_errors(c: TestClient) -> None:
    r = c.get("/api/nothing", headers=KEY)
    assert r.status_code == 404 and r.json()["@type"] == "hydra:Error"
    r = c.delete("/api/offices", headers=KEY)
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    r = c.get("/api/offices", headers={**KEY, "Accept": "text/plain"})
    assert r.status_code == 406


def test_unknown_fault_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        create_app(faults=["no-such-fault"])


# -- collections ------------------------------------------------------------------------------
def test_offices_collection_first_page(c: TestClient) -> None:
    r = c.get("/api/offices", headers=KEY)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/ld+json; charset=utf-8"
    assert b'"@id":"\\/api\\/offices"' in r.content  # API Platform escapes slashes
    doc = r.json()
    assert doc["@context"] == "/api/contexts/Office" and doc["@type"] == "hydra:Collection"
    assert len(doc["hydra:member"]) == 30 and doc["hydra:totalItems"] == 35
    assert doc["hydra:view"] == {
        "@id": "/api/offices?page=1",
        "@type": "hydra:PartialCollectionView",
        "hydra:first": "/api/offices?page=1",
        "hydra:last": "/api/offices?page=2",
        "hydra:next": "/api/offices?page=2",
    }
    search = doc["hydra:search"]
    assert search["hydra:template"] == (
        "/api/offices{?healthcareWorker.email,healthcareWorker.email[]}"
    )
    assert [m["variable"] for m in search["hydra:mapping"]] == [
        "healthcareWorker.email",
        "healthcareWorker.email[]",
    ]
    office = doc["hydra:member"][0]
    assert office["@id"] == f"/api/offices/{office['id']}" and office["@type"] == "Office"
    assert office["createdAt"].endswith("+00:00") and office["currentMeeting"] is None
    assert "@context" not in office


def test_pagination_links_keep_filters_and_put_page_last(c: TestClient) -> None:
    r = c.get(f"/api/offices?page=2&healthcareWorker.email={HCW_EMAIL}&itemsPerPage=1", headers=KEY)
    view = r.json()["hydra:view"]
    encoded = HCW_EMAIL.replace("@", "%40")
    base = f"/api/offices?healthcareWorker.email={encoded}&itemsPerPage=1"
    assert view["@id"] == f"{base}&page=2"
    assert view["hydra:previous"] == f"{base}&page=1"
    assert view["hydra:next"] == f"{base}&page=3"
    assert view["hydra:last"] == f"{base}&page=4"
    assert r.json()["hydra:totalItems"] == 4


def test_pages_beyond_the_last_and_one_page_views(c: TestClient) -> None:
    beyond = c.get("/api/offices?page=3", headers=KEY).json()
    assert beyond["hydra:member"] == [] and "hydra:next" not in beyond["hydra:view"]
    assert beyond["hydra:view"]["hydra:previous"] == "/api/offices?page=2"
    filtered = c.get("/api/healthcare_workers", params={"email": HCW_EMAIL}, headers=KEY).json()
    assert filtered["hydra:totalItems"] == 1
    assert set(filtered["hydra:view"]) == {"@id", "@type"}
    whole = client_for(page_size=100).get("/api/offices", headers=KEY).json()
    assert "hydra:view" not in whole and len(whole["hydra:member"]) == 35


@pytest.mark.parametrize(
    "query,message",
    [
        ("page=0", "Page should not be less than 1"),
        ("page=abc", "Page should not be less than 1"),
        ("itemsPerPage=-1", "Limit should not be less than 0"),
        ("itemsPerPage=0&page=2", "Page should not be greater than 1 if limit is equal to 0"),
        ("page=99999999999999999999", "Page parameter is too large."),
    ],
)
def test_bad_pagination_parameters_get_400(c: TestClient, query: str, message: str) -> None:
    r = c.get(f"/api/healthcare_workers?{query}", headers=KEY)
    assert r.status_code == 400 and r.json()["hydra:description"] == message


def test_unprefixed_dialect_and_problem_json_errors() -> None:
    c = client_for(hydra_prefix=False, page_size=10)
    doc = c.get("/api/offices", headers=KEY).json()
    assert doc["@type"] == "Collection" and doc["totalItems"] == 35 and len(doc["member"]) == 10
    assert doc["view"]["last"] == "/api/offices?page=4" and doc["search"]["@type"] == "IriTemplate"
    assert not any(k.startswith("hydra:") for k in doc)
    assert "currentMeeting" not in doc["member"][0]  # 3.0+ skips null values
    r = c.post("/api/appointments", json={}, headers=KEY)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["@type"] == "ConstraintViolation" and r.json()["status"] == 422
    assert c.get("/api/offices?page=0", headers=KEY).json()["detail"].startswith("Page should")


def test_worker_email_filters(c: TestClient) -> None:
    one = c.get("/api/healthcare_workers", params={"email[]": HCW_EMAIL}, headers=KEY).json()
    assert [m["email"] for m in one["hydra:member"]] == [HCW_EMAIL]
    none = c.get("/api/healthcare_workers", params={"email": "x@example.invalid"}, headers=KEY)
    assert none.json()["hydra:totalItems"] == 0 and none.json()["hydra:member"] == []
    everyone = c.get("/api/healthcare_workers?itemsPerPage=100", headers=KEY).json()
    assert everyone["hydra:totalItems"] == 33
    assert {"firstname", "lastname", "email", "currentOrganization"} <= set(
        everyone["hydra:member"][0]
    )


# -- appointments -----------------------------------------------------------------------------
def test_create_appointment(c: TestClient) -> None:
    r = appointment(c, externalId="EXT-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == body["@id"]
    assert body["@context"] == "/api/contexts/Appointment" and body["@type"] == "Appointment"
    assert body["status"] == "scheduled" and body["startTime"] == FUTURE + "+00:00"
    assert body["externalId"] == "EXT-1" and body["office"] == office_iri(c)
    assert c.get(body["@id"], headers=KEY).json() == body


def test_start_time_with_offset_is_converted_to_utc(c: TestClient) -> None:
    assert appointment(c, startTime="2045-01-10T10:15:00+02:00").json()["startTime"] == (
        "2045-01-10T08:15:00+00:00"
    )


@pytest.mark.parametrize("field", ["phoneNumber", "email", "office", "startTime"])
def test_missing_mandatory_field_is_a_violation(c: TestClient, field: str) -> None:
    r = appointment(c, **{field: None})
    assert r.status_code == 422
    body = r.json()
    assert body["@type"] == "ConstraintViolationList"
    assert [v["propertyPath"] for v in body["violations"]] == [field]


@pytest.mark.parametrize(
    "changes,status,fragment",
    [
        ({"office": "not-an-iri"}, 400, "Invalid IRI"),
        ({"office": "/api/offices/00000000-0000-4000-8000-000000000000"}, 400, "Item not found"),
        ({"office": {"@id": "/api/offices/x"}}, 400, "Nested documents"),
        ({"email": 12}, 400, "integer"),
        ({"startTime": "someday"}, 400, "Failed to parse"),
        ({"startTime": "2001-01-01T00:00:00"}, 422, "greater than now"),
        ({"email": "not-an-address"}, 422, "not a valid email"),
        ({"phoneNumber": "call me"}, 422, "not a valid phone"),
    ],
)
def test_bad_appointment_input(
    c: TestClient, changes: dict[str, Any], status: int, fragment: str
) -> None:
    r = appointment(c, **changes)
    assert r.status_code == status and fragment in json.dumps(r.json())


def test_appointment_content_types(c: TestClient) -> None:
    r = c.post("/api/appointments", content=b"x", headers={**KEY, "Content-Type": "text/plain"})
    assert r.status_code == 415
    r = c.post(
        "/api/appointments", content=b"{", headers={**KEY, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["hydra:description"] == "Syntax error"
    body = json.dumps(
        {
            "phoneNumber": "+15555550100",
            "email": "p@example.org",
            "office": office_iri(c),
            "startTime": FUTURE,
        }
    )
    r = c.post(
        "/api/appointments",
        content=body,
        headers={**KEY, "Content-Type": "application/ld+json; charset=utf-8"},
    )
    assert r.status_code == 201


def test_reschedule_cancel_and_no_way_back(c: TestClient) -> None:
    iri = appointment(c).json()["@id"]
    r = c.patch(
        iri,
        content=b'{"startTime": "2045-02-01T09:00:00"}',
        headers={**KEY, "Content-Type": "application/json"},
    )
    assert r.status_code == 415
    r = c.patch(iri, content=b'{"startTime": "2045-02-01T09:00:00"}', headers=MERGE)
    assert r.status_code == 200 and r.json()["startTime"] == "2045-02-01T09:00:00+00:00"
    assert r.json()["status"] == "scheduled"
    r = c.patch(iri, content=b'{"status": "cancelled"}', headers=MERGE)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert c.patch(iri, content=b'{"status": "cancelled"}', headers=MERGE).status_code == 200
    for body in (b'{"startTime": "2045-03-01T09:00:00"}', b'{"status": "scheduled"}'):
        assert c.patch(iri, content=body, headers=MERGE).status_code == 422
    assert c.patch(iri, content=b'{"status": "done"}', headers=MERGE).status_code == 422
    unknown = "/api/appointments/00000000-0000-4000-8000-000000000000"
    assert c.patch(unknown, content=b"{}", headers=MERGE).status_code == 404
    assert c.get("/api/appointments/not-a-uuid", headers=KEY).status_code == 404


# -- transfers ----------------------------------------------------------------------------------
def test_transfer_creation_uses_the_clock() -> None:
    now = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    c = client_for(clock=now.timestamp)
    r = c.post("/api/transfers", json={"healthcareWorker": worker_iri(c)}, headers=KEY)
    body = r.json()
    assert r.status_code == 201 and r.headers["location"] == body["@id"]
    assert body["expiresAt"] == "2030-05-13T07:08:09+00:00"
    assert body["status"] == "in_progress" and body["files"] == []
    assert body["type"] == "healthcare_worker" and body["healthcareWorker"] == worker_iri(c)
    assert body["email"] is None and body["firstname"] is None and body["lastname"] is None
    assert len(json.loads(json.dumps(body))["hash"]) == 88


def test_transfer_needs_a_worker(c: TestClient) -> None:
    assert c.post("/api/transfers", json={}, headers=KEY).status_code == 422
    assert c.post("/api/transfers", json={"healthcareWorker": "x"}, headers=KEY).status_code == 400


def test_upload_png_jpg_pdf_then_share(c: TestClient) -> None:
    path = transfer(c)
    assert c.post(f"{path}/share", json={"email": "p@example.org"}, headers=KEY).status_code == 422
    r = upload(c, path, ("a.png", PNG), ("b.jpg", JPG), ("c.pdf", PDF))
    assert r.status_code == 200, r.text
    files = r.json()["files"]
    assert r.json()["status"] == "ready" and len(set(files)) == 3
    assert all(f.startswith("/api/transfer_files/") for f in files)
    assert c.post(f"{path}/share", json={"email": "p@example.org"}, headers=KEY).status_code == 200
    r = c.post(f"{path}/share", json={"email": "nope"}, headers=KEY)
    assert r.status_code == 422 and r.json()["violations"][0]["propertyPath"] == "email"


@pytest.mark.parametrize(
    "name,content",
    [
        ("a.gif", b"GIF89a" + bytes(20)),
        ("a.txt", b"hello\n"),
        ("a.exe", b"MZ" + bytes(60)),
        ("a.pdf", b"not a pdf at all"),
        ("a.png", PDF),
        ("a.bin", PNG),
    ],
)
def test_upload_refuses_other_types(c: TestClient, name: str, content: bytes) -> None:
    path = transfer(c)
    r = upload(c, path, (name, content))
    assert r.status_code == 422 and "mime type" in r.text


def test_upload_size_limit(c: TestClient) -> None:
    path = transfer(c)
    assert upload(c, path, ("big.png", PNG + bytes(15_000_000 - len(PNG)))).status_code == 200
    r = upload(c, path, ("bigger.png", PNG + bytes(15_728_641 - len(PNG))))
    assert r.status_code == 422 and "too large" in r.text


def test_upload_count_limit_keeps_files(c: TestClient) -> None:
    path = transfer(c)
    assert len(upload(c, path, *[(f"{i}.png", PNG) for i in range(9)]).json()["files"]) == 9
    assert upload(c, path, ("a.png", PNG), ("b.png", PNG)).status_code == 422
    assert len(c.get(path, headers=KEY).json()["files"]) == 9
    assert len(upload(c, path, ("a.png", PNG)).json()["files"]) == 10
    assert upload(c, path, ("b.png", PNG)).status_code == 422


def test_upload_needs_multipart_and_a_file(c: TestClient) -> None:
    path = transfer(c)
    assert c.post(f"{path}/files", json={}, headers=KEY).status_code == 415
    r = c.post(f"{path}/files", data={"x": "y"}, files={"other": ("a.png", PNG)}, headers=KEY)
    assert r.status_code == 400


# -- every fault ------------------------------------------------------------------------------
def _collection(c: TestClient, path: str, fault: str | None, **params: str) -> dict[str, Any]:
    return dict(c.get(path, params=params, headers=fx(fault)).json())


def _last_page(c: TestClient, fault: str | None) -> dict[str, Any]:
    return _collection(c, "/api/offices", fault, page="2")


def _upload_status(c: TestClient, fault: str | None, *files: tuple[str, bytes]) -> int:
    return upload(c, transfer(c, fault), *files, fault=fault).status_code


def _patch_after_cancel(c: TestClient, fault: str | None, body: bytes) -> int:
    iri = appointment(c, fault).json()["@id"]
    c.patch(iri, content=b'{"status": "cancelled"}', headers={**MERGE, **fx(fault)})
    return c.patch(iri, content=body, headers={**MERGE, **fx(fault)}).status_code


def _eleven(c: TestClient, fault: str | None) -> int:
    path = transfer(c, fault)
    upload(c, path, *[(f"{i}.png", PNG) for i in range(9)], fault=fault)
    return upload(c, path, ("a.png", PNG), ("b.png", PNG), fault=fault).status_code


def _files_after_refusal(c: TestClient, fault: str | None) -> int:
    path = transfer(c, fault)
    upload(c, path, *[(f"{i}.png", PNG) for i in range(9)], fault=fault)
    upload(c, path, ("a.png", PNG), ("b.png", PNG), fault=fault)
    return len(c.get(path, headers=fx(fault)).json()["files"])


def _share(c: TestClient, fault: str | None, email: str) -> int:
    path = transfer(c, fault)
    upload(c, path, ("a.png", PNG), fault=fault)
    return c.post(f"{path}/share", json={"email": email}, headers=fx(fault)).status_code


def _unauthenticated(c: TestClient, fault: str | None, key: str | None) -> tuple[int, bool]:
    headers = {"X-Teleconform-Fault": fault} if fault else {}
    if key is not None:
        headers["LEAH-AUTH-TOKEN"] = key
    r = c.get("/api/offices", headers=headers)
    return r.status_code, "hydra:member" in r.text


Probe = Callable[[TestClient, str | None], Any]
PROBES: dict[str, tuple[Probe, Any]] = {
    "no-auth-required": (lambda c, f: _unauthenticated(c, f, None)[0], 200),
    "invalid-key-accepted": (lambda c, f: _unauthenticated(c, f, "wrong")[0], 200),
    "unauthorized-with-data": (lambda c, f: _unauthenticated(c, f, None), (401, True)),
    "valid-key-refused": (lambda c, f: c.get("/api/offices", headers=fx(f)).status_code, 401),
    "mixed-hydra-prefix": (
        lambda c, f: sorted(k for k in _last_page(c, f) if "otal" in k or "view" in k),
        ["totalItems", "view"],
    ),
    "collection-context-no-prefix": (lambda c, f: _last_page(c, f)["@context"], "/contexts/Office"),
    "collection-absolute-wrong-id": (
        lambda c, f: _last_page(c, f)["@id"],
        "http://testserver/offices",
    ),
    "collection-type-paged": (lambda c, f: _last_page(c, f)["@type"], "hydra:PagedCollection"),
    "member-not-array": (lambda c, f: list(_last_page(c, f)["hydra:member"])[:2], ["30", "31"]),
    "member-id-not-uuid": (
        lambda c, f: _collection(c, "/api/healthcare_workers", f)["hydra:member"][0]["@id"],
        "/api/healthcare_workers/1",
    ),
    "member-type-schema-org": (
        lambda c, f: _last_page(c, f)["hydra:member"][0]["@type"],
        "https://schema.org/Place",
    ),
    "total-items-off-by-one": (lambda c, f: _last_page(c, f)["hydra:totalItems"], 36),
    "total-items-page-count": (lambda c, f: _last_page(c, f)["hydra:totalItems"], 5),
    "total-items-missing": (lambda c, f: "hydra:totalItems" in _last_page(c, f), False),
    "total-items-string": (lambda c, f: _last_page(c, f)["hydra:totalItems"], "35"),
    "next-link-loops": (
        lambda c, f: _last_page(c, f)["hydra:view"].get("hydra:next"),
        "/api/offices?page=1",
    ),
    "duplicate-member-across-pages": (lambda c, f: len(_last_page(c, f)["hydra:member"]), 6),
    "next-drops-filter": (
        lambda c, f: _collection(
            c, "/api/offices", f, **{"healthcareWorker.email": HCW_EMAIL, "itemsPerPage": "1"}
        )["hydra:view"]["hydra:next"],
        "/api/offices?itemsPerPage=1&page=2",
    ),
    "last-link-wrong": (
        lambda c, f: _collection(c, "/api/offices", f, itemsPerPage="5")["hydra:view"][
            "hydra:last"
        ],
        "/api/offices?itemsPerPage=5&page=2",
    ),
    "next-link-self": (
        lambda c, f: _collection(c, "/api/offices", f)["hydra:view"]["hydra:next"],
        "/api/offices?page=1",
    ),
    "next-other-collection": (
        lambda c, f: _collection(c, "/api/healthcare_workers", f)["hydra:view"]["hydra:next"],
        "/api/offices?page=2",
    ),
    "last-unreachable": (
        lambda c, f: _collection(c, "/api/offices", f)["hydra:view"]["hydra:last"],
        "/api/offices?page=4",
    ),
    "key-refused-on-offices": (
        lambda c, f: (
            c.get("/api/offices", headers=fx(f)).status_code,
            c.get("/api/healthcare_workers", headers=fx(f)).status_code,
        ),
        (403, 200),
    ),
    "hcw-missing-email": (
        lambda c, f: "email" in _collection(c, "/api/healthcare_workers", f)["hydra:member"][0],
        False,
    ),
    "email-filter-ignored": (
        lambda c, f: _collection(c, "/api/healthcare_workers", f, email=HCW_EMAIL)[
            "hydra:totalItems"
        ],
        33,
    ),
    "email-filter-unknown-returns-all": (
        lambda c, f: _collection(c, "/api/healthcare_workers", f, email="x@example.invalid")[
            "hydra:totalItems"
        ],
        33,
    ),
    "office-missing-slug": (lambda c, f: "slug" in _last_page(c, f)["hydra:member"][0], False),
    "office-id-integer": (lambda c, f: _last_page(c, f)["hydra:member"][0]["id"], 31),
    "office-organization-embedded": (
        lambda c, f: type(_last_page(c, f)["hydra:member"][0]["organization"]).__name__,
        "dict",
    ),
    "office-createdat-no-offset": (
        lambda c, f: "+" in _last_page(c, f)["hydra:member"][0]["createdAt"],
        False,
    ),
    "office-filter-ignored": (
        lambda c, f: _collection(
            c, "/api/offices", f, **{"healthcareWorker.email": "x@example.invalid"}
        )["hydra:totalItems"],
        35,
    ),
    "office-filter-empty": (
        lambda c, f: _collection(c, "/api/offices", f, **{"healthcareWorker.email": HCW_EMAIL})[
            "hydra:totalItems"
        ],
        0,
    ),
    "appointment-200-not-201": (lambda c, f: appointment(c, f).status_code, 200),
    "appointment-status-pending": (lambda c, f: appointment(c, f).json()["status"], "pending"),
    "appointment-phone-not-echoed": (lambda c, f: "phoneNumber" in appointment(c, f).json(), False),
    "startTime-not-utc": (
        lambda c, f: appointment(c, f).json()["startTime"],
        "2045-01-10T11:15:00+01:00",
    ),
    "missing-phone-accepted": (lambda c, f: appointment(c, f, phoneNumber=None).status_code, 201),
    "missing-email-accepted": (lambda c, f: appointment(c, f, email=None).status_code, 201),
    "missing-office-accepted": (lambda c, f: appointment(c, f, office=None).status_code, 201),
    "missing-starttime-accepted": (lambda c, f: appointment(c, f, startTime=None).status_code, 201),
    "externalId-rejected": (lambda c, f: appointment(c, f, externalId="1").status_code, 400),
    "bad-office-500": (lambda c, f: appointment(c, f, office="bad").status_code, 500),
    "unknown-office-accepted": (
        lambda c, f: (
            appointment(
                c, f, office="/api/offices/00000000-0000-4000-8000-000000000000"
            ).status_code
        ),
        201,
    ),
    "patch-ignored": (
        lambda c, f: c.patch(
            appointment(c, f).json()["@id"],
            content=b'{"startTime": "2045-02-01T09:00:00"}',
            headers={**MERGE, **fx(f)},
        ).json()["startTime"],
        FUTURE + "+00:00",
    ),
    "cancel-ignored": (
        lambda c, f: c.patch(
            appointment(c, f).json()["@id"],
            content=b'{"status": "cancelled"}',
            headers={**MERGE, **fx(f)},
        ).json()["status"],
        "scheduled",
    ),
    "cancel-returns-204": (
        lambda c, f: (
            c.patch(
                appointment(c, f).json()["@id"],
                content=b'{"status": "cancelled"}',
                headers={**MERGE, **fx(f)},
            ).status_code
        ),
        204,
    ),
    "patch-json-accepted": (
        lambda c, f: (
            c.patch(
                appointment(c, f).json()["@id"],
                json={"startTime": "2045-02-01T09:00:00"},
                headers=fx(f),
            ).status_code
        ),
        200,
    ),
    "reschedule-after-cancel": (
        lambda c, f: _patch_after_cancel(c, f, b'{"startTime": "2045-02-01T09:00:00"}'),
        200,
    ),
    "uncancel-accepted": (lambda c, f: _patch_after_cancel(c, f, b'{"status": "scheduled"}'), 200),
    "naive-time-local": (
        lambda c, f: appointment(c, f).json()["startTime"],
        "2045-01-10T09:15:00+00:00",
    ),
    "transfer-expiry-30d": (
        lambda c, f: (
            (
                datetime.fromisoformat(
                    c.post(
                        "/api/transfers", json={"healthcareWorker": worker_iri(c)}, headers=fx(f)
                    ).json()["expiresAt"]
                )
                - datetime.now(UTC)
            ).days
        ),
        29,
    ),
    "transfer-hcw-not-iri": (
        lambda c, f: (
            c.post("/api/transfers", json={"healthcareWorker": worker_iri(c)}, headers=fx(f))
            .json()["healthcareWorker"]
            .startswith("/api/")
        ),
        False,
    ),
    "transfer-files-null": (
        lambda c, f: c.post(
            "/api/transfers", json={"healthcareWorker": worker_iri(c)}, headers=fx(f)
        ).json()["files"],
        None,
    ),
    "pdf-refused": (lambda c, f: _upload_status(c, f, ("a.pdf", PDF)), 422),
    "upload-keeps-in-progress": (
        lambda c, f: upload(c, transfer(c, f), ("a.png", PNG), fault=f).json()["status"],
        "in_progress",
    ),
    "upload-last-file-only": (
        lambda c, f: len(
            upload(c, transfer(c, f), ("a.png", PNG), ("b.png", PNG), fault=f).json()["files"]
        ),
        1,
    ),
    "eleventh-file-accepted": (_eleven, 200),
    "over-limit-partially-stored": (_files_after_refusal, 10),
    "refused-upload-drops-files": (_files_after_refusal, 0),
    "size-limit-ignored": (
        lambda c, f: _upload_status(c, f, ("b.png", PNG + bytes(15_728_641 - len(PNG)))),
        200,
    ),
    "size-limit-php-default": (
        lambda c, f: _upload_status(c, f, ("b.png", PNG + bytes(3_000_000))),
        422,
    ),
    "gif-accepted": (lambda c, f: _upload_status(c, f, ("a.gif", b"GIF89a" + bytes(9))), 200),
    "txt-accepted": (lambda c, f: _upload_status(c, f, ("a.txt", b"hello")), 200),
    "exe-accepted": (lambda c, f: _upload_status(c, f, ("a.exe", b"MZ" + bytes(9))), 200),
    "fake-pdf-accepted": (lambda c, f: _upload_status(c, f, ("a.pdf", b"hello")), 200),
    "share-500": (lambda c, f: _share(c, f, "p@example.org"), 500),
    "share-bad-email-accepted": (lambda c, f: _share(c, f, "nope"), 200),
}
WEBHOOK_FAULTS = {"webhook-payload-missing-externalId", "webhook-bad-event-name"}


def test_every_fault_has_a_probe() -> None:
    assert set(PROBES) | WEBHOOK_FAULTS == set(FAULTS)


@pytest.mark.parametrize("fault", sorted(PROBES))
def test_fault_shows_its_deviation(c: TestClient, fault: str) -> None:
    probe, deviant = PROBES[fault]
    assert probe(c, fault) == deviant
    assert probe(c, None) != deviant


def test_app_wide_faults_apply_to_every_request() -> None:
    c = client_for(faults=["total-items-off-by-one"])
    assert c.get("/api/offices", headers=KEY).json()["hydra:totalItems"] == 36
    assert create_app(faults=["gif-accepted"]).state.faults == ["gif-accepted"]


# -- real HTTP and webhooks ---------------------------------------------------------------------
class Receiver:
    """A loopback webhook receiver answering 500 to the first ``failures`` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.events: list[Any] = []
        self.lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.events.append((request.headers.get("content-type"), json.loads(body)))
                status = 500 if len(self.events) <= self.failures else 200
            return Response(b"ok", status_code=status)

        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.fixture()
def served_sandbox() -> Iterator[tuple[str, Any]]:
    app = create_app(webhook_backoff=0.01)
    with ThreadedServer(app) as server:
        yield server.base_url, app


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_over_http_with_webhook_delivery_and_retry(served_sandbox: tuple[str, Any]) -> None:
    base, _app = served_sandbox
    receiver = Receiver(failures=1)
    with ThreadedServer(receiver.app) as hook_server, httpx.Client(base_url=base) as http:
        assert http.get("/api/offices", headers=KEY).headers.get("date")
        office = http.get("/api/offices", headers=KEY).json()["hydra:member"][0]["@id"]
        r = http.post(
            "/api/appointments",
            headers=KEY,
            json={
                "phoneNumber": "+15555550100",
                "email": "p@example.org",
                "office": office,
                "startTime": FUTURE,
                "externalId": "EXT-42",
            },
        )
        assert r.status_code == 201
        url = f"{hook_server.base_url}/hook"
        assert http.post("/_sandbox/webhooks", json={"url": url}).status_code == 401
        assert http.post("/_sandbox/webhooks", json={"url": url}, headers=KEY).status_code == 201
        online = http.post(
            f"/_sandbox{r.json()['@id'].removeprefix('/api')}/guest-online", headers=KEY
        )
        assert online.status_code == 202 and online.json()["receivers"] == 1
        _wait_for(lambda: len(http.get("/_sandbox/webhooks/deliveries", headers=KEY).json()) == 2)
        deliveries = http.get("/_sandbox/webhooks/deliveries", headers=KEY).json()
        assert [(d["attempt"], d["status"]) for d in deliveries] == [(1, 500), (2, 200)]
        assert {d["url"] for d in deliveries} == {url}
        expected = {
            "event": "appointment.guest.online",
            "payload": {"externalId": "EXT-42", "administrativeFileNumber": None},
        }
        assert receiver.events == [("application/json", expected)] * 2


def test_webhook_faults_and_gives_up_after_three_attempts(served_sandbox: tuple[str, Any]) -> None:
    base, _app = served_sandbox
    receiver = Receiver(failures=10)
    with ThreadedServer(receiver.app) as hook_server, httpx.Client(base_url=base) as http:
        office = http.get("/api/offices", headers=KEY).json()["hydra:member"][0]["@id"]
        iri = http.post(
            "/api/appointments",
            headers=KEY,
            json={
                "phoneNumber": "+15555550100",
                "email": "p@example.org",
                "office": office,
                "startTime": FUTURE,
                "externalId": "EXT-7",
            },
        ).json()["@id"]
        http.post("/_sandbox/webhooks", json={"url": f"{hook_server.base_url}/hook"}, headers=KEY)
        faults = {
            "X-Teleconform-Fault": "webhook-payload-missing-externalId,webhook-bad-event-name"
        }
        http.post(f"/_sandbox{iri.removeprefix('/api')}/guest-online", headers={**KEY, **faults})
        _wait_for(lambda: len(receiver.events) == 3)
        time.sleep(0.1)
        assert len(receiver.events) == 3  # no fourth attempt
        assert receiver.events[0][1] == {
            "event": "appointment.guest_online",
            "payload": {"administrativeFileNumber": None},
        }
