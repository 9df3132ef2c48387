"""``teleconform check-traffic FILE...``: validate recorded exchanges against the specs.

Reads HAR 1.2 files and teleconform (vcrpy) cassettes. Each exchange is matched to an
operation of the HCW@Home or Leah spec by method and host-independent path template;
exchanges matching no operation are counted and listed (on stderr) as unmatched. For a
matched exchange the status must be documented (``4XX``-style ranges and ``default`` count),
the content type must be one the status documents, and a JSON body must validate against
its schema (OpenAPI 3.1 = JSON Schema 2020-12, ``$ref`` resolved within the spec).

stdout: one line per violation, ``FILE:ENTRY<TAB>METHOD PATH<TAB>STATUS<TAB>CLAUSE<TAB>what``
(ENTRY is the 0-based entry/interaction index, PATH the matched path template). Nothing of a
request or response value is printed: unmatched paths are redacted, schema errors name the
location and the rule, never the value. Exit 0 all conform, 1 violations, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.exceptions import best_match as _best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from teleconform.redact import Redactor
from teleconform.traffic.har import RecordedExchange, TrafficError, load_exchanges

__all__ = ["Spec", "Violation", "check_exchange", "load_spec", "main", "default_specs"]

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DEFAULT_CLAUSE = {"hcw": "HCW-GEN-04", "leah": "LEAH-GEN-01"}


@dataclass(slots=True)
class Operation:
    api: str
    method: str
    template: str
    regex: re.Pattern[str]
    literal_segments: int
    node: Mapping[str, Any]
    pointer: str  # JSON pointer of the operation within the spec

    @property
    def clauses(self) -> list[str]:
        value = self.node.get("x-clauses")
        return [str(c) for c in value] if isinstance(value, list) else []


@dataclass(slots=True)
class Spec:
    """One loaded OpenAPI document: its operations and a schema registry."""

    api: str
    path: Path
    doc: Mapping[str, Any]
    uri: str
    registry: Registry[Any]
    base_paths: list[str]
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Violation:
    status: int
    clause: str
    what: str


def _api_of(path: Path, doc: Mapping[str, Any]) -> str:
    info = doc.get("info")
    title = str(info.get("title", "")) if isinstance(info, Mapping) else ""
    return "leah" if "leah" in (path.name + title).lower() else "hcw"


def load_spec(path: Path, api: str | None = None) -> Spec:
    """Load an OpenAPI 3.1 YAML/JSON document; raises TrafficError when unreadable."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrafficError(f"{path}: cannot read the spec ({exc.__class__.__name__})") from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("paths"), Mapping):
        raise TrafficError(f"{path}: not an OpenAPI document (no paths)")
    api = api or _api_of(path, doc)
    uri = f"urn:teleconform:spec:{api}:{path.name}"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(dict(doc), default_specification=DRAFT202012)
    )
    base_paths = []
    for server in doc.get("servers") or []:
        if isinstance(server, Mapping) and isinstance(server.get("url"), str):
            base = urlsplit(server["url"]).path.rstrip("/")
            if base and "{" not in base:
                base_paths.append(base)
    spec = Spec(api, path, doc, uri, registry, base_paths)
    for template, item in doc["paths"].items():
        if not isinstance(item, Mapping):
            continue
        regex, literals = _template_regex(str(template))
        for method in _HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                pointer = f"/paths/{_escape(str(template))}/{method}"
                spec.operations.append(
                    Operation(api, method.upper(), str(template), regex, literals, op, pointer)
                )
    return spec


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    parts = []
    literals = 0
    for seg in template.strip("/").split("/"):
        if re.fullmatch(r"\{[^}]+\}", seg):
            parts.append("[^/]+")
        else:
            literals += 1
            parts.append(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(seg)))
    return re.compile("/" + "/".join(parts) + "/?"), literals


def default_specs() -> list[Spec]:
    """The shipped HCW@Home and Leah specs (those present)."""
    from teleconform import _resources

    specs = []
    for api, name in _resources.SPEC_FILES.items():
        try:
            path = _resources.spec_path(name)
        except FileNotFoundError:
            continue
        if path.is_file():
            specs.append(load_spec(path, api))
    if not specs:
        raise TrafficError("no spec found (specs/hcw-athome.openapi.yaml, specs/leah.openapi.yaml)")
    return specs


def match(specs: list[Spec], method: str, url: str) -> tuple[Spec, Operation] | None:
    """The operation for METHOD URL: the path template with the most literal segments wins."""
    path = urlsplit(url).path or "/"
    best: tuple[int, Spec, Operation] | None = None
    for spec in specs:
        candidates = [path] + [path[len(b) :] or "/" for b in spec.base_paths if path.startswith(b)]
        for op in spec.operations:
            if op.method != method.upper():
                continue
            if any(op.regex.fullmatch(c) for c in candidates):
                if best is None or op.literal_segments > best[0]:
                    best = (op.literal_segments, spec, op)
    return (best[1], best[2]) if best else None


def _deref(spec: Spec, node: Any) -> Any:
    seen = 0
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = spec.doc
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            target = target.get(token) if isinstance(target, Mapping) else None
        node = target
        seen += 1
    return node


