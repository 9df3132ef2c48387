"""pytest plugin: run teleconform's clauses inside a host pytest session, one item per clause.

Activated by ``--teleconform-api``; ``-k HCW-SSO`` selects clauses like any test id. Verdicts
and reports are the same as ``teleconform run`` (it calls the same runner, not the CLI).

Items are grouped by work unit (suite modules that share no clause, see
``teleconform.runner.work_units``) with ``xdist_group`` marks, so that under pytest-xdist
(``-n N --dist loadgroup``) a create-then-read chain stays on one worker. A unit runs once,
when its first item runs; every item carries its clause's report entry in
``user_properties`` so that the controller can merge one report.

``teleconform run --workers N`` is such a controller (see ``teleconform.runner._xdist``): it hands
each worker the run's settings in ``workerinput`` (never in the environment or on disk,
since they include credentials), and a worker sends back, besides the clause entries, what
its units sent, created and could not clean, or why its target refused the run (the names
of that exchange: ``teleconform.runner._worker_protocol``).
"""

from __future__ import annotations

import json
import os
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from teleconform.catalogue import load_catalogue
from teleconform.client._fixtures import teleconform_hcw, teleconform_leah  # noqa: F401 (fixtures)
from teleconform.report._document import now_rfc3339, run_entry
from teleconform.runner._worker_protocol import (
    PROPERTY,
    RATE_FILE,
    REFUSED_PROPERTY,
    RUN_SPEC,
    UNIT_PROPERTY,
    clause_of_nodeid,
    spec_rate_limit,
    spec_seed,
    spec_settings,
)
from teleconform.runner.ledger import left_behind

if TYPE_CHECKING:
    from teleconform.report._document import ReportHeader
    from teleconform.report.model import Run

__all__ = ["ClauseFailed", "ClauseItem", "clause_of_nodeid", "collected_runs", "unit_map"]

_UNITS = pytest.StashKey[dict[str, dict[str, Any]]]()  # unit -> {clause id: entry}
_STATE = pytest.StashKey[dict[str, Any]]()
_ENTRIES = pytest.StashKey[dict[str, dict[str, Any]]]()  # (controller) api -> run entry


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("teleconform", "teleconform conformance clauses")
    group.addoption(
        "--teleconform-api",
        choices=["hcw", "leah", "all"],
        default=None,
        help="add one test item per clause of this API",
    )
    group.addoption(
        "--teleconform-target",
        action="append",
        default=[],
        metavar="URL",
        help="live base URL (or api=URL); default: the embedded sandboxes",
    )
    group.addoption(
        "--teleconform-sandbox-target",
        action="store_true",
        help="the --teleconform-target URLs are teleconform sandboxes",
    )
    group.addoption(
        "--teleconform-clause",
        action="append",
        default=[],
        metavar="ID",
        help="only these clauses (like -k, but exact ids)",
    )
    group.addoption(
        "--teleconform-replay", action="store_true", help="replay the shipped cassettes"
    )
    group.addoption("--teleconform-cassettes", default=None, metavar="DIR")
    group.addoption("--teleconform-seed", type=int, default=None)
    group.addoption("--teleconform-budget", choices=["quick", "standard", "deep"], default="quick")
    group.addoption("--teleconform-allow-writes", action="store_true")
    group.addoption(
        "--teleconform-rate-limit",
        type=float,
        default=None,
        metavar="R",
        help="live requests per second for the whole session, all xdist workers together",
    )
    group.addoption("--teleconform-timeout", type=float, default=10.0, metavar="S")
    group.addoption("--teleconform-ledger-dir", default=None, metavar="DIR")
    group.addoption("--teleconform-report-dir", default=None, metavar="DIR")
    group.addoption("--teleconform-strict", action="store_true", help="SHOULD findings fail too")
    group.addoption(
        "--teleconform-fail-on-advisory",
        action="store_true",
        help="advisories (findings the documents do not back) fail their clause's item too",
    )
    group.addoption(
        "--teleconform-profile",
        default=None,
        metavar="NAME",
        help="sandbox profile of the teleconform_hcw / teleconform_leah fixtures",
    )


class ClauseFailed(Exception):
    """A clause's verdict was fail (or error)."""


class _Clauses(pytest.Collector):
    def collect(self) -> Iterator[pytest.Item]:  # pragma: no cover - items are added directly
        return iter(())


