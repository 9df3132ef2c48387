"""LEAH-CLIENT-01...06: each clause fails on a client that breaks it and passes on one that
keeps it, judged on exchanges fed straight to the validator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teleconform.client import ClientValidator, Exchange

BASE = "http://leah.test"
KEY = {"LEAH-AUTH-TOKEN": "k-123"}
OFFICE = "/api/offices/6e229d04-1880-4b6b-a520-36f757f4a531"
WORKER = "/api/healthcare_workers/1b7c7cc2-6d5e-4f43-9d0b-0c6a4e1b2a11"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PDF = b"%PDF-1.4\n%%EOF\n"
GIF = b"GIF89a" + b"\0" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 16


def ex(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
    response: Any = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> Exchange:
    hdrs = {**KEY, **(headers or {})}
    if body is not None or raw is not None:
        hdrs.setdefault("content-type", content_type)
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return Exchange.of(
        method,
        BASE + path,
        headers=hdrs,
        body=content,
        status=status,
        response_headers={"content-type": "application/ld+json"},
        response_body=b"" if response is None else json.dumps(response).encode(),
    )


def verdict(v: ClientValidator, clause: str) -> str:
    return v.verdicts()[clause]


def read_offices(v: ClientValidator) -> None:
    v.observe(
        ex(
            "GET",
            "/api/offices?healthcareWorker.email=w%40example.org",
            response={"hydra:member": [{"@id": OFFICE, "name": "Main"}]},
        )
    )


GOOD_APPOINTMENT = {
    "phoneNumber": "+33612345678",
    "email": "guest@example.org",
    "office": OFFICE,
    "startTime": "2027-04-25T13:15:00",
}


def create(v: ClientValidator, body: Any = None, **kw: Any) -> None:
    v.observe(
        ex(
            "POST",
            "/api/appointments",
            body=GOOD_APPOINTMENT if body is None else body,
            status=kw.pop("status", 201),
            response={"@id": "/api/appointments/a-1"},
            **kw,
        )
    )


def patch(
    v: ClientValidator,
    body: Any,
    content_type: str = "application/merge-patch+json",
    path: str = "/api/appointments/a-1",
    status: int = 200,
) -> None:
    v.observe(
        ex(
            "PATCH",
            path,
            body=body,
            content_type=content_type,
            status=status,
            response={"@id": path},
        )
    )


def multipart(*files: tuple[str, str, bytes]) -> tuple[bytes, str]:
    boundary = "b0undary"
    out = b""
    for field, name, content in files:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def upload(
    v: ClientValidator, *files: tuple[str, str, bytes], transfer: str = "t-1", status: int = 200
) -> None:
    raw, ctype = multipart(*files)
    v.observe(
        ex("POST", f"/api/transfers/{transfer}/files", raw=raw, content_type=ctype, status=status)
    )


def new_transfer(v: ClientValidator, worker: Any = WORKER) -> None:
    v.observe(
        ex(
            "POST",
            "/api/transfers",
            body={"healthcareWorker": worker},
            status=201,
            response={"id": "t-1"},
        )
    )


def share(v: ClientValidator, email: str = "doc@example.org") -> None:
    v.observe(ex("POST", "/api/transfers/t-1/share", body={"email": email}))


# ---- LEAH-CLIENT-01 ------------------------------------------------------------------------
def test_01_key_on_every_request() -> None:
    v = ClientValidator("leah")
    read_offices(v)
    assert verdict(v, "LEAH-CLIENT-01") == "pass"
    v.observe(Exchange.of("GET", BASE + "/api/offices", status=401))
    assert verdict(v, "LEAH-CLIENT-01") == "fail"


def test_01_sandbox_controls_are_not_judged() -> None:
    v = ClientValidator("leah")
    v.observe(Exchange.of("GET", BASE + "/_sandbox/webhooks/deliveries"))
    assert verdict(v, "LEAH-CLIENT-01") == "skip"


# ---- LEAH-CLIENT-02 ------------------------------------------------------------------------
def test_02_documented_creation_passes() -> None:
    v = ClientValidator("leah")
    read_offices(v)
    create(v)
    create(v, {**GOOD_APPOINTMENT, "externalId": "ext-1", "startTime": "2027-04-25T13:15:00Z"})
    assert verdict(v, "LEAH-CLIENT-02") == "pass"


@pytest.mark.parametrize(
    "change",
    [
        {"startTime": "2027-04-25T15:15:00+02:00"},
        {"startTime": "25/04/2027 13:15"},
        {"office": "o-1"},
        {"office": "/api/offices/00000000-0000-4000-8000-000000000000"},
        {"email": "nope"},
        {"phoneNumber": None},
        {"externalId": 42},
    ],
    ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()),
)
def test_02_undocumented_creation_fails(change: dict[str, Any]) -> None:
    v = ClientValidator("leah")
    read_offices(v)
    body = {k: val for k, val in {**GOOD_APPOINTMENT, **change}.items() if val is not None}
    create(v, body, status=422)
    assert verdict(v, "LEAH-CLIENT-02") == "fail"


def test_02_form_encoded_creation_fails() -> None:
    v = ClientValidator("leah")
    v.observe(
        ex(
            "POST",
            "/api/appointments",
            raw=b"email=a%40b.org",
            content_type="application/x-www-form-urlencoded",
            status=415,
        )
    )
    assert verdict(v, "LEAH-CLIENT-02") == "fail"


# ---- LEAH-CLIENT-03 ------------------------------------------------------------------------
def test_03_merge_patch_reschedule_and_cancel_pass() -> None:
    v = ClientValidator("leah")
    patch(v, {"startTime": "2027-05-18T09:00:00"})
    patch(v, {"status": "cancelled"})
    assert verdict(v, "LEAH-CLIENT-03") == "pass"


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        ({"startTime": "2027-05-18T09:00:00"}, "application/json"),
        (
            {"startTime": "2027-05-18T09:00:00", "email": "x@example.org"},
            "application/merge-patch+json",
        ),
        ({"status": "deleted"}, "application/merge-patch+json"),
        ({"startTime": "2027-05-18 09:00"}, "application/merge-patch+json"),
        ({}, "application/merge-patch+json"),
    ],
    ids=["json", "extra-field", "other-status", "format", "empty"],
)
def test_03_other_patches_fail(body: Any, ctype: str) -> None:
    v = ClientValidator("leah")
    patch(v, body, ctype, status=415 if ctype == "application/json" else 200)
    assert verdict(v, "LEAH-CLIENT-03") == "fail"


# ---- LEAH-CLIENT-04 ------------------------------------------------------------------------
def test_04_leaving_a_cancelled_appointment_alone_passes() -> None:
    v = ClientValidator("leah")
    patch(v, {"status": "cancelled"})
    v.observe(ex("GET", "/api/appointments/a-2", response={"@id": "/api/appointments/a-2"}))
    assert verdict(v, "LEAH-CLIENT-04") == "pass"


def test_04_touching_a_cancelled_appointment_fails() -> None:
    v = ClientValidator("leah")
    patch(v, {"status": "cancelled"})
    v.observe(ex("GET", "/api/appointments/a-1", status=404))
    assert verdict(v, "LEAH-CLIENT-04") == "fail"


def test_04_refused_cancel_does_not_count() -> None:
    v = ClientValidator("leah")
    patch(v, {"status": "cancelled"}, status=404)
    v.observe(ex("GET", "/api/appointments/a-1", status=404))
    assert verdict(v, "LEAH-CLIENT-04") == "skip"


# ---- LEAH-CLIENT-05 ------------------------------------------------------------------------
def test_05_three_steps_within_limits_pass() -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    upload(v, ("file[]", "scan.pdf", PDF), ("file[]", "photo.png", PNG), ("file[]", "x.jpg", JPEG))
    share(v)
    assert verdict(v, "LEAH-CLIENT-05") == "pass"


@pytest.mark.parametrize(
    "files",
    [
        [("file[]", "anim.gif", GIF)],
        [("file[]", "fake.pdf", GIF)],
        [("file[]", "scan.png", PDF)],
        [("file", "scan.pdf", PDF)],
        [("file[]", "big.pdf", PDF + b"\0" * 15_000_000)],
        [("file[]", f"f{i}.pdf", PDF) for i in range(11)],
    ],
    ids=["gif", "gif-named-pdf", "pdf-named-png", "field-name", "too-big", "eleven"],
)
def test_05_uploads_outside_the_limits_fail(files: list[tuple[str, str, bytes]]) -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    upload(v, *files, status=422)
    assert verdict(v, "LEAH-CLIENT-05") == "fail"


def test_05_ten_files_over_two_uploads_is_the_limit() -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    upload(v, *[("file[]", f"a{i}.pdf", PDF) for i in range(6)])
    upload(v, *[("file[]", f"b{i}.pdf", PDF) for i in range(4)])
    assert verdict(v, "LEAH-CLIENT-05") == "pass"
    upload(v, ("file[]", "c.pdf", PDF))
    assert verdict(v, "LEAH-CLIENT-05") == "fail"


def test_05_wrong_order_or_recipient_fails() -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    share(v)  # nothing uploaded yet
    assert verdict(v, "LEAH-CLIENT-05") == "fail"
    v = ClientValidator("leah")
    new_transfer(v)
    upload(v, ("file[]", "scan.pdf", PDF))
    share(v)
    upload(v, ("file[]", "late.pdf", PDF))
    assert verdict(v, "LEAH-CLIENT-05") == "fail"
    v = ClientValidator("leah")
    new_transfer(v)
    upload(v, ("file[]", "scan.pdf", PDF))
    share(v, "not-an-address")
    assert verdict(v, "LEAH-CLIENT-05") == "fail"
    v = ClientValidator("leah")
    new_transfer(v, "w-1")
    assert verdict(v, "LEAH-CLIENT-05") == "fail"


def test_05_upload_as_json_fails() -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    v.observe(ex("POST", "/api/transfers/t-1/files", body={"file": "base64..."}, status=415))
    assert verdict(v, "LEAH-CLIENT-05") == "fail"


# ---- LEAH-CLIENT-06 ------------------------------------------------------------------------
def test_06_filters_pass_and_walking_pages_fails() -> None:
    v = ClientValidator("leah")
    v.observe(ex("GET", "/api/healthcare_workers?email=w%40example.org"))
    read_offices(v)
    assert verdict(v, "LEAH-CLIENT-06") == "pass"
    v = ClientValidator("leah")
    v.observe(ex("GET", "/api/healthcare_workers"))
    assert verdict(v, "LEAH-CLIENT-06") == "skip"
    v.observe(ex("GET", "/api/healthcare_workers?page=2"))
    assert verdict(v, "LEAH-CLIENT-06") == "fail"


def test_upload_evidence_is_redacted_and_bounded() -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    upload(v, ("file[]", "anim.gif", GIF + b"x" * 200_000), status=422)
    run = v.run_json(BASE)
    entry = next(c for c in run["clauses"] if c["id"] == "LEAH-CLIENT-05")
    body = entry["evidence"][0]["request"]["body"]
    assert "redacted file" in body and len(body) < 5000
    assert "k-123" not in json.dumps(run)


def test_only_the_evidence_is_kept_and_bodies_are_cut() -> None:
    v = ClientValidator("leah")
    new_transfer(v)
    for _ in range(3):
        upload(v, ("file[]", "big.pdf", PDF + b"\0" * 1_000_000))
    kept = [f.exchange for f in v.findings() if f.clause == "LEAH-CLIENT-05"]
    assert kept[0] is not None and all(ex is None for ex in kept[2:])  # one pass is evidence
    assert all(len(ex.request_body) <= 64 * 1024 for ex in kept if ex is not None)
    upload(v, ("file[]", "a.gif", GIF + b"\0" * 1_000_000))
    failing = [f for f in v.findings() if f.failed]
    assert failing[0].exchange is not None and len(failing[0].exchange.request_body) == 64 * 1024
