"""Record a run's traffic into cassettes (``--record DIR``) and replay them (``--replay``).

Layout: ``DIR/<api>/<label>.yaml``, one cassette per API and clause group, where the label is
the suite module that sent the requests (``sso``, ``properties``, ... and ``preflight``).

Format (vcrpy reads it: ``vcr.serialize.deserialize(text, yamlserializer)``)::

    version: 1
    metadata:                      # vcrpy keeps this mapping as the cassette's metadata
      format: teleconform-cassette/1
      api: hcw
      label: sso
      seed: 123                    # the run's seed; a replay uses it
      clock: 1763790000.123        # epoch seconds when this API's recording started
      budget: quick                # a replay uses it too (it decides the generated cases)
      base_url: http://127.0.0.1:41234
      tool: {name: teleconform, version: ..., schemathesis: ..., hypothesis: ...}
      spec: {file: hcw-athome.openapi.yaml, digest: sha256=...}  # see spec_digest
      needs: [hcw.doctor_email, hcw.email, ...]           # needs present when recorded
      credentials: {hcw.email: person-2@redacted.example, ...}  # their placeholders
      notes: {webhook_events: [...]}                      # optional, see RecordingNotes
    interactions:
    - request: {method: GET, uri: ..., body: null | text, headers: {Name: [value]}}
      response:
        status: {code: 200, message: OK}
        headers: {Name: [value]}
        body: {string: text}
      teleconform: {seq: 0, at: 1763790000.5, elapsed_s: 0.003, error: null | "ReadTimeout: ...",
                    case: {n: 0, kind: case, op: "GET /api/v1/invite/{id}", mode: negative, ...}}

Everything is redacted before it is written (teleconform.redact, one Redactor per API, so
placeholders agree across its cassettes; the credentials are also replaced wherever their
raw text survives). Bodies are stored decoded (Content-Encoding dropped); a body larger
than 64 KiB (request) or 256 KiB (response) after redaction, and every uploaded file
(by the redaction), is kept only as size, sha256 and its first characters. ``status.code``
0 with ``teleconform.error`` is a request that got no response.

Replay: ``session.client(api)`` is an httpx client whose transport answers from the
cassettes; while a replay session is open, every other attempt to reach the network (other
httpx transports, raw sockets) is refused with an error naming the request or address.

Matching. Each request is redacted as at recording (its own Redactor per API), and
placeholder numbers and run ids are normalised, since they depend on the order in which values
were first seen and on the run. The candidates are the unused interactions of the request's
clause group (the ``teleconform.label`` request extension set by the engine's HttpClient; all
groups when absent) for the same operation: method plus the spec's path template
(``/api/v1/invite/{id}``), or the normalised path outside the spec. Among them, in recorded
order (the sequence number), the first that also has the same normalised path, query and body
is served; else the first with the same path and query; else the first with the same path;
else the first of the operation. Bodies are thus secondary: a body that differs (a fresh
timestamp, a multipart boundary) still gets the recorded answer of the same step, and a
regenerated property case gets the answer recorded for that operation at that position. A
request with no candidate raises ``NotInCassette`` (an httpx.ConnectError, so an
httpx.TransportError: its clause becomes ``error`` with "not in cassette").

Values put back. Where a recorded request holds a placeholder and today's request holds, at the
same place, a value that redacts to a placeholder of the same kind (e.g. the ``lastName``
``Probe-tc-…`` a check just sent), that value replaces the placeholder in the responses served
afterwards, so a check comparing an echo with what it sent judges as it did when recording.
Only values the replaying run itself sent are put back; nothing recorded is restored.

Generated cases are not generated again. Each request the property tests send carries a
description (the ``teleconform.case`` request extension: its number, kind, operation, mode and
per-location modes; no values), kept as ``teleconform.case``. A replay hands the recorded
requests to the property tests (``state()``, ``replay_cases``), which send them again as they
were recorded, in order, and run today's checks on the answers; the generator (its seed, budget,
version or the modules loaded) plays no part.

Clock, seed, budget: the run clock is the recorded time of the latest served interaction
(starting at ``clock``, i.e. frozen at recording time), and the recorded seed and budget are
used. Today's checks run on the recorded responses; stored verdicts are never re-emitted.

Refused with a one-line ConfigError (exit 2): ``--record`` into a non-empty folder without
``--overwrite``, ``--record`` with ``--replay``, ``--replay`` with ``--target`` or
``--sandbox-fault``, a missing or corrupt cassette, and cassettes that would no longer
match the requests: recorded with another schemathesis or hypothesis version (a recording
today would send other cases, and the recorded case descriptions follow schemathesis), or
against a spec whose request-relevant content changed (``spec.digest``).
Recording with ``--workers`` > 1 is allowed: each API is recorded by its own recorder, which
is thread-safe, so placeholders stay consistent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from ._cassette_format import YAML_LOADER, Cassette, CassetteError, load_cassette, spec_digest
from ._cassette_guard import block_network, unblock_network
from ._cassette_record import (
    WEBHOOK_EVENTS,
    ApiRecorder,
    RecordingNotes,
)
from ._cassette_replay import (
    LABEL_EXTENSION,
    NotInCassette,
    Operations,
    ReplayTransport,
    normalise,
)
from ._http import Exchange
from ._needs import ConfigError
from ._resources import SPEC_FILES, data_root, spec_path

__all__ = [
    "LABEL_EXTENSION",
    "Cassette",
    "CassetteError",
    "NotInCassette",
    "RecordingNotes",
    "Session",
    "cassettes_dir",
    "load_api_cassettes",
    "load_cassette",
    "normalise",
    "open_session",
    "spec_digest",
]

RERECORD = "scripts/record-cassettes.sh, or `teleconform run {api} --record DIR --overwrite`"
# Versions of what generates requests: another version generates other cases than the
# recorded ones (a replay sends the recorded ones, but they would no longer be today's).
GENERATOR_TOOLS = ("schemathesis", "hypothesis")


def cassettes_dir() -> Path:
    """The cassettes shipped with teleconform (inside the wheel, or cassettes/ of a checkout)."""
    return data_root() / "cassettes"


def spec_info(api: str) -> dict[str, str]:
    """The spec of an API as cassettes record it: file name and request-relevant digest."""
    name = SPEC_FILES[api]
    # "sha256=" marks a digest for the cassette audit (not a token).
    return {"file": name, "digest": f"sha256={spec_digest(spec_path(name))}"}


def spec_templates(api: str) -> list[str]:
    """The path templates of an API's spec (empty when the spec is absent or unreadable)."""
    try:
        spec = yaml.load(spec_path(SPEC_FILES[api]).read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError):
        return []
    paths = spec.get("paths") if isinstance(spec, dict) else None
    return [str(p) for p in paths] if isinstance(paths, dict) else []


