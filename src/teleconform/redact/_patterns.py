"""Detectors for credentials and personal data, shared by redaction and the cassette audit.

Values are looked for in a *decoded view* of each string: percent-escapes (``%40``),
JSON/JavaScript escapes (``\\u0040``) and HTML numeric entities are decoded, and every
character of the view remembers the span of raw text it came from, so a value found in
the view can be replaced (or reported) in the raw text whatever its encoding.
Base64 blobs are decoded and scanned as well (see ``base64_views``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

# Kinds reported by the audit and accepted in ``x-sensitive`` marks.
KINDS = (
    "credential",
    "token",
    "jwt",
    "password",
    "email",
    "phone",
    "name",
    "birthdate",
    "note",
    "file",
)

# Built-in table of JSON keys / form fields / query parameters known to hold sensitive data
# (lower-cased). The specs' x-sensitive marks add to it.
DEFAULT_FIELDS: dict[str, str] = {
    "firstname": "name",
    "lastname": "name",
    "first_name": "name",
    "last_name": "name",
    "givenname": "name",
    "familyname": "name",
    "fullname": "name",
    "interpretername": "name",
    "email": "email",
    "emailaddress": "email",
    "doctoremail": "email",
    "guestemailaddress": "email",
    "hcwemail": "email",
    "useremail": "email",
    "phonenumber": "phone",
    "authphonenumber": "phone",
    "notifphonenumber": "phone",
    "guestphonenumber": "phone",
    "phone": "phone",
    "mobile": "phone",
    "telephone": "phone",
    "birthdate": "birthdate",
    "dateofbirth": "birthdate",
    "dob": "birthdate",
    "note": "note",
    "notes": "note",
    "patientcomment": "note",
    "doctorcomment": "note",
    "comment": "note",
    "password": "password",
    "currentpassword": "password",
    "newpassword": "password",
    "secret": "credential",
    "clientsecret": "credential",
    "sharedsecret": "credential",
    "apikey": "credential",
    "api_key": "credential",
    "smsverificationcode": "credential",
    "token": "token",
    "tk": "token",
    "access_token": "token",
    "accesstoken": "token",
    "refreshtoken": "token",
    "refresh_token": "token",
    "invitetoken": "token",
    "invitationtoken": "token",
    "experttoken": "token",
    "localLogintoken".lower(): "token",
    "resetpasswordtoken": "token",
    "hash": "token",
    "transferhash": "token",
    "id_token": "token",
    "idtoken": "token",
}

# Header names whose whole value is a credential (lower-cased).
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-access-token",
        "leah-auth-token",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    }
)
# Header names whose value is a URL.
URL_HEADERS = frozenset({"location", "content-location", "referer", "origin"})

PLACEHOLDER_DOMAIN = "redacted.example"
# base64url("REDACTED-signature-not-valid"): a fixed, recognisable signature segment
JWT_PLACEHOLDER_SIGNATURE = "UkVEQUNURUQtc2lnbmF0dXJlLW5vdC12YWxpZA"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


# --- the decoded view -------------------------------------------------------------------

_ESCAPE = re.compile(
    r"%(?P<pct>[0-9A-Fa-f]{2})"
    r"|\\u(?P<uni>[0-9A-Fa-f]{4})"
    r"|\\x(?P<hx>[0-9A-Fa-f]{2})"
    r"|\\(?P<simple>[\"\\/])"
    r"|&#(?:x(?P<entx>[0-9A-Fa-f]{1,6})|(?P<entd>[0-9]{1,7}));"
)


@dataclass(frozen=True, slots=True)
class View:
    """A decoded string and, per decoded character, the raw span it came from."""

    text: str
    spans: tuple[tuple[int, int], ...]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        return self.spans[start][0], self.spans[end - 1][1]


def decoded_view(raw: str) -> View:
    """Decode %XX, \\uXXXX, \\xXX, \\" and &#NN; escapes, remembering raw spans."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _ESCAPE.finditer(raw):
        for i in range(pos, m.start()):
            out.append(raw[i])
            spans.append((i, i + 1))
        code: int | None = None
        if m.group("pct") is not None:
            code = int(m.group("pct"), 16)
            # A percent-escape of a byte >= 0x80 is part of UTF-8; keep it raw (rare here).
            if code >= 0x80:
                code = None
        elif m.group("uni") is not None:
            code = int(m.group("uni"), 16)
        elif m.group("hx") is not None:
            code = int(m.group("hx"), 16)
        elif m.group("simple") is not None:
            code = ord(m.group("simple"))
        else:
            digits = m.group("entx") or m.group("entd")
            code = int(digits, 16 if m.group("entx") else 10)
        if code is None or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            for i in range(m.start(), m.end()):
                out.append(raw[i])
                spans.append((i, i + 1))
        else:
            out.append(chr(code))
            spans.append((m.start(), m.end()))
        pos = m.end()
    for i in range(pos, len(raw)):
        out.append(raw[i])
        spans.append((i, i + 1))
    return View("".join(out), tuple(spans))


