"""Upload rules of the Leah sandbox: type by content (magic bytes) and by name, size, count."""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass

MAX_FILES = 10
# "15 Mo" read as Symfony's File(maxSize: '15M'): 15,000,000 bytes (15 MiB would be '15Mi').
MAX_FILE_BYTES = 15_000_000
PHP_DEFAULT_UPLOAD_MAX = 2 * 1024 * 1024

MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "pdf": "application/pdf",
    "gif": "image/gif",
    "txt": "text/plain",
    "exe": "application/x-dosexec",
}
_EXTENSIONS = {
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".pdf": "pdf",
    ".gif": "gif",
    ".txt": "txt",
    ".exe": "exe",
}
ACCEPTED_KINDS = frozenset({"png", "jpg", "pdf"})


def sniff(head: bytes) -> str | None:
    """The kind of file its first bytes show, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"MZ"):
        return "exe"
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "txt"
    return None


def kind_from_name(filename: str) -> str | None:
    """The kind the file name's extension claims, or None."""
    return _EXTENSIONS.get(os.path.splitext(filename.lower())[1])


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    kind: str | None
    reason: str


def judge(
    filename: str,
    head: bytes,
    size: int,
    *,
    accepted: Collection[str],
    by_name_only: bool,
    max_bytes: int | None,
) -> Verdict:
    """Whether one uploaded file is acceptable (content and name must agree on an accepted kind)."""
    claimed = kind_from_name(filename)
    actual = claimed if by_name_only else sniff(head)
    if claimed is None or actual is None or claimed != actual or actual not in accepted:
        return Verdict(
            False,
            actual,
            "The mime type of the file is invalid. Allowed mime types "
            'are "image/png", "image/jpeg", "application/pdf".',
        )
    if max_bytes is not None and size > max_bytes:
        return Verdict(
            False,
            actual,
            f"The file is too large ({size} bytes). Allowed maximum size is {max_bytes} bytes.",
        )
    return Verdict(True, actual, "")