class ClauseItem(pytest.Item):
    """One conformance clause; its verdict comes from its work unit's run."""

    def __init__(self, *, clause_id: str, api: str, level: str, unit: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clause_id = clause_id
        self.api = api
        self.level = level
        self.unit = unit
        self.add_marker(pytest.mark.teleconform)
        self.add_marker(pytest.mark.xdist_group(unit))

    def runtest(self) -> None:
        units = self.session.stash.get(_UNITS, {})
        if self.unit in units and not units[self.unit]:
            raise ClauseFailed(f"{self.clause_id}: its target was refused or unusable (see above)")
        result = _ensure_unit(self).get(self.clause_id)
        if result is None:
            raise ClauseFailed(f"{self.clause_id}: no verdict (its API did not run)")
        self.user_properties.append((PROPERTY, json.dumps({"api": self.api, **result})))
        verdict, reason = result["verdict"], result["reason"]
        strict = self.config.getoption("--teleconform-strict")
        advisories = [
            ": ".join(str(a.get(k, "")) for k in ("operation", "check", "message"))
            for a in result.get("advisories") or ()
        ]
        if advisories:
            # shown with the item's report (-rA, or when it fails); never a verdict by itself
            self.add_report_section("call", "teleconform advisories", "\n".join(advisories))
        if verdict == "skip":
            pytest.skip(reason)
        if verdict in ("fail", "error") and not result.get("waived"):
            if self.level == "MUST" or strict:
                raise ClauseFailed(f"{self.clause_id} {verdict}: {reason}")
            pytest.xfail(f"SHOULD finding: {reason}")
        if advisories and self.config.getoption("--teleconform-fail-on-advisory"):
            raise ClauseFailed(
                f"{self.clause_id} advisories ({len(advisories)}): " + "; ".join(advisories[:4])
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ClauseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path("teleconform"), 0, f"{self.api}: {self.clause_id}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    api = config.getoption("--teleconform-api")
    if not api:
        return
    only = set(config.getoption("--teleconform-clause"))
    parent = _Clauses.from_parent(session, name="teleconform")
    unit_of = unit_map(api, replay=_replaying(config))
    for clause in load_catalogue().values():
        if api in ("all", clause.api) and (not only or clause.id in only):
            items.append(
                ClauseItem.from_parent(
                    parent,
                    name=clause.id,
                    clause_id=clause.id,
                    api=clause.api,
                    level=clause.level,
                    unit=unit_of.get(clause.id, f"{clause.api}-unit-none"),
                )
            )


def unit_map(api: str, *, replay: bool = False) -> dict[str, str]:
    """Clause id -> the name of its work unit (``hcw-unit-3``), for ``api`` or ``all``.

    A replay serves one recorded run per API in recorded order (what a check sends depends on
    what ran before it), so there each API is one unit (``hcw-replay``), as in
    ``teleconform run --replay``.
    """
    from teleconform.runner import work_units

    unit_of: dict[str, str] = {}
    for name in ("hcw", "leah"):
        if api in ("all", name):
            for index, unit in enumerate(work_units(name, None)):
                unit_of.update(
                    {cid: f"{name}-replay" if replay else f"{name}-unit-{index}" for cid in unit}
                )
    return unit_of


def _replaying(config: pytest.Config) -> bool:
    return bool(config.getoption("--teleconform-replay", default=False)) and (
        run_spec(config) is None
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """(replay) A selection the cassettes hold no recording of is one usage error."""
    config = session.config
    if not config.getoption("--teleconform-api", default=None) or not _replaying(config):
        return
    if hasattr(config, "workerinput"):
        return  # the controller of an xdist session checked it; workers report per clause
    wanted: dict[str, set[str]] = {}
    for item in session.items:
        if isinstance(item, ClauseItem):
            wanted.setdefault(item.api, set()).add(item.clause_id)
    if not wanted:
        return
    from teleconform._errors import ConfigError

    try:
        replay = _open_replay(config, list(wanted))
    except ConfigError as exc:
        raise pytest.UsageError(f"teleconform replay: {exc}") from None
    try:
        replay.plan({api: ids for api, ids in wanted.items()})
    except ConfigError as exc:
        raise pytest.UsageError(f"teleconform replay: {exc}") from None
    finally:
        replay.finish()


def _open_replay(config: pytest.Config, apis: list[str]) -> Any:
    """The replay session of ``--teleconform-replay`` (the same as ``run --replay`` opens)."""
    from argparse import Namespace

    from teleconform.cassettes import open_session
    from teleconform.report._document import tool_info

    args = Namespace(
        replay=True,
        record=None,
        overwrite=False,
        workers=1,
        target=None,
        sandbox_fault=None,
        cassettes=config.getoption("--teleconform-cassettes"),
    )
    return open_session(args, apis=apis, seed=0, tool=tool_info())


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Keep each work unit on one worker, whatever the pytest version does to node ids.

    xdist's own loadgroup reads the group from a suffix it appends to node ids, which pytest
    9.2 no longer lets it write (pytest-xdist issue #1386): the groups would silently split,
    a unit would run on two workers, twice. This scheduler takes the unit from the clause id;
    other tests of the session are scheduled as loadgroup schedules them. It is used for
    ``--dist load`` (the default of ``-n``) and ``loadgroup``; other modes are left alone.
    """
    api = config.getoption("--teleconform-api", default=None)
    if not api or config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadGroupScheduling  # type: ignore[import-untyped]

    unit_of = unit_map(api, replay=_replaying(config))

    class UnitScheduling(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            cid = clause_of_nodeid(nodeid)
            if cid is not None and cid in unit_of:
                return f"teleconform::{unit_of[cid]}"
            return str(super()._split_scope(nodeid))

    return UnitScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "teleconform: a teleconform conformance clause")
    config.addinivalue_line(
        "markers",
        "teleconform_profile(name): sandbox profile of the teleconform_hcw/_leah fixtures",
    )
    # SHOULD client clauses are warnings (failures with --teleconform-strict), even in
    # sessions that turn warnings into errors
    config.addinivalue_line(
        "filterwarnings", "default::teleconform.client._fixtures.ClientClauseWarning"
    )
    # declared here too so that the marks are known when pytest-xdist is not loaded
    config.addinivalue_line("markers", "xdist_group(name): run these items on one xdist worker")
    seed = config.getoption("--teleconform-seed", default=None)
    spec = run_spec(config)
    if spec is not None:
        seed = spec_seed(spec)
    config.stash[_STATE] = {
        "seed": seed if seed is not None else random.SystemRandom().randrange(2**31),
        "started_at": now_rfc3339(),
        "lock": threading.Lock(),
        "sandboxes": {},
        "stop": threading.Event(),
    }
    config.stash[_ENTRIES] = {}
    if spec is not None:
        _serve_controller(config, spec)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(xdist controller) one rate limit for the session: the workers share a file."""
    config = node.config
    if not config.getoption("--teleconform-api") or RUN_SPEC in node.workerinput:
        return  # `teleconform run --workers` hands out its own file in the run spec
    state = config.stash[_STATE]
    with state["lock"]:
        if "rate_dir" not in state:
            import tempfile

            state["rate_dir"] = tempfile.TemporaryDirectory(prefix="teleconform-rate-")
            config.add_cleanup(state["rate_dir"].cleanup)
    node.workerinput[RATE_FILE] = str(Path(state["rate_dir"].name) / "rate")


def _rate_limiter(config: pytest.Config, api: str, mode: str) -> Any:
    """This process's limiter for live requests, shared with the other xdist workers."""
    from teleconform.runner._http import RateLimiter, SharedRateLimiter

    spec = run_spec(config)
    if spec is not None:
        rate = spec_rate_limit(spec, api)
    else:
        rate = config.getoption("--teleconform-rate-limit")
    if not rate or mode != "live":
        return None
    state = config.stash[_STATE]
    with state["lock"]:  # one limiter per process, kept for the session
        if "limiter" not in state:
            workerinput = getattr(config, "workerinput", None)
            shared = workerinput.get(RATE_FILE) if isinstance(workerinput, dict) else None
            if spec is not None:
                shared = str(Path(spec["control_dir"]) / "rate")
            state["limiter"] = SharedRateLimiter(rate, shared) if shared else RateLimiter(rate)
        return state["limiter"]


def run_spec(config: pytest.Config) -> dict[str, Any] | None:
    """The run settings a `teleconform run --workers` controller gave this xdist worker."""
    workerinput = getattr(config, "workerinput", None)
    spec = workerinput.get(RUN_SPEC) if isinstance(workerinput, dict) else None
    return spec if isinstance(spec, dict) else None


def _serve_controller(config: pytest.Config, spec: dict[str, Any]) -> None:
    """Worker of `teleconform run --workers`: stop on the controller's signal, then clean up.

    SIGTERM and SIGINT set the stop event instead of raising: the running check's next
    request is refused, later checks and units send nothing, and each unit's cleanup runs,
    as the threads of a single-process run do.
    """
    import signal

    stop: threading.Event = config.stash[_STATE]["stop"]

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    try:
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # pragma: no cover - xdist runs workers' tests in the main thread
        pass
    from teleconform._logging import setup_log

    setup_log(Path(spec["report_dir"]), append=True)
    pids = Path(spec["control_dir"]) / "pids"
    (pids / str(os.getpid())).touch()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect clause entries (from this process, or from xdist workers on the controller)."""
    for name, value in report.user_properties:
        if name == UNIT_PROPERTY and report.when == "call":
            _collect_unit(json.loads(str(value)))
        if name != PROPERTY or report.when != "call":
            continue
        entry = json.loads(str(value))
        config = _CONFIG.get("config")
        if config is None:
            return
        api = entry.pop("api")
        run = config.stash[_ENTRIES].setdefault(api, {"clauses": {}, "target": entry.pop("target")})
        entry.pop("target", None)
        run["clauses"][entry["id"]] = entry


_CONFIG: dict[str, pytest.Config] = {}
_FAILURES = pytest.StashKey[dict[str, list[dict[str, Any]]]]()  # api -> cleanup failures


def _collect_unit(unit: dict[str, Any]) -> None:
    """What a work unit could not clean up, for the report's left_behind."""
    config = _CONFIG.get("config")
    if config is not None:
        failures = config.stash.setdefault(_FAILURES, {})
        failures.setdefault(str(unit.get("api")), []).extend(unit.get("cleanup_failures") or [])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def collected_runs(config: pytest.Config) -> list[Run]:
    """The report's ``runs`` from every clause item reported in this session (catalogue order)."""
    order = {cid: i for i, cid in enumerate(load_catalogue())}
    runs: list[Run] = []
    for api in ("hcw", "leah"):
        run = config.stash[_ENTRIES].get(api)
        if run:
            clauses = sorted(run["clauses"].values(), key=lambda c: order.get(c["id"], 0))
            failures = config.stash.get(_FAILURES, {}).get(api, [])
            live = run["target"].get("mode") == "live"
            runs.append(
                run_entry(api, run["target"], clauses, left_behind(failures) if live else None)
            )
    return runs


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    report_dir = config.getoption("--teleconform-report-dir")
    if (
        hasattr(config, "workerinput")
        or not report_dir
        or not config.getoption("--teleconform-api")
    ):
        for sandbox in config.stash[_STATE]["sandboxes"].values():
            sandbox.stop()
        return
    from teleconform.report import write_reports
    from teleconform.report._document import ReportHeader, build_report

    runs = collected_runs(config)
    header = ReportHeader(
        seed=config.stash[_STATE]["seed"], started_at=config.stash[_STATE]["started_at"]
    )
    if runs and _replaying(config):
        header = _with_replay_notes(config, header, [run["api"] for run in runs])
    write_reports(build_report(header, runs), Path(report_dir))
    for sandbox in config.stash[_STATE]["sandboxes"].values():
        sandbox.stop()


def _with_replay_notes(
    config: pytest.Config, header: ReportHeader, apis: list[str]
) -> ReportHeader:
    """As `run --replay` reports them: the recorded seed and the notes (e.g. other versions)."""
    from teleconform._errors import ConfigError

    try:
        replay = _open_replay(config, apis)
    except ConfigError:
        return header  # the items said why
    replay.finish()
    return replace(header, seed=replay.seed, notes=tuple(replay.notes))


def _ensure_unit(item: ClauseItem) -> dict[str, Any]:
    """The unit's clause entries; the first item of a unit runs it."""
    session, unit = item.session, item.unit
    config = session.config
    units = session.stash.setdefault(_UNITS, {})
    if unit in units:
        return units[unit]
    ids = [i.clause_id for i in session.items if isinstance(i, ClauseItem) and i.unit == unit]
    api = unit.split("-", 1)[0]
    from teleconform.runner._http import TransportError
    from teleconform.runner._preflight import PreflightFailed, with_hint

    try:
        run = _run_unit(config, api, ids, unit)
    except (PreflightFailed, TransportError) as exc:
        # the target is unreachable or refused the credentials: every item of the unit says so
        units[unit] = {}
        message = with_hint(exc) if isinstance(exc, PreflightFailed) else str(exc)
        item.user_properties.append((REFUSED_PROPERTY, json.dumps({"api": api, "why": message})))
        raise ClauseFailed(f"{api} target refused or unusable: {message}") from None
    units[unit] = {c["id"]: {**c, "target": run["target"]} for c in run["clauses"]}
    workerinput = getattr(config, "workerinput", None)
    unit_info = {
        "api": api,
        "unit": unit,
        "worker": workerinput.get("workerid", "") if isinstance(workerinput, dict) else "",
        "clauses": sorted(ids),
        "requests_sent": run["requests_sent"],
        "elapsed_s": run["elapsed_s"],
        "created": run["created"],
        "cleanup_failures": run["cleanup_failures"],
    }
    item.user_properties.append((UNIT_PROPERTY, json.dumps(unit_info)))
    return units[unit]


def _run_unit(config: pytest.Config, api: str, ids: list[str], unit: str) -> Run:
    from teleconform.runner import RunSettings, run_api
    from teleconform.runner._needs import needs_from_env, safe_contacts
    from teleconform.runner._report_entry import run_to_json
    from teleconform.runner._targets import SandboxTarget, parse_targets

    state = config.stash[_STATE]
    spec = run_spec(config)
    if spec is not None:
        return run_to_json(_run_unit_for_controller(config, spec, api, ids, unit))
    if _replaying(config):
        return _replay_unit(config, api, ids)
    seed = int(state["seed"])
    targets = parse_targets(config.getoption("--teleconform-target"), [api])
    safe_email, safe_phone = safe_contacts(os.environ)
    ledger_dir = config.getoption("--teleconform-ledger-dir")
    if api in targets:
        base_url = targets[api]
        sandbox_target = config.getoption("--teleconform-sandbox-target")
        mode = "sandbox" if sandbox_target else "live"
        credentials = needs_from_env(os.environ, api)
        if sandbox_target and api == "leah":
            credentials["leah.webhook_events"] = "delivered by the sandbox"
    else:
        with state["lock"]:
            sandbox = state["sandboxes"].get(api)
            if sandbox is None:
                sandbox = state["sandboxes"][api] = SandboxTarget(api)
                sandbox.start()
        base_url, mode, credentials = sandbox.server.base_url, "sandbox", sandbox.credentials
    limiter = _rate_limiter(config, api, mode)
    settings = RunSettings(
        api=api,
        base_url=base_url,
        credentials=credentials,
        clauses=frozenset(ids),
        seed=seed,
        budget=config.getoption("--teleconform-budget"),
        mode=mode,
        writes_allowed=True if mode != "live" else config.getoption("--teleconform-allow-writes"),
        state={"safe_email": safe_email, "safe_phone": safe_phone},
        timeout_s=config.getoption("--teleconform-timeout"),
        rate_limiter=limiter,
        ledger_path=Path(ledger_dir) / f"ledger-{unit}.jsonl"
        if ledger_dir and mode == "live"
        else None,
        stream=unit,
    )
    return run_to_json(run_api(settings))


def _replay_unit(config: pytest.Config, api: str, ids: list[str]) -> Run:
    """Replay ``api`` as ``teleconform run --replay`` does: the whole recorded run, in order,
    with the recorded seed, budget and permissions; only the selected clauses are reported."""
    from teleconform._errors import ConfigError
    from teleconform.runner import RunSettings, run_api
    from teleconform.runner._needs import safe_contacts
    from teleconform.runner._report_entry import run_to_json

    try:
        replay = _open_replay(config, [api])
        replay.plan({api: set(ids)})
    except ConfigError as exc:
        raise ClauseFailed(f"teleconform replay: {exc}") from None
    try:
        config.stash[_STATE]["seed"] = replay.seed
        safe_email, safe_phone = safe_contacts(os.environ)
        settings = RunSettings(
            api=api,
            base_url=replay.base_url(api),
            credentials=replay.credentials(api),
            seed=replay.seed,
            budget=replay.budget,
            mode="replay",
            client=replay.client(api),
            clock=replay.clock(api),
            state={"safe_email": safe_email, "safe_phone": safe_phone, **replay.state(api)},
            timeout_s=config.getoption("--teleconform-timeout"),
            # the run id's form `teleconform run` uses, which a replay recognises and puts back
            run_id=f"tc-{uuid.uuid4().hex[:10]}",
            **replay.run_options(api),
        )
        result = run_api(settings)
    finally:
        replay.finish()
    run = run_to_json(result)
    run["clauses"] = replay.reported(api, run["clauses"])
    return run


def _run_unit_for_controller(
    config: pytest.Config, spec: dict[str, Any], api: str, ids: list[str], unit: str
) -> Any:
    """One work unit of a `teleconform run --workers` run, with the controller's settings."""
    from teleconform.runner import run_api

    stop: threading.Event = config.stash[_STATE]["stop"]
    if (Path(spec["control_dir"]) / "stop").exists():
        stop.set()  # the controller was signalled before this worker could be
    settings = spec_settings(spec, api, clauses=frozenset(ids), stop=stop)
    return run_api(
        # the stream: two units minting tokens in one second must not share a jti
        replace(settings, rate_limiter=_rate_limiter(config, api, settings.mode), stream=unit)
    )
