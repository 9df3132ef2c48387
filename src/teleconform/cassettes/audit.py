"""``teleconform cassettes audit DIR``: find credentials and personal data left in cassettes.

One line per finding on stdout: ``FILE:LOCATION<TAB>KIND<TAB>excerpt with the value masked``,
where LOCATION is the interaction index and a JSON pointer, header name, query parameter or
multipart part (``3:request.headers.Authorization``, ``5:response.body/user/token``,
``7:request.uri?token``, ``2:request.body#part1.filename``, ``4:/teleconform/error`` for an
interaction's own metadata); ``meta:/...`` points into the cassette's top-level metadata.
Exit 0 clean, 1 findings, 2 unreadable input. Placeholders written by
:mod:`teleconform.redact` are never reported. In a directory, YAML/JSON files that parse but
are not cassettes (no ``interactions``) are skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote_plus, urlsplit

from teleconform.redact import default_fields
from teleconform.redact._patterns import (
    CREDENTIAL_HEADERS,
    QUERY_TOKEN_PARAMS,
    URL_HEADERS,
    Hit,
    decoded_view,
    field_kind,
    is_jwt,
    is_placeholder,
    scan_text,
)
from teleconform.traffic.har import TrafficError, cassette_body, cassette_headers, load_cassette

__all__ = ["Finding", "audit_cassette", "audit_path", "main"]

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
_SECRET_PATH_PREFIXES = frozenset({"by-token", "by-hash", "reset-password", "verify"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One credential or personal value found; ``value`` is for tests, never printed."""

    location: str
    kind: str
    excerpt: str
    value: str

    def line(self, file: str) -> str:
        return f"{file}:{self.location}\t{self.kind}\t{self.excerpt}"


def _mask(kind: str, value: str) -> str:
    return f"[masked {kind}, {len(value)} chars]"


_LONG_RUN = re.compile(r"[A-Za-z0-9_\-.%+/=@]{12,}")


def _excerpt(text: str, hit: Hit, hits: list[Hit]) -> str:
    """Up to 24 characters either side of ``hit``, every other finding masked too."""
    pieces = []
    pos = 0
    target = 0
    for h in sorted(hits, key=lambda x: x.start):
        if h.start < pos:
            continue
        pieces.append(text[pos : h.start])
        if h == hit:
            target = sum(len(p) for p in pieces)
            pieces.append("\0")
        else:
            pieces.append("[masked]")
        pos = h.end
    pieces.append(text[pos:])
    masked = "".join(pieces)
    left = masked[max(0, target - 24) : target]
    right = masked[target + 1 : target + 25]
    # Cut-off ends of long values at the window's edges must not leak either.
    left = _LONG_RUN.sub("…", left)
    right = _LONG_RUN.sub("…", right)
    return _one_line(left + _mask(hit.kind, hit.value(text)) + right)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")