def _response_for(spec: Spec, op: Operation, status: int) -> tuple[str, Any] | None:
    responses = op.node.get("responses")
    if not isinstance(responses, Mapping):
        return None
    keys = {str(k).upper(): str(k) for k in responses}
    for key in (str(status), f"{str(status)[0]}XX", "DEFAULT"):
        if key in keys:
            return keys[key], _deref(spec, responses[keys[key]])
    return None


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _media_matches(actual: str, documented: str) -> bool:
    documented = documented.split(";", 1)[0].strip().lower()
    if documented in ("*/*", actual):
        return True
    if documented.endswith("/*"):
        return actual.startswith(documented[:-1])
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def describe(error: ValidationError, verbose: bool = False) -> str:
    """A schema error in words, naming the location and the rule but never the value.

    ``verbose``: documented enum values are listed in full instead of cut at 80 characters.
    """
    where = "body" + "".join(f"/{p}" for p in error.absolute_path)
    rule = str(error.validator)
    value = error.validator_value
    if rule in ("required", "additionalProperties", "dependentRequired", "unevaluatedProperties"):
        what = error.message
    elif rule == "type":
        what = f"is {_json_type(error.instance)}, the spec says {value}"
    elif rule in ("enum", "const"):
        shown = json.dumps(value)
        what = f"is not one of the documented values {shown if verbose else shown[:80]}"
    elif rule in ("anyOf", "oneOf") and isinstance(value, list):
        what = f"matches none of the {len(value)} documented alternatives"
    elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
        what = f"fails {rule}={value}"
    else:
        what = f"fails {rule}"
    return f"{where}: {what}"


def _clause(spec: Spec, op: Operation, path: str, kind: str, status: int) -> str:
    if spec.api == "hcw" and status >= 500:
        return "HCW-GEN-01"
    if spec.api == "hcw" and kind == "not-json" and path.startswith("/api/v1"):
        return "HCW-GEN-03"
    default = _DEFAULT_CLAUSE.get(spec.api, "-")
    if default in op.clauses or not op.clauses:
        return default
    return op.clauses[0]


def check_exchange(
    spec: Spec, op: Operation, ex: RecordedExchange, verbose: bool = False
) -> list[Violation]:
    """The violations of one matched exchange (empty when it conforms).

    A body with several schema errors is one violation naming the most relevant error and
    "(and N more)"; ``verbose`` names every one instead.
    """
    status = ex.status
    path = urlsplit(ex.url).path
    found = _response_for(spec, op, status)
    if found is None:
        documented = ", ".join(str(k) for k in (op.node.get("responses") or {}))
        reason = "5xx answer" if status >= 500 else "status"
        return [
            Violation(
                status,
                _clause(spec, op, path, "status", status),
                f"{reason} {status} is not documented for this operation "
                f"(documented: {documented or 'none'})",
            )
        ]
    key, response = found
    out: list[Violation] = []
    if status >= 500 and spec.api == "hcw":
        # A 5xx documented for the operation still breaks HCW-GEN-01 unless named exactly.
        if key != str(status):
            out.append(
                Violation(status, "HCW-GEN-01", f"5xx answer {status} (documented only as {key})")
            )
    content = response.get("content") if isinstance(response, Mapping) else None
    if not isinstance(content, Mapping) or not content:
        return out
    body = ex.response_body or b""
    media = _media(ex.response_header("content-type"))
    if not body.strip():
        if ex.method != "HEAD" and status not in (204, 304):
            out.append(
                Violation(
                    status,
                    _clause(spec, op, path, "empty", status),
                    f"empty body; the spec documents {', '.join(content)}",
                )
            )
        return out
    chosen = next((k for k in content if _media_matches(media, str(k))), None)
    if chosen is None:
        kind = "not-json" if not _is_json(media) else "content-type"
        shown = media or "no content type"
        out.append(
            Violation(
                status,
                _clause(spec, op, path, kind, status),
                f"content type {shown} is not documented for {key} "
                f"(documented: {', '.join(str(k) for k in content)})",
            )
        )
        return out
    if (
        spec.api == "hcw"
        and path.startswith("/api/v1")
        and not _is_json(media)
        and not 300 <= status < 400
    ):
        # The spec lists the real server's text/plain errors so that HCW-GEN-04 accepts them,
        # but they still break the SHOULD clause "API responses are JSON".
        out.append(
            Violation(
                status,
                "HCW-GEN-03",
                f"content type {media or 'none'} is not JSON (a SHOULD finding)",
            )
        )
        return out
    media_obj = _deref(spec, content[chosen])
    schema = media_obj.get("schema") if isinstance(media_obj, Mapping) else None
    if not _is_json(media) or schema is None:
        return out
    try:
        instance = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        out.append(
            Violation(
                status,
                _clause(spec, op, path, "not-json", status),
                f"body is not valid JSON although the content type is {media}",
            )
        )
        return out
    validator = Draft202012Validator(_resolve_schema_ref(spec, schema), registry=spec.registry)
    errors = list(validator.iter_errors(instance))
    if errors:
        best = _best_match(errors)
        if verbose:
            rest = [describe(e, True) for e in errors if e is not best]
            what = "; ".join([describe(best, True), *rest])
        else:
            what = describe(best) + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        out.append(Violation(status, _clause(spec, op, path, "schema", status), what))
    return out


