"""Irreversible, format-preserving redaction of recorded HTTP exchanges.

Every credential and personal value is replaced by a placeholder of the same shape
(an e-mail by ``person-N@redacted.example``, a JWT by a well-formed JWT whose payload is
``{"redacted": N}``, a phone number by ``+1555010NNNN``, a date by a date, a hex token by
zeros of the same length, ...). Placeholders are numbered per family in order of first
appearance within one :class:`Redactor`, and the same value always gets the same
placeholder, so ids and tokens still link requests to responses. Nothing is kept that
would allow the original values to be restored (unlike vcrpy's ``filter_sensitive_data``).

Values are found by name (JSON keys, form fields, query parameters and headers known to be
sensitive, from a built-in table and the specs' ``x-sensitive: <kind>`` marks) and by pattern
(JWTs, bearer tokens, e-mail addresses, phone numbers, long hex tokens) in every string, in
plain, percent-encoded, JSON-escaped and base64 forms.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import quote_plus, unquote_plus, urlsplit, urlunsplit

import yaml

from teleconform.redact._patterns import (
    CREDENTIAL_HEADERS,
    DEFAULT_FIELDS,
    HEX_RE,
    KINDS,
    PLACEHOLDER_DOMAIN,
    QUERY_TOKEN_PARAMS,
    URL_HEADERS,
    base64_views,
    decoded_view,
    encode_like,
    field_kind,
    is_jwt,
    is_placeholder,
    jwt_header,
    jwt_placeholder,
    scan_text,
)

__all__ = ["Redactor", "sensitive_fields_from_spec", "default_fields"]

# Path segments that are followed by a secret (e.g. /invite/by-token/<inviteToken>).
_SECRET_PATH_PREFIXES = frozenset({"by-token", "by-hash", "reset-password", "verify"})
_T = TypeVar("_T", str, bytes)


def sensitive_fields_from_spec(spec: Mapping[str, Any]) -> dict[str, str]:
    """Field name (lower-cased) -> kind, from the ``x-sensitive: <kind>`` marks of a spec.

    Marks are read on schema properties and on parameters/headers (by their ``name``).
    """
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            props = node.get("properties")
            if isinstance(props, Mapping):
                for name, sub in props.items():
                    if isinstance(sub, Mapping) and isinstance(sub.get("x-sensitive"), str):
                        found[str(name).lower()] = _kind(sub["x-sensitive"])
            if isinstance(node.get("name"), str) and isinstance(node.get("x-sensitive"), str):
                found[node["name"].lower()] = _kind(node["x-sensitive"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found


def _kind(mark: str) -> str:
    mark = mark.strip().lower()
    return mark if mark in KINDS else "credential"


@cache
def _spec_fields() -> dict[str, str]:
    """Marks of the shipped specs (empty when they are absent or unreadable)."""
    from teleconform.specs import SPEC_FILES, SpecDocumentError, load_document, spec_file

    fields: dict[str, str] = {}
    try:
        for api in SPEC_FILES:
            path = spec_file(api)
            if path.is_file():
                try:
                    fields.update(sensitive_fields_from_spec(load_document(path)))
                except SpecDocumentError:  # not a mapping: no marks
                    continue
    except (OSError, yaml.YAMLError):
        return {}
    return fields


def default_fields(*, specs: bool = True) -> dict[str, str]:
    """The built-in table of sensitive field names, plus the shipped specs' marks."""
    table = dict(DEFAULT_FIELDS)
    if specs:
        table.update(_spec_fields())
    return table


