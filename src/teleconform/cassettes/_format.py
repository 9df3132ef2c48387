"""Reading and writing cassette files (the format is documented in teleconform.cassettes)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from teleconform._yaml import SafeLoader
from teleconform.specs import SpecDocumentError, load_document

FORMAT = "teleconform-cassette/1"
VCR_VERSION = 1

# libyaml makes loading all cassettes of a run take milliseconds, not seconds.
YAML_LOADER: Any = SafeLoader  # the one YAML loader (teleconform._yaml)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# Keys of a spec that never change what is sent, so editing them does not make cassettes stale.
_PROSE_KEYS = frozenset({"description", "summary", "externalDocs", "x-clauses"})


class CassetteError(Exception):
    """A cassette is missing, unreadable or not in our format (one line)."""


@dataclass(slots=True)
class Interaction:
    """One recorded request and its response (or the error that replaced it), redacted."""

    seq: int
    method: str
    uri: str
    request_headers: dict[str, list[str]]
    request_body: str | None
    status: int
    message: str
    response_headers: dict[str, list[str]]
    response_body: str
    at: float
    elapsed_s: float = 0.0
    error: str | None = None
    # What the property tests sent this request as (teleconform.properties, CASE_EXTENSION).
    case: dict[str, Any] | None = None

    def to_yaml(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"seq": self.seq, "at": self.at, "elapsed_s": self.elapsed_s}
        if self.error is not None:
            meta["error"] = self.error
        if self.case is not None:
            meta["case"] = self.case
        return {
            "request": {
                "method": self.method,
                "uri": self.uri,
                "body": self.request_body,
                "headers": self.request_headers,
            },
            "response": {
                "status": {"code": self.status, "message": self.message},
                "headers": self.response_headers,
                "body": {"string": self.response_body},
            },
            "teleconform": meta,
        }

    @classmethod
    def from_yaml(cls, data: Any, index: int) -> Interaction:
        try:
            req, resp = data["request"], data["response"]
            meta = data.get("teleconform") or {}
            body = resp.get("body") or {}
            return cls(
                seq=int(meta.get("seq", index)),
                method=str(req["method"]).upper(),
                uri=str(req["uri"]),
                request_headers=_headers(req.get("headers")),
                request_body=None if req.get("body") is None else str(req["body"]),
                status=int(resp["status"]["code"]),
                message=str(resp["status"].get("message") or ""),
                response_headers=_headers(resp.get("headers")),
                response_body=_text(body.get("string") if isinstance(body, dict) else body),
                at=float(meta.get("at", 0.0)),
                elapsed_s=float(meta.get("elapsed_s", 0.0)),
                error=None if meta.get("error") is None else str(meta["error"]),
                case=dict(meta["case"]) if isinstance(meta.get("case"), dict) else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CassetteError(f"interaction {index} is malformed ({exc})") from exc


@dataclass(slots=True)
class Cassette:
    """The recorded exchanges of one API and clause group (suite module)."""

    api: str
    label: str
    metadata: dict[str, Any]
    interactions: list[Interaction] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.metadata["seed"])

    def to_yaml(self) -> dict[str, Any]:
        return {
            "version": VCR_VERSION,
            "metadata": self.metadata,
            "interactions": [i.to_yaml() for i in self.interactions],
        }

    def dumps(self) -> str:
        text: str = yaml.dump(
            self.to_yaml(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096
        )
        return text

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(self.dumps(), encoding="utf-8")
        tmp.replace(path)


_REQUIRED_META = ("format", "api", "label", "seed", "clock", "tool", "spec")


def load_cassette(path: Path) -> Cassette:
    """Parse one cassette file; CassetteError (one line) when it is unreadable or not ours."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)  # noqa: S506 (safe)
    except OSError as exc:
        raise CassetteError(f"{path}: unreadable ({exc.strerror or type(exc).__name__})") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CassetteError(f"{path}: not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(data, dict) or data.get("version") != VCR_VERSION:
        raise CassetteError(f"{path}: not a cassette (expected `version: 1`)")
    meta = data.get("metadata")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CassetteError(f"{path}: not a teleconform cassette (metadata.format != {FORMAT})")
    missing = [k for k in _REQUIRED_META if k not in meta]
    if missing:
        raise CassetteError(f"{path}: metadata lacks {', '.join(missing)}")
    raw = data.get("interactions")
    if not isinstance(raw, list):
        raise CassetteError(f"{path}: `interactions` is not a list")
    try:
        interactions = [Interaction.from_yaml(item, i) for i, item in enumerate(raw)]
        int(meta["seed"])
        float(meta["clock"])
    except CassetteError as exc:
        raise CassetteError(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise CassetteError(f"{path}: metadata seed/clock are not numbers") from exc
    return Cassette(str(meta["api"]), str(meta["label"]), meta, interactions)


def _headers(raw: Any) -> dict[str, list[str]]:
    if not raw:
        return {}
    if not isinstance(raw, Mapping):
        raise TypeError("headers are not a mapping")
    out: dict[str, list[str]] = {}
    for name, value in raw.items():
        out[str(name)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return str(body)


def spec_digest(path: Path) -> str:
    """sha256 of what in a spec can change the requests (prose and clause marks left out)."""
    if not path.is_file():
        return "absent"
    try:
        spec = load_document(path)
    except (OSError, yaml.YAMLError, SpecDocumentError):
        return "unreadable"

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {str(k): strip(v) for k, v in node.items() if k not in _PROSE_KEYS}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    canonical = json.dumps(strip(spec), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
