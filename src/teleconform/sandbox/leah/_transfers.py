"""Transfer handlers of the Leah sandbox: create, get, upload files (multipart), share."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import Response

from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._context import Ctx
from teleconform.sandbox.leah._files import (
    ACCEPTED_KINDS,
    MAX_FILE_BYTES,
    MAX_FILES,
    MEDIA_TYPES,
    PHP_DEFAULT_UPLOAD_MAX,
    judge,
)
from teleconform.sandbox.leah._render import (
    INVALID_EMAIL,
    INVALID_MIME,
    LOCKED,
    NOT_BLANK,
    TOO_LARGE,
    TOO_MANY,
    Reject,
    Violation,
    error,
    error_response,
    invalid,
    jsonld,
    transfer_node,
)
from teleconform.sandbox.leah._store import TRANSFER_LIFETIME, Transfer, TransferFile
from teleconform.sandbox.leah._validation import (
    EMAIL_RE,
    JSON_TYPES,
    json_object,
    negotiate,
    require_content_type,
    resolve_iri,
    string_field,
)
from teleconform.sandbox.leah._workers import find_worker


def find_transfer(ctx: Ctx) -> Transfer:
    """The transfer of the path's id, or a 404 Reject."""
    transfer = ctx.state.transfers.get(ctx.request.path_params["id"])
    if transfer is None:
        raise error(ctx, 404, "Not Found")
    return transfer


async def create_transfer(ctx: Ctx) -> Response:
    """POST /api/transfers {healthcareWorker}: a new, empty transfer."""
    authenticate(ctx)
    negotiate(ctx)
    require_content_type(ctx, JSON_TYPES)
    body = await json_object(ctx)
    if body.get("healthcareWorker") is None:
        raise invalid(
            ctx, Violation("healthcareWorker", "This value should not be null.", NOT_BLANK)
        )
    worker = resolve_iri(
        ctx,
        body["healthcareWorker"],
        "healthcareWorker",
        "healthcare_workers",
        lambda i: find_worker(ctx, i),
    )
    now = ctx.now().replace(microsecond=0)
    lifetime = timedelta(days=30) if ctx.on("transfer-expiry-30d") else TRANSFER_LIFETIME
    ident = ctx.state.new_id()
    transfer = Transfer(
        id=ident,
        seq=ctx.state.next_seq(),
        worker_id=worker.id,
        hash=ctx.state.new_hash(ident),
        created_at=now,
        expires_at=now + lifetime,
    )
    ctx.state.add_transfer(transfer)
    iri = f"/api/transfers/{ident}"
    status = int(ctx.reading("transfer_create_status"))
    return jsonld(
        ctx,
        transfer_node(ctx, transfer),
        status=status,
        headers={"location": iri, "content-location": iri},
    )


async def get_transfer(ctx: Ctx) -> Response:
    """GET /api/transfers/{id}."""
    authenticate(ctx)
    negotiate(ctx)
    return jsonld(ctx, transfer_node(ctx, find_transfer(ctx)))


def expired(ctx: Ctx, transfer: Transfer) -> bool:
    """Whether the transfer's expiry has passed on the app's clock."""
    return ctx.now() >= transfer.expires_at


async def upload_files(ctx: Ctx) -> Response:
    """POST /api/transfers/{id}/files (multipart ``file[]``): add files."""
    authenticate(ctx)
    negotiate(ctx)
    transfer = find_transfer(ctx)
    require_content_type(ctx, ("multipart/form-data",))
    try:
        form = await ctx.request.form(max_files=100, max_fields=100)
    except (HTTPException, ValueError, KeyError) as exc:
        raise error(ctx, 400, "The multipart body could not be parsed.") from exc
    try:
        parts = form.getlist("file[]") + form.getlist("file")
        return await _store_uploads(ctx, transfer, parts)
    finally:
        await form.close()