def load_api_cassettes(folder: Path, api: str) -> list[Cassette]:
    """Every cassette of ``api`` under ``folder`` (``folder/<api>/*.yaml``), checked."""
    files = sorted((folder / api).glob("*.yaml"))
    if not files:
        raise ConfigError(
            f"{folder}: no cassettes for {api} (record them: {RERECORD.format(api=api)})"
        )
    cassettes = []
    for path in files:
        try:
            cassette = load_cassette(path)
        except CassetteError as exc:
            raise ConfigError(f"cassette {exc}") from exc
        if cassette.api != api:
            raise ConfigError(f"cassette {path}: recorded for {cassette.api}, not {api}")
        cassettes.append(cassette)
    return cassettes


def stale_reason(cassettes: list[Cassette], api: str, tool: Mapping[str, str]) -> str | None:
    """Why these cassettes would not match today's requests, or None."""
    today = spec_info(api)
    for cassette in cassettes:
        recorded = cassette.metadata.get("tool") or {}
        for name in GENERATOR_TOOLS:
            if name in tool and recorded.get(name) != tool[name]:
                return (f"recorded with {name} {recorded.get(name)}, this is {tool[name]}, so "
                        "a recording today would send other cases")
        spec = cassette.metadata.get("spec") or {}
        if spec.get("digest") != today["digest"]:
            return f"recorded against another version of specs/{today['file']}"
    return None