def encode_like(raw_match: str, replacement: str) -> str:
    """Encode ``replacement`` the way ``raw_match`` was encoded (percent or JSON escapes)."""
    if re.search(r"%[0-9A-Fa-f]{2}", raw_match):
        return "".join(c if c.isalnum() or c in "-._~" else f"%{ord(c):02X}" for c in replacement)
    if re.search(r"\\u[0-9A-Fa-f]{4}", raw_match):
        return "".join(c if c.isalnum() or c in "-._~" else f"\\u{ord(c):04x}" for c in replacement)
    return replacement


# --- detectors ----------------------------------------------------------------------------

JWT_RE = re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-])"
)
PHONE_RE = re.compile(r"(?<![A-Za-z0-9+])\+[1-9](?:[ \-.()]?\d){7,14}(?![0-9])")
# Digests announced as such (our file placeholders, "sha256=...") are not tokens.
HEX_RE = re.compile(r"(?<![A-Za-z0-9_\-])(?<!sha256=)(?<!sha1=)[0-9A-Fa-f]{32,}(?![A-Za-z0-9_\-])")
BEARER_RE = re.compile(r"\b(?:Bearer|Token)\s+(?P<tok>[A-Za-z0-9._~+/\-]{8,}=*)")
BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/_\-=])")


def jwt_header(token: str) -> dict[str, object] | None:
    """The decoded JOSE header of a JWT-shaped string, or None if it is not one."""
    try:
        header = json.loads(b64url_decode(token.split(".", 1)[0]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) and ("alg" in header or "typ" in header) else None


def is_jwt(value: str) -> bool:
    return bool(JWT_RE.fullmatch(value)) and jwt_header(value) is not None


def jwt_placeholder(n: int, alg: str = "HS256") -> str:
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps({"redacted": n}, separators=(",", ":")).encode())
    sig = "" if alg.lower() == "none" else JWT_PLACEHOLDER_SIGNATURE
    return f"{head}.{body}.{sig}"