async def _store_uploads(ctx: Ctx, transfer: Transfer, parts: list[Any]) -> Response:
    uploads = [p for p in parts if isinstance(p, UploadFile)]
    if not uploads:
        raise error(ctx, 400, 'No file was uploaded: send one or more "file[]" parts.')
    if expired(ctx, transfer):
        raise invalid(ctx, Violation("transfer", "This transfer has expired.", LOCKED))
    accepted = set(ACCEPTED_KINDS)
    for fault, kind in (
        ("gif-accepted", "gif"),
        ("txt-accepted", "txt"),
        ("exe-accepted", "exe"),
    ):
        if fault in ctx.faults:
            accepted.add(kind)
    if ctx.on("pdf-refused"):
        accepted.discard("pdf")
    max_bytes: int | None = MAX_FILE_BYTES
    if ctx.on("size-limit-ignored"):
        max_bytes = None
    elif ctx.on("size-limit-php-default"):
        max_bytes = PHP_DEFAULT_UPLOAD_MAX
    limit = MAX_FILES + 1 if ctx.on("eleventh-file-accepted") else MAX_FILES

    violations: list[Violation] = []
    stored: list[TransferFile] = []
    for index, upload in enumerate(uploads):
        head = await upload.read(16)
        await upload.seek(0)
        size = upload.size if upload.size is not None else len(head)
        name = upload.filename or ""
        verdict = judge(
            name,
            head,
            size,
            accepted=accepted,
            by_name_only=ctx.on("fake-pdf-accepted"),
            max_bytes=max_bytes,
        )
        if not verdict.ok:
            code = TOO_LARGE if verdict.kind in accepted else INVALID_MIME
            violations.append(Violation(f"file[{index}]", verdict.reason, code))
            continue
        media = MEDIA_TYPES.get(verdict.kind or "", "application/octet-stream")
        stored.append(TransferFile(ctx.state.new_id(), name, size, media))
    if not violations and len(transfer.files) + len(stored) > limit:
        if ctx.on("over-limit-partially-stored"):
            with ctx.state.lock:
                transfer.files.extend(stored[: max(0, limit - len(transfer.files))])
        violations.append(
            Violation(
                "files",
                f"This collection should contain {MAX_FILES} elements or less.",
                TOO_MANY,
            )
        )
    if violations:
        if ctx.on("refused-upload-drops-files"):
            with ctx.state.lock:
                transfer.files.clear()
        raise invalid(ctx, *violations)
    if ctx.on("upload-last-file-only"):
        stored = stored[-1:]
    now = ctx.now().replace(microsecond=0)
    new_hash = ctx.state.new_hash(transfer.id)
    with ctx.state.lock:
        transfer.files.extend(stored)
        transfer.status = "ready"
        transfer.hash = new_hash
        transfer.expires_at = now + TRANSFER_LIFETIME
    return jsonld(ctx, transfer_node(ctx, transfer))


async def share_transfer(ctx: Ctx) -> Response:
    """POST /api/transfers/{id}/share {email}."""
    authenticate(ctx)
    negotiate(ctx)
    transfer = find_transfer(ctx)
    require_content_type(ctx, JSON_TYPES)
    body = await json_object(ctx)
    email = string_field(ctx, body, "email")
    if not email:
        raise invalid(ctx, Violation("email", "This value should not be blank.", NOT_BLANK))
    if not EMAIL_RE.match(email) and not ctx.on("share-bad-email-accepted"):
        raise invalid(
            ctx, Violation("email", "This value is not a valid email address.", INVALID_EMAIL)
        )
    if not transfer.files and ctx.reading("share_without_files") == "refused":
        raise invalid(ctx, Violation("files", "This transfer has no file to share.", NOT_BLANK))
    if expired(ctx, transfer):
        raise invalid(ctx, Violation("transfer", "This transfer has expired.", LOCKED))
    if ctx.on("share-500"):
        raise Reject(error_response(ctx.dialect, 500, "Internal Server Error"))
    with ctx.state.lock:
        transfer.shared_with.append(email)
    return jsonld(ctx, transfer_node(ctx, transfer))
