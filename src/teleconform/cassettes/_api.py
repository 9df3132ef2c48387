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
      recorded_run:                # what the run did: its selection, permissions, skips
        writes_allowed: false
        disruptive_allowed: false
        verdicts: {HCW-AUTH-01: {verdict: pass}, HCW-INV-01: {verdict: skip, reason: ...}}
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
(by the redaction: size and a digest keyed per recording, the key never stored, so a short
file cannot be confirmed by hashing guesses), is kept only as size, sha256 and its first
characters (of the redacted text). ``status.code``
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
used. Today's checks run on the recorded responses; stored verdicts are never re-emitted,
except ``skip``: a clause skipped while recording (e.g. no ``--allow-writes``) has no traffic
to judge, so it is ``skip`` with the recorded reason.

Selection (``run --replay --clause/--shard``, the pytest plugin's ``-k``): a replay always runs
the recorded selection with the recorded permissions, in recorded order, since a check's
requests depend on what ran before it (``ctx.state``), and reports only the selected clauses
(``ReplayPlan``). ``teleconform run --replay`` and ``pytest --teleconform-replay`` share this,
so they give the same verdicts. A selected clause the cassettes hold no recording of is one
ConfigError (exit 2; a usage error in pytest).

Refused with a one-line ConfigError (exit 2): ``--record`` into a non-empty folder without
``--overwrite``, ``--record`` with ``--replay``, ``--replay`` with ``--target`` or
``--sandbox-fault``, a missing or corrupt cassette, and cassettes recorded against a spec whose
request-relevant content changed (``spec.digest``). Other schemathesis or hypothesis versions
than the recorded ones are not a reason: the recorded cases are sent again as recorded, so the
generator plays no part; the difference is a note in the report (``notes``) and on the console.
Recording with ``--workers`` > 1 is allowed: each API is recorded by its own recorder, which
is thread-safe, so placeholders stay consistent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from teleconform._errors import ConfigError
from teleconform._resources import data_root
from teleconform.cassettes._format import (
    Cassette,
    CassetteError,
    load_cassette,
    spec_digest,
)
from teleconform.cassettes._guard import block_network, unblock_network
from teleconform.cassettes._record import WEBHOOK_EVENTS, ApiRecorder, RecordingNotes
from teleconform.cassettes._replay import (
    LABEL_EXTENSION,
    NotInCassette,
    Operations,
    ReplayTransport,
    normalise,
)
from teleconform.catalogue import load_catalogue
from teleconform.runner._http import Exchange
from teleconform.specs import SPEC_FILES, SpecDocumentError, load_spec_document, spec_file

__all__ = [
    "LABEL_EXTENSION",
    "Cassette",
    "CassetteError",
    "NotInCassette",
    "RecordingNotes",
    "ReplayPlan",
    "Session",
    "cassettes_dir",
    "load_api_cassettes",
    "load_cassette",
    "normalise",
    "open_session",
    "spec_digest",
]

RERECORD = "scripts/record-cassettes.sh, or `teleconform run {api} --record DIR --overwrite`"
# Versions of what generated the recorded cases. A replay sends the recorded cases again, so
# another version changes nothing replayed: it is shown as a note, never a refusal.
GENERATOR_TOOLS = ("schemathesis", "hypothesis")
# metadata key of what the recorded run did (see ApiRecorder.recorded_run)
RECORDED_RUN = "recorded_run"


def cassettes_dir() -> Path:
    """The cassettes shipped with teleconform (inside the wheel, or cassettes/ of a checkout)."""
    return data_root() / "cassettes"


def spec_info(api: str) -> dict[str, str]:
    """The spec of an API as cassettes record it: file name and request-relevant digest."""
    name = SPEC_FILES[api]
    # "sha256=" marks a digest for the cassette audit (not a token).
    return {"file": name, "digest": f"sha256={spec_digest(spec_file(api))}"}


def spec_templates(api: str) -> list[str]:
    """The path templates of an API's spec (empty when the spec is absent or unreadable)."""
    try:
        spec = load_spec_document(api)
    except (OSError, yaml.YAMLError, SpecDocumentError):
        return []
    paths = spec.get("paths")
    return [str(p) for p in paths] if isinstance(paths, Mapping) else []


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


def stale_reason(cassettes: list[Cassette], api: str) -> str | None:
    """Why these cassettes would not match today's requests, or None.

    Only the spec's request-relevant content counts: the recorded cases are replayed as they
    were recorded, whatever generator versions are installed (see ``version_notes``).
    """
    today = spec_info(api)
    for cassette in cassettes:
        spec = cassette.metadata.get("spec") or {}
        if spec.get("digest") != today["digest"]:
            return f"recorded against another version of specs/{today['file']}"
    return None


def version_notes(cassettes: list[Cassette], api: str, tool: Mapping[str, str]) -> list[str]:
    """One note per generator whose recorded version differs from the installed one."""
    notes: list[str] = []
    for name in GENERATOR_TOOLS:
        recorded = sorted(
            {str((c.metadata.get("tool") or {}).get(name) or "unknown") for c in cassettes}
        )
        today = tool.get(name)
        if today and recorded != [today]:
            notes.append(
                f"{api} cassettes were recorded with {name} {', '.join(recorded)}, this is "
                f"{today}: the recorded cases are replayed as recorded, so verdicts do not "
                "depend on it"
            )
    return notes


@dataclass(slots=True)
class ReplayPlan:
    """What a replay of one API runs and what it reports.

    A replay runs exactly the recorded selection (``run``, None: every clause), since checks
    chain through ``ctx.state`` and the recorded exchanges depend on what ran before them,
    and reports only the selected clauses (``report``). A clause recorded as ``skip`` is
    ``skip`` with the recorded reason (``skips``).
    """

    run: set[str] | None
    report: set[str] | None
    skips: dict[str, str]
    writes_allowed: bool = True
    disruptive_allowed: bool = False

    def apply(self, clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The replayed clause entries to report: the selected ones, recorded skips kept."""
        out = []
        for entry in clauses:
            if self.report is not None and entry["id"] not in self.report:
                continue
            if entry["id"] in self.skips:
                entry = {
                    **entry,
                    "verdict": "skip",
                    "evidence": [],
                    "reason": f"{self.skips[entry['id']]} (as recorded)",
                }
                entry.pop("measurements", None)
                entry.pop("advisories", None)
            out.append(entry)
        return out


def replay_plan(
    cassettes: list[Cassette], api: str, wanted: set[str] | None, folder: Path
) -> ReplayPlan:
    """The plan replaying ``wanted`` (None: what was recorded); ConfigError if not recorded."""
    meta = cassettes[0].metadata
    api_ids = {c.id for c in load_catalogue().values() if c.api == api}
    recorded_run = meta.get(RECORDED_RUN)
    recorded: set[str] | None = None
    skips: dict[str, str] = {}
    writes, disruptive = True, False
    if isinstance(recorded_run, dict) and isinstance(recorded_run.get("verdicts"), dict):
        verdicts = recorded_run["verdicts"]
        recorded = {str(cid) for cid in verdicts}
        for cid, outcome in verdicts.items():
            if isinstance(outcome, dict) and outcome.get("verdict") == "skip":
                skips[str(cid)] = str(outcome.get("reason") or "skipped when recorded")
        writes = bool(recorded_run.get("writes_allowed", True))
        disruptive = bool(recorded_run.get("disruptive_allowed", False))
    elif meta.get("clauses"):  # cassettes recorded before verdicts were kept
        recorded = {str(cid) for cid in meta["clauses"]} & api_ids
    if wanted and recorded is not None:
        missing = sorted(wanted - recorded)
        if missing:
            shown = ", ".join(missing[:3]) + (
                f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
            )
            raise ConfigError(
                f"cassettes {folder / api} hold no recording of {shown}: they recorded "
                f"{len(recorded)} of the {len(api_ids)} {api} clauses; select among those, or "
                f"re-record ({RERECORD.format(api=api)})"
            )
    report = set(wanted) if wanted else (set(recorded) if recorded is not None else None)
    return ReplayPlan(recorded, report, skips, writes, disruptive)


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
        # Things a report should mention (e.g. other generator versions than the recorded).
        self.notes: list[str] = []
        self.plans: dict[str, ReplayPlan] = {}

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
        events = [
            e
            for c in self._cassettes[api]
            for e in (c.metadata.get("notes") or {}).get("webhook_events", [])
        ]
        if events or WEBHOOK_EVENTS in (meta.get("needs") or ()):
            creds[WEBHOOK_EVENTS] = str(self._events_file(api, events))
        return creds

    def _events_file(self, api: str, events: list[Any]) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="teleconform-replay-"))
        path = self._tmp / f"{api}-webhook-events.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        return path

    def plan(self, selected: Mapping[str, set[str] | None]) -> None:
        """Plan the replay of each API's selection (None: as recorded); ConfigError if the
        cassettes hold no recording of a selected clause."""
        for api, wanted in selected.items():
            self.plans[api] = replay_plan(self._cassettes[api], api, wanted, self.folder)

    def run_options(self, api: str) -> dict[str, Any]:
        """``run_api`` options of a replay of ``api``: the recorded selection and permissions."""
        plan = self.plans.get(api) or replay_plan(self._cassettes[api], api, None, self.folder)
        self.plans[api] = plan
        return {
            "clauses": plan.run,
            "writes_allowed": plan.writes_allowed,
            "disruptive_allowed": plan.disruptive_allowed,
        }

    def reported(self, api: str, clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The replayed clause entries of ``api`` to report (see ReplayPlan.apply)."""
        plan = self.plans.get(api)
        return plan.apply(clauses) if plan is not None else clauses

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
                api,
                base_url,
                credentials or {},
                seed=self.seed,
                budget=self.budget,
                tool=self.tool,
                spec=spec_info(api),
                extra=self.extra,
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
                {
                    "method": i.method,
                    "uri": i.uri,
                    "headers": i.request_headers,
                    "body": i.request_body,
                    "case": i.case,
                }
                for i in sorted(cassette.interactions, key=lambda i: i.seq)
            ]
        return {"replay_cases": cases}

    def keep_outcome(
        self,
        api: str,
        clauses: list[dict[str, Any]],
        *,
        writes_allowed: bool,
        disruptive_allowed: bool,
    ) -> None:
        """(record) Keep what the recorded run did per clause, for the replay (see ReplayPlan)."""
        recorder = self._recorders.get(api)
        if recorder is not None:
            recorder.recorded_run(
                clauses, writes_allowed=writes_allowed, disruptive_allowed=disruptive_allowed
            )

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
        raise ConfigError(
            f"--record {folder}: the folder is not empty; add --overwrite to replace its cassettes"
        )
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
    notes: list[str] = []
    for api in apis:
        cassettes = load_api_cassettes(folder, api)
        why = stale_reason(cassettes, api)
        if why:
            raise ConfigError(
                f"cassettes {folder / api} are stale ({why}): re-record them "
                f"({RERECORD.format(api=api)})"
            )
        notes += version_notes(cassettes, api, tool)
        loaded[api] = cassettes
    seeds = {c.seed for cs in loaded.values() for c in cs}
    budgets = {str(c.metadata.get("budget", "standard")) for cs in loaded.values() for c in cs}
    if len(seeds) > 1 or len(budgets) > 1:
        raise ConfigError(
            f"cassettes in {folder} come from different recordings (seeds "
            f"{sorted(seeds)}, budgets {sorted(budgets)}): replay one API at a time"
        )
    selections = {
        (tuple(c.metadata.get("clauses") or ()), c.metadata.get("shard"))
        for cs in loaded.values()
        for c in cs
    }
    if len(selections) > 1:
        raise ConfigError(
            f"cassettes in {folder} come from runs with different --clause/--shard "
            "selections: re-record them in one run"
        )
    recorded_clauses, recorded_shard = selections.pop() if selections else ((), None)
    # A selection is served from the whole recorded run (see ReplayPlan, Session.plan).
    session = Session("replay", seeds.pop(), budgets.pop(), folder)
    session.recorded_clauses = list(recorded_clauses)
    session.recorded_shard = recorded_shard
    session.tool = dict(tool)
    session.notes = notes
    session._cassettes = loaded
    block_network()
    session._guarded = True
    return session