class Session:
    """The record or replay side of one ``teleconform run``."""

    def __init__(self, mode: str, seed: int, budget: str, folder: Path) -> None:
        self.mode = mode
        self.seed = seed
        self.budget = budget
        self.folder = folder
        self.overwrite = False
        self.tool: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self._recorders: dict[str, ApiRecorder] = {}
        self._cassettes: dict[str, list[Cassette]] = {}
        self._transports: dict[str, ReplayTransport] = {}
        self._tmp: Path | None = None
        self._guarded = False
        self.written: list[Path] = []
        self.recorded_clauses: list[str] = []
        self.recorded_shard: str | None = None

    # -- replay ------------------------------------------------------------------------------
    def _meta(self, api: str) -> dict[str, Any]:
        return self._cassettes[api][0].metadata

    def base_url(self, api: str) -> str:
        """The base URL the API was recorded at (absolute URLs in responses point there)."""
        return str(self._meta(api).get("base_url") or f"http://{api}.replay.invalid")

    def credentials(self, api: str) -> dict[str, str]:
        """Need name -> value as recorded (credentials as their placeholders)."""
        meta = self._meta(api)
        creds = {str(k): str(v) for k, v in (meta.get("credentials") or {}).items()}
        events = [e for c in self._cassettes[api] for e in (c.metadata.get("notes") or {})
                  .get("webhook_events", [])]
        if events or WEBHOOK_EVENTS in (meta.get("needs") or ()):
            creds[WEBHOOK_EVENTS] = str(self._events_file(api, events))
        return creds

    def _events_file(self, api: str, events: list[Any]) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="teleconform-replay-"))
        path = self._tmp / f"{api}-webhook-events.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        return path

    def transport(self, api: str) -> ReplayTransport:
        if api not in self._transports:
            start = float(self._meta(api)["clock"])
            self._transports[api] = ReplayTransport(
                api, self._cassettes[api], start, Operations(spec_templates(api))
            )
        return self._transports[api]

    def client(self, api: str) -> httpx.Client:
        """A client answering from the cassettes; it never touches the network."""
        return httpx.Client(transport=self.transport(api), follow_redirects=False)

    def clock(self, api: str) -> Callable[[], float]:
        """The run clock: recorded time of the latest served interaction."""
        return self.transport(api).clock

    # -- record ------------------------------------------------------------------------------
    def recorder(
        self, api: str, base_url: str = "", credentials: Mapping[str, str] | None = None
    ) -> Callable[[Exchange], None]:
        """The ``on_exchange`` hook recording ``api``'s traffic."""
        if api not in self._recorders:
            self._recorders[api] = ApiRecorder(
                api, base_url, credentials or {}, seed=self.seed, budget=self.budget,
                tool=self.tool, spec=spec_info(api), extra=self.extra,
            )
        return self._recorders[api]

    def state(self, api: str) -> dict[str, Any]:
        """Keys added to ``ctx.state`` of the API's run.

        Recording: ``recording`` (RecordingNotes). Replay: ``replay_cases``, the recorded
        requests per clause group, in recorded order ({label: [{method, uri, headers, body,
        case}]}, redacted; ``case`` is the property tests' description or None).
        """
        if self.mode == "record":
            self.recorder(api)
            return {"recording": RecordingNotes(self._recorders[api])}
        cases: dict[str, list[dict[str, Any]]] = {}
        for cassette in self._cassettes.get(api, []):
            cases[cassette.label] = [
                {"method": i.method, "uri": i.uri, "headers": i.request_headers,
                 "body": i.request_body, "case": i.case}
                for i in sorted(cassette.interactions, key=lambda i: i.seq)
            ]
        return {"replay_cases": cases}

    # -- end ---------------------------------------------------------------------------------
    def finish(self) -> None:
        """Write the cassettes (record); lift the network guard and clean up (replay)."""
        if self.mode == "record":
            self._write()
            return
        if self._guarded:
            unblock_network()
            self._guarded = False
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _write(self) -> None:
        for api, recorder in self._recorders.items():
            cassettes = recorder.finished()
            target = self.folder / api
            if self.overwrite and target.is_dir():
                for old in target.glob("*.yaml"):
                    old.unlink()
            for cassette in cassettes:
                path = target / f"{_file_label(cassette.label)}.yaml"
                cassette.write(path)
                self.written.append(path)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def _file_label(label: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
    return safe.strip(".") or "unlabelled"


def open_session(
    args: argparse.Namespace, apis: list[str], seed: int, tool: Mapping[str, str]
) -> Session:
    """Check the record/replay options and prepare the session (ConfigError: exit 2)."""
    record = getattr(args, "record", None)
    replay = bool(getattr(args, "replay", False))
    if record and replay:
        raise ConfigError("--record and --replay exclude each other")
    if record:
        return _open_record(args, Path(record), apis, seed, tool)
    if not replay:
        raise ConfigError("open_session needs --record or --replay")
    return _open_replay(args, apis, tool)


def _open_record(
    args: argparse.Namespace, folder: Path, apis: list[str], seed: int, tool: Mapping[str, str]
) -> Session:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--record {folder}: not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not getattr(args, "overwrite", False):
        raise ConfigError(f"--record {folder}: the folder is not empty; add --overwrite to "
                          "replace its cassettes")
    session = Session("record", seed, str(getattr(args, "budget", "standard")), folder)
    session.overwrite = bool(getattr(args, "overwrite", False))
    session.tool = dict(tool)
    session.extra = {
        "clauses": sorted(getattr(args, "clause", None) or []) or None,
        "shard": getattr(args, "shard", None),
        "sandbox_faults": list(getattr(args, "sandbox_fault", None) or []),
    }
    return session


def _open_replay(args: argparse.Namespace, apis: list[str], tool: Mapping[str, str]) -> Session:
    if getattr(args, "target", None):
        raise ConfigError("--replay and --target exclude each other")
    if getattr(args, "sandbox_fault", None):
        raise ConfigError("--replay replays the recorded answers; --sandbox-fault has no effect")
    given = getattr(args, "cassettes", None)
    folder = Path(given) if given else cassettes_dir()
    if not folder.is_dir():
        where = f"--cassettes {folder}" if given else f"shipped cassettes {folder}"
        raise ConfigError(f"{where}: no such folder")
    loaded: dict[str, list[Cassette]] = {}
    for api in apis:
        cassettes = load_api_cassettes(folder, api)
        why = stale_reason(cassettes, api, tool)
        if why:
            raise ConfigError(
                f"cassettes {folder / api} are stale ({why}): re-record them "
                f"({RERECORD.format(api=api)})"
            )
        loaded[api] = cassettes
    seeds = {c.seed for cs in loaded.values() for c in cs}
    budgets = {str(c.metadata.get("budget", "standard")) for cs in loaded.values() for c in cs}
    if len(seeds) > 1 or len(budgets) > 1:
        raise ConfigError(f"cassettes in {folder} come from different recordings (seeds "
                          f"{sorted(seeds)}, budgets {sorted(budgets)}): replay one API at a time")
    selections = {
        (tuple(c.metadata.get("clauses") or ()), c.metadata.get("shard"))
        for cs in loaded.values() for c in cs
    }
    if len(selections) > 1:
        raise ConfigError(f"cassettes in {folder} come from runs with different --clause/--shard "
                          "selections: re-record them in one run")
    recorded_clauses, recorded_shard = selections.pop() if selections else ((), None)
    asked = tuple(sorted(getattr(args, "clause", None) or ()))
    asked_shard = getattr(args, "shard", None)
    # A replay serves one recorded run in order: a different selection would match requests
    # against the wrong recordings, so it must be the recorded one (or be left out).
    if (asked or asked_shard) and (asked, asked_shard) != (recorded_clauses, recorded_shard):
        recorded = " ".join(f"--clause {c}" for c in recorded_clauses) or "all clauses"
        if recorded_shard:
            recorded += f" --shard {recorded_shard}"
        raise ConfigError(f"the cassettes in {folder} were recorded with {recorded}; replay them "
                          "with that selection or without --clause/--shard")
    session = Session("replay", seeds.pop(), budgets.pop(), folder)
    session.recorded_clauses = list(recorded_clauses)
    session.recorded_shard = recorded_shard
    session.tool = dict(tool)
    session._cassettes = loaded
    block_network()
    session._guarded = True
    return session
