"""Leah document sharing: transfers (LEAH-TRF-01), uploads (LEAH-TRF-02..05) and sharing
(LEAH-TRF-06/07).

Files are built in code (suites/leah/_files.py) and valid of their kind. The two large
uploads of LEAH-TRF-04 (15,000,000 and 15,728,641 bytes) are made once per run. Transfers
cannot be deleted through the API; they expire by themselves after 7 days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from teleconform.hydra import iri_path, is_uuid, uuid_of_iri
from teleconform.suite import Context, clause

from . import _files
from ._common import (
    auth_headers,
    configured_worker_iri,
    create_transfer,
    fresh_transfer,
    json_body,
    parse_rfc3339,
    response_date,
    safe_email,
    transfer_files,
    transfer_path,
    upload,
)

LIFETIME = timedelta(days=7)
TOLERANCE = timedelta(minutes=10)
ACCEPTED_SIZE = 15_000_000  # "15 Mo" read as 15 MB
REFUSED_SIZE = 15 * 1024 * 1024 + 1  # one byte above 15 MiB: refused under either reading


def _skip_without_writes(ctx: Context, *ids: str) -> bool:
    if ctx.writes_allowed:
        return False
    for cid in ids:
        ctx.skips(cid, "creating transfers and uploading files needs --allow-writes")
    return True


def _png(name: str = "scan.png") -> tuple[str, bytes, str]:
    return (name, _files.png(), "image/png")


# The most this module's checks create, per kind (requests that may create):
# the two shares go to the safe address.
# `run --dry-run` adds these up; tests/live/test_footprint.py checks them.
FOOTPRINT = {"transfer": 5, "message": 2}


@clause("LEAH-TRF-01")
def transfer_creation(ctx: Context) -> None:
    """POST /api/transfers gives a Transfer that expires 7 days later, in progress, no file."""
    if _skip_without_writes(ctx, "LEAH-TRF-01"):
        return
    worker = configured_worker_iri(ctx)
    response = create_transfer(ctx)
    body = json_body(response)
    ctx.precondition(
        response.is_success and isinstance(body, dict),
        "POST /api/transfers answers with the transfer",
        response,
    )
    assert isinstance(body, dict)
    problems = []
    if response.status_code not in (200, 201):
        problems.append(f"answered {response.status_code}, not 200 or 201")
    if not (isinstance(body.get("id"), str) and is_uuid(body["id"])):
        problems.append(f"id {body.get('id')!r} is not a UUID")
    if not isinstance(body.get("hash"), str) or not body["hash"]:
        problems.append(f"hash is {body.get('hash')!r}")
    expires = parse_rfc3339(body.get("expiresAt"))
    answered = response_date(ctx, response)
    if expires is None:
        problems.append(f"expiresAt {body.get('expiresAt')!r} is not an RFC 3339 date-time")
    elif abs(expires - (answered + LIFETIME)) > TOLERANCE:
        problems.append(
            f"expiresAt {body['expiresAt']} is not 7 days after the answer ({answered.isoformat()})"
        )
    hcw = body.get("healthcareWorker")
    if not isinstance(hcw, str) or iri_path(hcw) != iri_path(worker):
        problems.append(f"healthcareWorker {hcw!r} is not the IRI sent ({worker})")
    if body.get("status") != "in_progress":
        problems.append(f"status is {body.get('status')!r}, not in_progress")
    if body.get("files") != []:
        problems.append(f"files is {body.get('files')!r}, not []")
    if body.get("type") != "healthcare_worker":
        problems.append(f"type is {body.get('type')!r}, not healthcare_worker")
    ctx.expect(
        "LEAH-TRF-01",
        not problems,
        "; ".join(problems)
        or f"{response.status_code}: a Transfer in progress, expiring {body['expiresAt']}",
        response,
    )
    path = transfer_path(response)
    if path is not None:
        ctx.state["leah.spare_transfer"] = path


@clause("LEAH-TRF-02")
def upload_png_jpg_pdf(ctx: Context) -> None:
    """One upload with a png, a jpg and a pdf: 200, ready, one transfer_files IRI per file."""
    if _skip_without_writes(ctx, "LEAH-TRF-02"):
        return
    transfer = fresh_transfer(ctx)
    response = upload(
        ctx,
        transfer,
        [
            ("scan.png", _files.png(), "image/png"),
            ("photo.jpg", _files.jpeg(), "image/jpeg"),
            ("letter.pdf", _files.pdf(), "application/pdf"),
        ],
    )
    body = json_body(response)
    files = transfer_files(response) or []
    status = body.get("status") if isinstance(body, dict) else None
    iris_ok = (
        len(files) == 3
        and len(set(map(str, files))) == 3
        and all(uuid_of_iri(f, "transfer_files") for f in files)
    )
    ctx.expect(
        "LEAH-TRF-02",
        response.status_code == 200 and status == "ready" and iris_ok,
        f"png+jpg+pdf: {response.status_code}, status {status!r}, files {files!r}",
        response,
    )


@clause("LEAH-TRF-03")
def at_most_ten_files(ctx: Context) -> None:
    """With 9 files, a 2-file upload is refused and changes nothing; the 10th file is
    accepted and an 11th refused."""
    if _skip_without_writes(ctx, "LEAH-TRF-03"):
        return
    transfer = fresh_transfer(ctx)
    response = None
    for n in range(1, 10):
        response = upload(ctx, transfer, [_png(f"page-{n}.png")])
        ctx.precondition(response.status_code == 200, f"upload of file {n} of 10", response)
    assert response is not None
    ctx.precondition(
        len(transfer_files(response) or []) == 9,
        "the transfer holds the 9 files uploaded",
        response,
    )
    response = upload(ctx, transfer, [_png("page-10.png"), _png("page-11.png")])
    ctx.expect(
        "LEAH-TRF-03",
        400 <= response.status_code < 500,
        f"2 files on top of 9: {response.status_code}",
        response,
    )
    response = upload(ctx, transfer, [_png("page-10.png")])
    count = len(transfer_files(response) or [])
    ctx.expect(
        "LEAH-TRF-03",
        response.status_code == 200 and count == 10,
        f"after the refused upload, the 10th file: {response.status_code} with {count} "
        "files (the transfer must have kept exactly its 9)",
        response,
    )
    response = upload(ctx, transfer, [_png("page-11.png")])
    ctx.expect(
        "LEAH-TRF-03",
        400 <= response.status_code < 500,
        f"an 11th file: {response.status_code}",
        response,
    )


@clause("LEAH-TRF-04")
def at_most_15_mb(ctx: Context) -> None:
    """A 15,000,000-byte file is accepted; one of 15,728,641 bytes is refused."""
    if _skip_without_writes(ctx, "LEAH-TRF-04"):
        return
    transfer = fresh_transfer(ctx)
    response = upload(ctx, transfer, [("big.png", _files.big_png(ACCEPTED_SIZE), "image/png")])
    ctx.expect(
        "LEAH-TRF-04",
        response.status_code == 200,
        f"{ACCEPTED_SIZE:,} bytes: {response.status_code}",
        response,
    )
    response = upload(ctx, transfer, [("bigger.png", _files.big_png(REFUSED_SIZE), "image/png")])
    ctx.expect(
        "LEAH-TRF-04",
        response.status_code in (400, 413, 422),
        f"{REFUSED_SIZE:,} bytes: {response.status_code}",
        response,
    )


@clause("LEAH-TRF-05")
def only_png_jpg_pdf(ctx: Context) -> None:
    """A gif, a txt, an executable and a text file named .pdf are each refused."""
    if _skip_without_writes(ctx, "LEAH-TRF-05"):
        return
    transfer = fresh_transfer(ctx)
    control = upload(ctx, transfer, [_png()])
    ctx.precondition(control.status_code == 200, "the transfer accepts a png", control)
    probes: list[tuple[str, Any, str]] = [
        ("a .gif image", ("image.gif", _files.gif(), "image/gif"), "gif"),
        ("a .txt file", ("notes.txt", _files.text(), "text/plain"), "txt"),
        ("an executable", ("setup.exe", _files.executable(), "application/x-msdownload"), "exe"),
        ("a .pdf that is not a PDF", ("report.pdf", _files.fake_pdf(), "application/pdf"), "pdf"),
    ]
    for label, part, _kind in probes:
        response = upload(ctx, transfer, [part])
        ctx.expect(
            "LEAH-TRF-05",
            400 <= response.status_code < 500,
            f"{label}: {response.status_code}",
            response,
        )


@clause("LEAH-TRF-06", "LEAH-TRF-07")
def share(ctx: Context) -> None:
    """Sharing a ready transfer to an address answers 200; to a non-address, 400 or 422."""
    if _skip_without_writes(ctx, "LEAH-TRF-06", "LEAH-TRF-07"):
        return
    transfer = fresh_transfer(ctx)
    ready = upload(ctx, transfer, [_png()])
    ctx.precondition(ready.status_code == 200, "a file can be uploaded to the transfer", ready)
    response = ctx.request(
        "POST", f"{transfer}/share", headers=auth_headers(ctx), json={"email": "not-an-address"}
    )
    ctx.expect(
        "LEAH-TRF-07",
        response.status_code in (400, 422),
        f"share to 'not-an-address': {response.status_code}",
        response,
    )
    response = ctx.request(
        "POST", f"{transfer}/share", headers=auth_headers(ctx), json={"email": safe_email(ctx)}
    )
    ctx.expect(
        "LEAH-TRF-06",
        response.status_code == 200,
        f"share to the safe address: {response.status_code}",
        response,
    )