class Redactor:
    """Redacts the exchanges of one cassette; holds the placeholder numbering."""

    def __init__(self, fields: Mapping[str, str] | None = None, *, use_specs: bool = True) -> None:
        self.fields = default_fields(specs=use_specs)
        if fields:
            self.fields.update({k.lower(): v for k, v in fields.items()})
        self._assigned: dict[tuple[str, str], str] = {}
        self._counters: dict[str, int] = {}
        # Secrets learned by field name, also replaced when they turn up in free text later.
        self._learned: dict[str, str] = {}
        # Keys the digests of redacted files: equal files get equal digests within this
        # Redactor (one recording), but the key is never stored, so a short file's content
        # cannot be confirmed by hashing candidates.
        self._file_key = secrets.token_bytes(32)

    # ---- placeholders -------------------------------------------------------------------

    def _next(self, family: str) -> int:
        self._counters[family] = self._counters.get(family, 0) + 1
        return self._counters[family]

    def _assign(self, family: str, value: str, make: Any) -> str:
        key = (family, value)
        if key not in self._assigned:
            self._assigned[key] = make(self._next(family))
        return self._assigned[key]

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder standing for ``value`` of ``kind`` (stable within this Redactor)."""
        if value == "" or is_placeholder(value):
            return value
        if kind in ("token", "credential") and re.match(r"(?:https?://|/)", value):
            return self.redact_url(value)  # e.g. an invite URL: keep a URL, redact its token
        if is_jwt(value):
            header = jwt_header(value) or {}
            alg = header.get("alg") if isinstance(header.get("alg"), str) else "HS256"
            return self._assign("jwt", value, lambda n: jwt_placeholder(n, str(alg)))
        if kind == "email":
            if re.fullmatch(r"[^@\s]+@[^@\s]+", value):
                return self._assign("email", value, lambda n: f"person-{n}@{PLACEHOLDER_DOMAIN}")
            return self._assign("text", value, lambda n: f"redacted-{n}")
        if kind == "phone":
            if len(re.sub(r"\D", "", value)) >= 7:
                return self._assign("phone", value, lambda n: f"+1555010{n % 10000:04d}")
            return self._assign("text", value, lambda n: f"redacted-{n}")
        if kind == "name":
            return self._assign("name", value, lambda n: f"Name-{n}")
        if kind == "birthdate":
            return self._date(value)
        if kind == "note":
            return self._assign("text", value, lambda n: f"redacted-{n}")
        if kind == "file":
            ext = re.search(r"\.[A-Za-z0-9]{1,8}$", value)
            return self._assign("file", value, lambda n: f"file-{n}{ext.group() if ext else ''}")
        if re.fullmatch(r"[0-9A-Fa-f]{8,}", value) and kind in ("token", "credential", "jwt"):
            return self._assign("hex", value, lambda n: str(n).rjust(len(value), "0"))
        return self._assign("secret", value, lambda n: f"REDACTED-{n}")

    def _date(self, value: str) -> str:
        iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(.*)", value)
        if iso:

            def iso_make(n: int) -> str:
                day = _dt.date(1900, 1, 1) + _dt.timedelta(days=(n - 1) % 365)
                return day.isoformat() + re.sub(r"\d", "0", iso.group(4))

            return self._assign("date", value, iso_make)
        dmy = re.fullmatch(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})", value)
        if dmy:
            sep = dmy.group(2)

            def dmy_make(n: int) -> str:
                return f"{(n - 1) % 12 + 1:02d}{sep}{(n - 1) // 12 % 12 + 1:02d}{sep}1900"

            return self._assign("date", value, dmy_make)
        return self._assign("text", value, lambda n: f"redacted-{n}")

    def _learn(self, kind: str, value: str) -> None:
        # JWTs and hex tokens are found by pattern anyway; short values would hit innocent text.
        if (
            kind in ("password", "credential", "token")
            and len(value) >= 8
            and not is_jwt(value)
            and not re.fullmatch(r"[0-9A-Fa-f]+", value)
        ):
            self._learned[value] = self.placeholder(kind, value)

    # ---- strings ------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """Replace every credential and personal value found by pattern in free text."""
        if not text:
            return text
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            try:
                parsed = json.loads(stripped)
            except ValueError:
                pass
            else:
                if isinstance(parsed, (dict, list)):
                    return _dumps_like(self._redact_json(parsed), stripped)
        for secret, ph in self._learned.items():
            if secret in text:
                pattern = r"(?<![A-Za-z0-9])" + re.escape(secret) + r"(?![A-Za-z0-9])"
                text = re.sub(pattern, ph.replace("\\", "\\\\"), text)
        hits = scan_text(text)
        for hit in reversed(hits):
            raw = hit.value(text)
            text = (
                text[: hit.start] + self._replace_hit(hit.kind, raw, hit.base64) + text[hit.end :]
            )
        return text

    def _replace_hit(self, kind: str, raw: str, is_b64: bool) -> str:
        if is_b64:
            for decoded in base64_views(raw):
                redacted = self.redact_text(decoded).encode("utf-8")
                url = "-" in raw or "_" in raw
                enc = base64.urlsafe_b64encode(redacted) if url else base64.b64encode(redacted)
                out = enc.decode("ascii")
                return out if raw.endswith("=") else out.rstrip("=")
            return self.placeholder("credential", raw)
        value = decoded_view(raw).text
        return encode_like(raw, self.placeholder(kind, value))

    def _redact_json(self, node: Any, kind: str | None = None) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                out[key] = self._redact_json(value, field_kind(str(key), self.fields))
            return out
        if isinstance(node, list):
            return [self._redact_json(v, kind) for v in node]
        if isinstance(node, str):
            if kind is not None and node != "":
                self._learn(kind, node)
                return self.placeholder(kind, node)
            return self.redact_text(node)
        if (
            kind in ("phone", "password", "credential")
            and isinstance(node, int)
            and not isinstance(node, bool)
        ):
            return node  # numbers in such fields are counters/flags in the APIs we know
        return node

    # ---- URLs and headers ---------------------------------------------------------------

    def redact_url(self, url: str) -> str:
        """Redact secrets and personal data in a URL's path, query, fragment and userinfo."""
        if not url:
            return url
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user, sep, pw = userinfo.partition(":")
            user = self.redact_text(user)
            netloc = f"{user}{sep}{self.placeholder('credential', pw) if pw else ''}@{host}"
        segments = parts.path.split("/")
        new_segments: list[str] = []
        for i, seg in enumerate(segments):
            if i > 0 and segments[i - 1].lower() in _SECRET_PATH_PREFIXES and seg:
                value = decoded_view(seg).text
                new_segments.append(encode_like(seg, self.placeholder("token", value)))
            else:
                new_segments.append(self.redact_text(seg))
        query = self._redact_query(parts.query)
        if "=" in parts.fragment:
            fragment = self._redact_query(parts.fragment)
        else:
            fragment = self.redact_text(parts.fragment)
        return urlunsplit((parts.scheme, netloc, "/".join(new_segments), query, fragment))

    def _redact_query(self, query: str) -> str:
        if not query:
            return query
        pairs = []
        for pair in query.split("&"):
            name_raw, eq, value_raw = pair.partition("=")
            name = unquote_plus(name_raw)
            value = unquote_plus(value_raw)
            kind = field_kind(name, self.fields)
            if kind is None and name.lower() in QUERY_TOKEN_PARAMS:
                kind = "token"
            if kind is not None and value:
                self._learn(kind, value)
                new_value = self.placeholder(kind, value)
            else:
                new_value = self.redact_text(value)
            pairs.append(
                name_raw + eq + (value_raw if new_value == value else quote_plus(new_value))
            )
        return "&".join(pairs)

    def redact_header_value(self, name: str, value: str) -> str:
        """Redact one header value according to its name (and patterns)."""
        lname = name.lower()
        if lname in CREDENTIAL_HEADERS:
            if lname == "cookie":
                return "; ".join(self._redact_cookie_pair(p) for p in value.split(";"))
            if lname == "set-cookie":
                first, sep, attrs = value.partition(";")
                return self._redact_cookie_pair(first) + sep + self.redact_text(attrs)
            scheme, space, cred = value.strip().partition(" ")
            if space and scheme.lower() == "basic":
                return f"{scheme} " + self._basic_placeholder(cred.strip())
            if space and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", scheme):
                return f"{scheme} " + self.placeholder("credential", cred.strip())
            return self.placeholder("credential", value.strip())
        if lname in URL_HEADERS:
            return self.redact_url(value)
        if lname == "content-disposition":
            return self._redact_disposition(value)
        return self.redact_text(value)

    def _redact_cookie_pair(self, pair: str) -> str:
        name, eq, value = pair.partition("=")
        if not eq:
            return pair if not pair.strip() else self.placeholder("credential", pair.strip())
        value = value.strip()
        return f"{name}={self.placeholder('credential', value) if value else ''}"

    def _basic_placeholder(self, cred: str) -> str:
        if is_placeholder(cred):
            return cred
        return self._assign(
            "basic",
            cred,
            lambda n: base64.b64encode(f"REDACTED-{n}:REDACTED-{n}".encode()).decode("ascii"),
        )

    def _redact_disposition(self, value: str) -> str:
        def repl(m: re.Match[str]) -> str:
            raw = m.group("v")
            name = decoded_view(raw.strip('"')).text
            if name.lower().startswith("utf-8''"):
                name = unquote_plus(name[7:])
            ph = self.placeholder("file", name)
            if raw.startswith('"'):
                ph = '"' + ph + '"'
            return m.group("k") + ph

        return re.sub(r'(?P<k>filename\*?=)(?P<v>"[^"]*"|[^;\s]+)', repl, value, flags=re.I)

    def redact_headers(self, headers: Any) -> Any:
        """Redact a header list of (name, value) pairs, or a mapping name -> value | [values].

        The result has the shape of the input.
        """
        if isinstance(headers, Mapping):
            out: dict[str, Any] = {}
            for name, value in headers.items():
                if isinstance(value, list):
                    out[name] = [self.redact_header_value(str(name), str(v)) for v in value]
                else:
                    out[name] = self.redact_header_value(str(name), str(value))
            return out
        return [(name, self.redact_header_value(name, value)) for name, value in headers]

    # ---- bodies ---------------------------------------------------------------------------

    def redact_body(self, body: _T | None, content_type: str | None) -> _T | None:
        """Redact a request or response body; returns the same type (str or bytes)."""
        if body is None or len(body) == 0:
            return body
        ctype = (content_type or "").lower()
        media = ctype.split(";", 1)[0].strip()
        as_bytes = isinstance(body, bytes)
        raw: bytes = body if isinstance(body, bytes) else body.encode("utf-8")
        if media.startswith("multipart/"):
            boundary = re.search(r'boundary="?([^";]+)"?', content_type or "", re.I)
            if boundary:
                result = self._redact_multipart(raw, boundary.group(1).encode("latin-1"))
                return cast(_T, _as(result, as_bytes))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return cast(_T, _as(self._file_placeholder(raw).encode("utf-8"), as_bytes))
        if media == "application/x-www-form-urlencoded":
            return cast(_T, _as(self._redact_form(text).encode("utf-8"), as_bytes))
        if _is_binary_media(media) and media:
            return cast(_T, _as(self._file_placeholder(raw).encode("utf-8"), as_bytes))
        return cast(_T, _as(self.redact_text(text).encode("utf-8"), as_bytes))

    def _redact_form(self, text: str) -> str:
        return self._redact_query(text)

    def _file_placeholder(self, data: bytes) -> str:
        # Size and a keyed digest only: no plain hash and no leading bytes, which for a short
        # file (a password sent as a file, a 4-byte secret) would be the content itself.
        digest = hmac.new(self._file_key, data, hashlib.sha256).hexdigest()
        return f"[redacted file {len(data)} bytes hmac-sha256={digest}]"

    def _redact_multipart(self, raw: bytes, boundary: bytes) -> bytes:
        delimiter = b"--" + boundary
        chunks = raw.split(delimiter)
        out = [chunks[0]]
        for chunk in chunks[1:]:
            if chunk.startswith(b"--") or b"\r\n\r\n" not in chunk and b"\n\n" not in chunk:
                out.append(chunk)
                continue
            sep = b"\r\n\r\n" if b"\r\n\r\n" in chunk else b"\n\n"
            head, _, content = chunk.partition(sep)
            trail = b""
            for ending in (b"\r\n", b"\n"):
                if content.endswith(ending):
                    content, trail = content[: -len(ending)], ending
                    break
            head_text = head.decode("utf-8", "replace")
            disposition = re.search(r"content-disposition:[^\r\n]*", head_text, re.I)
            disp = disposition.group() if disposition else ""
            field = re.search(r'\bname="?([^";\r\n]+)"?', disp)
            is_file = bool(disposition and re.search(r"filename\*?=", disposition.group(), re.I))
            new_head_lines = []
            for line in head_text.split("\n"):
                name, colon, value = line.partition(":")
                if colon and name.strip().lower() == "content-disposition":
                    line = f"{name}:{self._redact_disposition(value)}"
                new_head_lines.append(line)
            new_head = "\n".join(new_head_lines).encode("utf-8")
            if is_file:
                new_content = self._file_placeholder(content).encode("utf-8")
            else:
                kind = field_kind(field.group(1), self.fields) if field else None
                try:
                    text = content.decode("utf-8")
                except UnicodeDecodeError:
                    new_content = self._file_placeholder(content).encode("utf-8")
                else:
                    if kind is not None and text:
                        self._learn(kind, text)
                        new_content = self.placeholder(kind, text).encode("utf-8")
                    else:
                        new_content = self.redact_text(text).encode("utf-8")
            out.append(new_head + sep + new_content + trail)
        return delimiter.join(out)

    # ---- whole exchanges ------------------------------------------------------------------

    def redact_exchange(self, exchange: Mapping[str, Any]) -> dict[str, Any]:
        """Redact ``{"request": {method, url|uri, headers, body}, "response": {status, headers,
        body}}``. Bodies may be str, bytes, None or vcrpy's ``{"string": ...}``; headers a list
        of pairs or a mapping. Content-Length headers are updated to the redacted bodies."""
        result: dict[str, Any] = copy.deepcopy(dict(exchange))
        for side in ("request", "response"):
            part = result.get(side)
            if not isinstance(part, dict):
                continue
            for url_key in ("url", "uri"):
                if isinstance(part.get(url_key), str):
                    part[url_key] = self.redact_url(part[url_key])
            headers = part.get("headers")
            ctype = _header(headers, "content-type")
            if "body" in part:
                body = part["body"]
                if isinstance(body, dict) and "string" in body:
                    body["string"] = self.redact_body(body["string"], ctype)
                    new_len = _length(body["string"])
                elif isinstance(body, (str, bytes)):
                    part["body"] = self.redact_body(body, ctype)
                    new_len = _length(part["body"])
                else:
                    new_len = None
            else:
                new_len = None
            if headers is not None:
                redacted = self.redact_headers(headers)
                if new_len is not None and _header(headers, "content-encoding") is None:
                    redacted = _set_length(redacted, new_len)
                part["headers"] = redacted
        return result


