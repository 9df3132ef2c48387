"""pytest plugin: run teleconform's clauses inside a host pytest session, one item per clause.

Activated by ``--teleconform-api``; ``-k HCW-SSO`` selects clauses like any test id. Verdicts
and reports are the same as ``teleconform run`` (it calls the same runner, not the CLI).

Items are grouped by work unit (suite modules that share no clause, see
``teleconform.runner.work_units``) with ``xdist_group`` marks, so that under pytest-xdist
(``-n N --dist loadgroup``) a create-then-read chain stays on one worker. A unit runs once,
when its first item runs; every item carries its clause's report entry in
``user_properties`` so that the controller can merge one report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .catalogue import load_catalogue

_UNITS = pytest.StashKey[dict[str, dict[str, Any]]]()  # unit -> {clause id: entry}
_STATE = pytest.StashKey[dict[str, Any]]()
_ENTRIES = pytest.StashKey[dict[str, dict[str, Any]]]()  # (controller) api -> run entry
PROPERTY = "teleconform-clause"


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
        help="requests per second of this process (live targets)",
    )
    group.addoption("--teleconform-timeout", type=float, default=10.0, metavar="S")
    group.addoption("--teleconform-ledger-dir", default=None, metavar="DIR")
    group.addoption("--teleconform-report-dir", default=None, metavar="DIR")
    group.addoption("--teleconform-strict", action="store_true", help="SHOULD findings fail too")


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
        result = _ensure_unit(self.session, self.unit).get(self.clause_id)
        if result is None:
            raise ClauseFailed(f"{self.clause_id}: no verdict (its API did not run)")
        self.user_properties.append((PROPERTY, json.dumps({"api": self.api, **result})))
        verdict, reason = result["verdict"], result["reason"]
        strict = self.config.getoption("--teleconform-strict")
        if verdict == "skip":
            pytest.skip(reason)
        if verdict in ("fail", "error") and not result.get("waived"):
            if self.level == "MUST" or strict:
                raise ClauseFailed(f"{self.clause_id} {verdict}: {reason}")
            pytest.xfail(f"SHOULD finding: {reason}")

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
    from .runner import work_units

    only = set(config.getoption("--teleconform-clause"))
    parent = _Clauses.from_parent(session, name="teleconform")
    unit_of: dict[str, str] = {}
    for name in ("hcw", "leah"):
        if api in ("all", name):
            for index, unit in enumerate(work_units(name, None)):
                unit_of.update({cid: f"{name}-unit-{index}" for cid in unit})
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "teleconform: a teleconform conformance clause")
    # declared here too so that the marks are known when pytest-xdist is not loaded
    config.addinivalue_line("markers", "xdist_group(name): run these items on one xdist worker")
    seed = config.getoption("--teleconform-seed", default=None)
    config.stash[_STATE] = {
        "seed": seed if seed is not None else random.SystemRandom().randrange(2**31),
        "started_at": _now(),
        "lock": threading.Lock(),
        "sandboxes": {},
    }
    config.stash[_ENTRIES] = {}


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect clause entries (from this process, or from xdist workers on the controller)."""
    for name, value in report.user_properties:
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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def collected_runs(config: pytest.Config) -> list[dict[str, Any]]:
    """The report's ``runs`` from every clause item reported in this session (catalogue order)."""
    order = {cid: i for i, cid in enumerate(load_catalogue())}
    runs = []
    for api in ("hcw", "leah"):
        run = config.stash[_ENTRIES].get(api)
        if run:
            clauses = sorted(run["clauses"].values(), key=lambda c: order.get(c["id"], 0))
            runs.append({"api": api, "target": run["target"], "clauses": clauses, "totals": {}})
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
    from ._run import tool_info, totals_of
    from .report import write_reports

    runs = collected_runs(config)
    report = {
        "schema_version": 1,
        "tool": tool_info(),
        "seed": config.stash[_STATE]["seed"],
        "started_at": config.stash[_STATE]["started_at"],
        "finished_at": _now(),
        "totals": totals_of(runs),
        "runs": runs,
    }
    write_reports(report, Path(report_dir))
    for sandbox in config.stash[_STATE]["sandboxes"].values():
        sandbox.stop()


def _ensure_unit(session: pytest.Session, unit: str) -> dict[str, Any]:
    config = session.config
    units = session.stash.setdefault(_UNITS, {})
    if unit in units:
        return units[unit]
    ids = [i.clause_id for i in session.items if isinstance(i, ClauseItem) and i.unit == unit]
    api = unit.split("-", 1)[0]
    from .runner import PreflightFailed

    try:
        run = _run_unit(config, api, ids, unit)
    except PreflightFailed as exc:
        # the target is unreachable or refused the credentials: every item of the unit says so
        units[unit] = {}
        raise ClauseFailed(f"{api} target refused or unusable: {exc}") from None
    units[unit] = {c["id"]: {**c, "target": run["target"]} for c in run["clauses"]}
    return units[unit]


def _run_unit(config: pytest.Config, api: str, ids: list[str], unit: str) -> dict[str, Any]:
    from ._http import RateLimiter
    from ._needs import needs_from_env, safe_contacts
    from ._run import run_to_json
    from ._targets import SandboxTarget, parse_targets
    from .runner import run_api

    state = config.stash[_STATE]
    seed = int(state["seed"])
    targets = parse_targets(config.getoption("--teleconform-target"), [api])
    safe_email, safe_phone = safe_contacts(os.environ)
    client = clock = None
    ledger_dir = config.getoption("--teleconform-ledger-dir")
    if config.getoption("--teleconform-replay"):
        from argparse import Namespace

        from .cassettes import open_session

        args = Namespace(
            replay=True,
            record=None,
            overwrite=False,
            workers=1,
            cassettes=config.getoption("--teleconform-cassettes"),
        )
        cassettes = open_session(args, apis=[api], seed=seed, tool={})
        base_url, mode = cassettes.base_url(api), "replay"
        credentials = cassettes.credentials(api)
        client, clock, seed = cassettes.client(api), cassettes.clock(api), cassettes.seed
        state["seed"] = seed
    elif api in targets:
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
    rate = config.getoption("--teleconform-rate-limit")
    result = run_api(
        api,
        base_url,
        credentials,
        clauses=ids,
        seed=seed,
        budget=config.getoption("--teleconform-budget"),
        mode=mode,
        client=client,
        clock=clock,
        writes_allowed=True if mode != "live" else config.getoption("--teleconform-allow-writes"),
        state={"safe_email": safe_email, "safe_phone": safe_phone},
        timeout_s=config.getoption("--teleconform-timeout"),
        rate_limiter=RateLimiter(rate) if rate and mode == "live" else None,
        ledger_path=Path(ledger_dir) / f"ledger-{unit}.jsonl"
        if ledger_dir and mode == "live"
        else None,
        stream="" if mode == "replay" else unit,  # a replay needs the recording's stream
    )
    return run_to_json(result)