class _Auditor:
    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = fields
        self.findings: list[Finding] = []

    def add(self, location: str, kind: str, excerpt: str, value: str) -> None:
        self.findings.append(Finding(location, kind, excerpt, value))

    # -- strings --------------------------------------------------------------------------
    def text(self, location: str, text: str) -> None:
        if is_placeholder(text):
            return
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            try:
                parsed = json.loads(stripped)
            except ValueError:
                pass
            else:
                if isinstance(parsed, (dict, list)):
                    self.json(location, parsed, "")
                    return
        hits = scan_text(text)
        for hit in hits:
            self.add(location, hit.kind, _excerpt(text, hit, hits), hit.value(text))

    def keyed(self, location: str, prefix: str, kind: str, value: str) -> None:
        """A value in a field known to be sensitive: reported unless empty or a placeholder."""
        if kind in ("token", "credential") and re.match(r"(?:https?://|/)", value):
            self.url(location, value)
            return
        if value and not is_placeholder(value) and not is_placeholder(decoded_view(value).text):
            real_kind = "jwt" if is_jwt(value) else kind
            self.add(location, real_kind, f"{prefix}{_mask(real_kind, value)}", value)

    def json(self, location: str, node: Any, pointer: str, kind: str | None = None) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                sub = f"{pointer}/{_escape_pointer(str(key))}"
                self.json(location, value, sub, field_kind(str(key), self.fields))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                self.json(location, value, f"{pointer}/{i}", kind)
        elif isinstance(node, str):
            key = pointer.rsplit("/", 1)[-1] or "value"
            if kind is not None:
                self.keyed(location + pointer, f'"{key}": ', kind, node)
            else:
                self.text(location + pointer, node)

    # -- URLs and headers -----------------------------------------------------------------
    def url(self, location: str, url: str) -> None:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            userinfo = parts.netloc.rpartition("@")[0]
            user, _, password = userinfo.partition(":")
            if password:
                self.keyed(location + "#userinfo", "password", "credential", password)
            self.text(location + "#userinfo", user)
        segments = parts.path.split("/")
        for i, seg in enumerate(segments):
            if i > 0 and segments[i - 1].lower() in _SECRET_PATH_PREFIXES and seg:
                self.keyed(
                    location + "/" + "/".join(segments[1 : i + 1]),
                    f"/{segments[i - 1]}/",
                    "token",
                    unquote_plus(seg),
                )
            else:
                self.text(location, seg)
        for query, mark in ((parts.query, "?"), (parts.fragment, "#")):
            if not query:
                continue
            if "=" not in query:
                self.text(location + mark, query)
                continue
            for pair in query.split("&"):
                name_raw, _, value_raw = pair.partition("=")
                name, value = unquote_plus(name_raw), unquote_plus(value_raw)
                kind = field_kind(name, self.fields)
                if kind is None and name.lower() in QUERY_TOKEN_PARAMS:
                    kind = "token"
                if kind is not None:
                    self.keyed(f"{location}{mark}{name}", f"{name}=", kind, value)
                else:
                    self.text(f"{location}{mark}{name}", value)

    def header(self, location: str, name: str, value: str) -> None:
        lname = name.lower()
        where = f"{location}.{name}"
        if lname in CREDENTIAL_HEADERS:
            if lname in ("cookie", "set-cookie"):
                pairs = value.split(";") if lname == "cookie" else [value.split(";", 1)[0]]
                for pair in pairs:
                    cname, eq, cvalue = pair.strip().partition("=")
                    if eq:
                        self.keyed(where, f"{name}: {cname}=", "credential", cvalue.strip())
                    elif cname:
                        self.keyed(where, f"{name}: ", "credential", cname)
                if lname == "set-cookie" and ";" in value:
                    self.text(where, value.split(";", 1)[1])
                return
            scheme, space, cred = value.strip().partition(" ")
            if space and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", scheme):
                self.keyed(where, f"{name}: {scheme} ", "credential", cred.strip())
            else:
                self.keyed(where, f"{name}: ", "credential", value.strip())
            return
        if lname in URL_HEADERS:
            self.url(where, value)
            return
        if lname == "content-disposition":
            self.disposition(where, value)
            return
        self.text(where, value)

    def disposition(self, location: str, value: str) -> None:
        for m in re.finditer(r'filename\*?=("[^"]*"|[^;\s]+)', value, re.I):
            name = m.group(1).strip('"')
            if name.lower().startswith("utf-8''"):
                name = unquote_plus(name[7:])
            self.keyed(location + ".filename", "filename=", "file", name)

    # -- bodies ---------------------------------------------------------------------------
    def body(self, location: str, raw: bytes | None, content_type: str | None) -> None:
        if not raw:
            return
        ctype = (content_type or "").lower()
        media = ctype.split(";", 1)[0].strip()
        if media.startswith("multipart/"):
            boundary = re.search(r'boundary="?([^";]+)"?', content_type or "", re.I)
            if boundary:
                self.multipart(location, raw, boundary.group(1).encode("latin-1"))
                return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.add(location, "file", f"binary body {_mask('file', 'x' * len(raw))}", "")
            return
        if media == "application/x-www-form-urlencoded":
            self.url(location, "?" + text)
            return
        self.text(location, text)

    def multipart(self, location: str, raw: bytes, boundary: bytes) -> None:
        for n, chunk in enumerate(raw.split(b"--" + boundary)[1:], start=1):
            if chunk.startswith(b"--"):
                continue
            sep = b"\r\n\r\n" if b"\r\n\r\n" in chunk else b"\n\n"
            head, _, content = chunk.partition(sep)
            content = content.removesuffix(b"\r\n").removesuffix(b"\n")
            head_text = head.decode("utf-8", "replace")
            where = f"{location}#part{n}"
            disposition = re.search(r"content-disposition:([^\r\n]*)", head_text, re.I)
            disp = disposition.group(1) if disposition else ""
            field = re.search(r'\bname="?([^";\r\n]+)"?', disp)
            if re.search(r"filename\*?=", disp, re.I):
                self.disposition(where, disp)
                text = content.decode("utf-8", "replace")
                if not is_placeholder(text):
                    self.add(
                        where + ".content", "file", f"file content {_mask('file', text)}", text
                    )
                continue
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                self.add(where, "file", f"binary part {_mask('file', 'x' * len(content))}", "")
                continue
            kind = field_kind(field.group(1), self.fields) if field else None
            if kind is not None and field is not None:
                self.keyed(f"{where}.{field.group(1)}", f"{field.group(1)}=", kind, text)
            else:
                self.text(where, text)