def _as(data: bytes, as_bytes: bool) -> str | bytes:
    return data if as_bytes else data.decode("utf-8")


def _is_binary_media(media: str) -> bool:
    textual = (
        "text/",
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
        "application/ld+json",
        "application/problem+json",
        "application/hal+json",
        "application/merge-patch+json",
    )
    if media.startswith(textual) or media.endswith(("+json", "+xml")):
        return False
    return media.startswith(("image/", "audio/", "video/", "application/"))


def _dumps_like(obj: Any, original: str) -> str:
    compact = '": ' not in original and '", "' not in original
    if compact:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(obj, ensure_ascii=False)


def _length(body: Any) -> int | None:
    if isinstance(body, bytes):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    return None


def _header(headers: Any, name: str) -> str | None:
    if isinstance(headers, Mapping):
        items: Iterable[tuple[Any, Any]] = headers.items()
    elif isinstance(headers, list):
        items = headers
    else:
        return None
    for key, value in items:
        if str(key).lower() == name:
            if isinstance(value, list):
                return str(value[0]) if value else None
            return str(value)
    return None


def _set_length(headers: Any, length: int) -> Any:
    if isinstance(headers, dict):
        for key in list(headers):
            if str(key).lower() == "content-length":
                headers[key] = [str(length)] if isinstance(headers[key], list) else str(length)
        return headers
    return [(k, str(length) if k.lower() == "content-length" else v) for k, v in headers]


# Keep the module's public surface obvious to type checkers.
HEX_TOKEN_RE = HEX_RE