def _resolve_schema_ref(spec: Spec, schema: Any) -> dict[str, Any]:
    """A schema taken out of a shared response: its local $refs point into the spec."""
    text = json.dumps(schema)
    text = text.replace('"$ref": "#/', f'"$ref": "{spec.uri}#/')
    result: dict[str, Any] = json.loads(text)
    return result


def _display_path(ex: RecordedExchange) -> str:
    redacted = Redactor().redact_url(ex.url)
    return urlsplit(redacted).path or "/"


@dataclass(slots=True)
class Report:
    """What check-traffic found, for tests and the CLI."""

    lines: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    matched: int = 0
    violations: int = 0
    flagged: dict[str, set[int]] = field(default_factory=dict)


def check_files(paths: list[Path], specs: list[Spec], verbose: bool = False) -> Report:
    """Check every exchange of ``paths`` (all files are read before any is checked)."""
    loaded = [(path, load_exchanges(path)) for path in paths]
    report = Report()
    for path, exchanges in loaded:
        for ex in exchanges:
            found = match(specs, ex.method, ex.url)
            if found is None:
                report.unmatched.append(
                    f"{path}:{ex.index}\t{ex.method} {_display_path(ex)}\t{ex.status}\tunmatched"
                )
                continue
            spec, op = found
            report.matched += 1
            for v in check_exchange(spec, op, ex, verbose):
                report.violations += 1
                report.flagged.setdefault(str(path), set()).add(ex.index)
                report.lines.append(
                    f"{path}:{ex.index}\t{ex.method} {op.template}\t{v.status}\t"
                    f"{v.clause}\t{v.what}"
                )
    return report


TRAFFIC_SUFFIXES = (".har", ".yaml", ".yml", ".json")


def traffic_files(root: Path) -> list[Path]:
    """``root`` itself, or the HAR files and cassettes under a directory (recursively).

    In a directory, a YAML/JSON file that is neither a HAR file nor a cassette (a spec, a
    configuration file) is passed over; a given file must be one.
    """
    if not root.exists():
        raise TrafficError(f"{root}: no such file or directory")
    if not root.is_dir():
        return [root]
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in TRAFFIC_SUFFIXES:
            continue
        if path.suffix.lower() != ".har" and not _looks_like_traffic(path):
            continue
        found.append(path)
    return found


def _looks_like_traffic(path: Path) -> bool:
    try:
        load_exchanges(path)
    except TrafficError:
        return False
    return True


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise TrafficError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``teleconform check-traffic``."""
    p = _Parser(
        prog="teleconform check-traffic",
        description="Validate recorded exchanges (HAR 1.2 files, teleconform cassettes) against "
        "the HCW@Home and Leah specs. One line per violation on stdout: FILE:ENTRY, METHOD "
        "PATH, STATUS, CLAUSE and what is wrong, tab-separated; unmatched exchanges on stderr.",
        epilog="exit status: 0 all conform, 1 violations found, 2 unreadable input or nothing "
        "to check",
    )
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a HAR file or cassette, or a directory searched recursively for *.har files "
        "and cassettes (*.yaml, *.yml, *.json)",
    )
    p.add_argument(
        "--spec",
        action="append",
        default=[],
        metavar="[hcw=|leah=]FILE",
        help="check against this OpenAPI document instead (repeatable; default: the shipped "
        "HCW@Home and Leah specs)",
    )
    p.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="name every detail a line abbreviates (all schema errors, not '(and N more)')",
    )
    return p


def main(argv: list[str]) -> int:
    """Entry point of ``teleconform check-traffic FILE...``."""
    try:
        args = build_parser().parse_args(argv)
        files = [path for arg in args.files for path in traffic_files(Path(arg))]
        specs = []
        for value in args.spec:
            api, eq, name = value.partition("=")
            specs.append(
                load_spec(Path(name), api)
                if eq and api in ("hcw", "leah")
                else load_spec(Path(value))
            )
        if not specs:
            specs = default_specs()
        report = check_files(files, specs, args.verbose)
    except TrafficError as exc:
        text = str(exc)
        print(text if text.startswith("teleconform") else f"teleconform: {text}", file=sys.stderr)
        return 2
    for line in report.lines:
        print(line)
    for line in report.unmatched:
        print(line, file=sys.stderr)
    total = report.matched + len(report.unmatched)
    print(
        f"check-traffic: {total} exchange(s) in {len(files)} file(s): {report.matched} matched, "
        f"{len(report.unmatched)} unmatched, {report.violations} violation(s)",
        file=sys.stderr,
    )
    if total == 0:
        print(
            "teleconform check-traffic: nothing to check (no exchange in the input)",
            file=sys.stderr,
        )
        return 2
    return 1 if report.violations else 0