def _escape_pointer(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _content_type(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return None


def audit_cassette(
    doc: Mapping[str, Any], fields: Mapping[str, str] | None = None
) -> list[Finding]:
    """Findings in one cassette document (vcrpy format)."""
    auditor = _Auditor(fields if fields is not None else default_fields())
    interactions = doc.get("interactions")
    if not isinstance(interactions, list):
        return []
    # Our own metadata (credentials placeholders, notes, per-interaction errors) is audited too.
    for key, value in doc.items():
        if key not in ("interactions", "version"):
            auditor.json("meta:", value, f"/{_escape_pointer(str(key))}")
    for i, inter in enumerate(interactions):
        if not isinstance(inter, Mapping):
            continue
        for key, value in inter.items():
            if key not in ("request", "response"):
                auditor.json(f"{i}:", value, f"/{_escape_pointer(str(key))}")
        for side in ("request", "response"):
            part = inter.get(side)
            if not isinstance(part, Mapping):
                continue
            base = f"{i}:{side}"
            if side == "request":
                auditor.url(f"{base}.uri", str(part.get("uri") or part.get("url") or ""))
            headers = cassette_headers(part.get("headers"))
            for name, value in headers:
                auditor.header(f"{base}.headers", name, value)
            auditor.body(f"{base}.body", cassette_body(part.get("body")), _content_type(headers))
    return auditor.findings


# Other services' credentials, by their documented prefixes: what a second-opinion scanner
# (detect-secrets) found in a spike that our detectors, made for these two APIs, did not.
_VENDOR_TOKENS = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"  # GitHub tokens
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|(?:sk|rk)_live_[A-Za-z0-9]{16,}"  # Stripe secret/restricted keys
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API key
    r"|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"  # PEM private keys
    r")"
)


def _vendor_hits(line: str) -> list[Hit]:
    return [Hit("credential", m.start(), m.end()) for m in _VENDOR_TOKENS.finditer(line)]


def _scalars(node: Any) -> Iterator[str]:
    """Every string value of a parsed document (mapping keys excluded)."""
    if isinstance(node, Mapping):
        for value in node.values():
            yield from _scalars(value)
    elif isinstance(node, list):
        for value in node:
            yield from _scalars(value)
    elif isinstance(node, str):
        yield node


def audit_raw_text(text: str, doc: Any = None, known: Iterable[Finding] = ()) -> list[Finding]:
    """Findings in the file's text itself, line by line: comments, keys, anything outside a
    value that parsing drops. A hit inside a parsed string value of ``doc`` was judged in
    its context by the parsed pass (which knows, e.g., that ``+`` in a query is a space), and
    values that pass found (``known``) are not reported twice. LOCATION is ``line N``."""
    seen = [f.value for f in known if f.value]
    values = "\n".join(_scalars(doc))
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        if is_placeholder(line.strip()):
            continue
        vendor = _vendor_hits(line)
        hits = sorted([*scan_text(line), *vendor], key=lambda h: h.start)
        for hit in hits:
            value = hit.value(line)
            if hit not in vendor and (
                value in values or any(value in old or old in value for old in seen)
            ):
                continue
            findings.append(Finding(f"line {number}", hit.kind, _excerpt(line, hit, hits), value))
    return findings


def _cassette_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in CASSETTE_SUFFIXES:
            yield path


def audit_path(root: Path) -> list[tuple[Path, list[Finding]]]:
    """Audit every cassette under ``root`` (a directory or one file)."""
    if not root.exists():
        raise TrafficError(f"{root}: no such file or directory")
    results = []
    for path in _cassette_files(root):
        try:
            doc = load_cassette(path)
        except TrafficError as exc:
            if root.is_dir() and ("not a cassette" in str(exc) or "empty file" in str(exc)):
                continue
            raise
        findings = audit_cassette(doc)
        # a leak is a leak wherever it sits: the raw text too (YAML comments, keys, ...)
        findings += audit_raw_text(path.read_text(encoding="utf-8"), doc, findings)
        results.append((path, findings))
    return results


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise TrafficError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``teleconform cassettes audit``."""
    p = _Parser(
        prog="teleconform cassettes audit",
        description="Find credentials and personal data left in cassettes, in parsed values "
        "(plain, URL-encoded, base64, JSON-escaped; headers, URLs, bodies, multipart parts) "
        "and in the raw text of every file. One line per finding: FILE:LOCATION, KIND, an "
        "excerpt with the value masked, tab-separated.",
        epilog="exit status: 0 clean, 1 findings, 2 unreadable input",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="DIR",
        help="a cassette directory (searched recursively for *.yaml, *.yml, *.json) or a file",
    )
    return p


def main(argv: list[str]) -> int:
    """Entry point of ``teleconform cassettes audit DIR...`` (argv: the arguments after audit)."""
    found = 0
    files = 0
    try:
        paths = build_parser().parse_args(argv).paths
        for arg in paths:
            root = Path(arg)
            for path, findings in audit_path(root):
                files += 1
                for finding in findings:
                    print(finding.line(str(path)))
                    found += 1
    except TrafficError as exc:
        text = str(exc)
        print(text if text.startswith("teleconform") else f"teleconform: {text}", file=sys.stderr)
        return 2
    print(f"audited {files} cassette(s): {found} finding(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