def is_jwt_placeholder(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return (
        isinstance(payload, dict)
        and set(payload) == {"redacted"}
        and parts[2] in ("", JWT_PLACEHOLDER_SIGNATURE)
    )


_PLACEHOLDER_RES = (
    re.compile(r"person-\d+@" + re.escape(PLACEHOLDER_DOMAIN)),
    re.compile(r"\+1555010\d{4}"),
    re.compile(r"Name-\d+"),
    re.compile(r"REDACTED-\d+"),
    re.compile(r"redacted-\d+"),
    re.compile(r"0{3,}[1-9]\d{0,5}"),
    re.compile(r"file-\d+(\.[A-Za-z0-9]{1,8})?"),
    re.compile(r"1900-\d\d-\d\d"),
    re.compile(r"\d\d[./]\d\d[./]1900"),
    re.compile(r"\[redacted file [^\]]*\]"),
    re.compile(r"[A-Za-z0-9+/]+={0,2}"),  # see is_placeholder: only base64 of a placeholder
)


def is_placeholder(value: str) -> bool:
    """True for values this project's redaction produced (never reported by the audit)."""
    if value == "" or is_jwt_placeholder(value):
        return True
    for rx in _PLACEHOLDER_RES[:-1]:
        if rx.fullmatch(value):
            return True
    if value.startswith(("Bearer ", "Basic ")):
        return is_placeholder(value.split(" ", 1)[1])
    if _PLACEHOLDER_RES[-1].fullmatch(value) and len(value) >= 8:
        try:
            inner = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return False
        user, _, pw = inner.partition(":")
        return is_placeholder(user) and is_placeholder(pw)
    return False


@dataclass(frozen=True, slots=True)
class Hit:
    """One value found in a string: its kind and span in the *raw* string.

    ``base64`` marks a whole base64 blob whose decoded text holds a value of ``kind``.
    """

    kind: str
    start: int
    end: int
    base64: bool = False

    def value(self, raw: str) -> str:
        return raw[self.start : self.end]


def _overlaps(hits: list[Hit], start: int, end: int) -> bool:
    return any(h.start < end and start < h.end for h in hits)


def scan_text(raw: str, *, depth: int = 0) -> list[Hit]:
    """Find JWTs, bearer tokens, e-mail addresses, phone numbers and long hex tokens in ``raw``.

    Spans refer to ``raw``. Placeholders are skipped. Base64 blobs whose decoded text holds
    a finding are reported as one hit of the inner kind covering the whole blob.
    """
    hits: list[Hit] = []
    view = decoded_view(raw)
    text = view.text

    def add(kind: str, start: int, end: int) -> None:
        a, b = view.raw_span(start, end)
        if not _overlaps(hits, a, b) and not is_placeholder(text[start:end]):
            hits.append(Hit(kind, a, b))

    for m in JWT_RE.finditer(text):
        if jwt_header(m.group()) is not None:
            add("jwt", m.start(), m.end())
    for m in BEARER_RE.finditer(text):
        add("credential", m.start("tok"), m.end("tok"))
    for m in EMAIL_RE.finditer(text):
        add("email", m.start(), m.end())
    for m in PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 8 <= len(digits) <= 15:
            add("phone", m.start(), m.end())
    for m in HEX_RE.finditer(text):
        add("token", m.start(), m.end())
    if depth < 2:
        for m in BASE64_RE.finditer(raw):
            if _overlaps(hits, m.start(), m.end()):
                continue
            for decoded in base64_views(m.group()):
                inner = scan_text(decoded, depth=depth + 1)
                if inner:
                    hits.append(Hit(inner[0].kind, m.start(), m.end(), base64=True))
                    break
    hits.sort(key=lambda h: h.start)
    return hits


def base64_views(blob: str) -> Iterator[str]:
    """Printable UTF-8 text that ``blob`` decodes to as base64 or base64url (if any)."""
    stripped = blob.rstrip("=")
    if len(stripped) % 4 == 1 or re.fullmatch(r"[0-9A-Fa-f]+", stripped):
        return
    padded = stripped + "=" * (-len(stripped) % 4)
    alphabets = []
    if "-" in padded or "_" in padded:
        alphabets.append(base64.urlsafe_b64decode)
    elif "+" in padded or "/" in padded:
        alphabets.append(base64.standard_b64decode)
    else:
        alphabets.append(base64.standard_b64decode)
    for decode in alphabets:
        try:
            data = decode(padded)
            text = data.decode("utf-8")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            continue
        if text and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text):
            yield text


def field_kind(name: str, table: Mapping[str, str]) -> str | None:
    """Kind of a JSON key / form field / query parameter known to be sensitive, else None."""
    key = name.lower()
    if key in table:
        return table[key]
    squashed = key.replace("_", "").replace("-", "")
    if squashed in table:
        return table[squashed]
    if "password" in squashed and not squashed.endswith(("required", "policy", "length")):
        return "password"
    if squashed.endswith("secret"):
        return "credential"
    if squashed.endswith(("token", "apikey")) and not squashed.endswith("tokentype"):
        return "token"
    if squashed.endswith(("email", "emailaddress")):
        return "email"
    if squashed.endswith("phonenumber"):
        return "phone"
    if squashed.endswith(("firstname", "lastname")):
        return "name"
    return None


QUERY_TOKEN_PARAMS = frozenset(
    {
        "token",
        "tk",
        "access_token",
        "refresh_token",
        "id_token",
        "invite",
        "api_key",
        "apikey",
        "key",
        "secret",
        "password",
        "code",
        "hash",
        "sig",
        "signature",
    }
)
