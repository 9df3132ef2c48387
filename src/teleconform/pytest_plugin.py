"""pytest plugin: run teleconform's clauses inside a host pytest session, one item per clause.

Activated by ``--teleconform-api``; ``-k HCW-SSO`` selects clauses like any test id. Verdicts
and reports are the same as ``teleconform run`` (it calls the same runner, not the CLI).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .catalogue import load_catalogue

_RESULTS = pytest.StashKey[dict[str, dict[str, Any]]]()
_STATE = pytest.StashKey[dict[str, Any]]()


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
        "--teleconform-replay", action="store_true", help="replay the shipped cassettes"
    )
    group.addoption("--teleconform-cassettes", default=None, metavar="DIR")
    group.addoption("--teleconform-seed", type=int, default=None)
    group.addoption("--teleconform-budget", choices=["quick", "standard", "deep"], default="quick")
    group.addoption("--teleconform-allow-writes", action="store_true")
    group.addoption("--teleconform-report-dir", default=None, metavar="DIR")
    group.addoption("--teleconform-strict", action="store_true", help="SHOULD findings fail too")


class ClauseFailed(Exception):
    """A clause's verdict was fail (or error)."""


class _Clauses(pytest.Collector):
    def collect(self) -> Iterator[pytest.Item]:  # pragma: no cover - items are added directly
        return iter(())


class ClauseItem(pytest.Item):
    """One conformance clause; its verdict comes from the session's shared run."""

    def __init__(self, *, clause_id: str, api: str, level: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clause_id = clause_id
        self.api = api
        self.level = level
        self.add_marker(pytest.mark.teleconform)

    def runtest(self) -> None:
        results = _ensure_run(self.session)
        result = results.get(self.clause_id)
        if result is None:
            raise ClauseFailed(f"{self.clause_id}: no verdict (its API did not run)")
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
    parent = _Clauses.from_parent(session, name="teleconform")
    for clause in load_catalogue().values():
        if api in ("all", clause.api):
            items.append(
                ClauseItem.from_parent(
                    parent, name=clause.id, clause_id=clause.id, api=clause.api, level=clause.level
                )
            )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "teleconform: a teleconform conformance clause")


def _ensure_run(session: pytest.Session) -> dict[str, dict[str, Any]]:
    if _RESULTS in session.stash:
        return session.stash[_RESULTS]
    config = session.config
    selected: dict[str, list[str]] = {}
    for item in session.items:
        if isinstance(item, ClauseItem):
            selected.setdefault(item.api, []).append(item.clause_id)
    results: dict[str, dict[str, Any]] = {}
    session.stash[_RESULTS] = results
    runs = _run_selected(config, selected)
    for run in runs:
        for clause in run["clauses"]:
            results[clause["id"]] = clause
    report_dir = config.getoption("--teleconform-report-dir")
    if report_dir:
        from ._run import tool_info, totals_of
        from .report import write_reports

        report = {
            "schema_version": 1,
            "tool": tool_info(),
            "seed": config.stash[_STATE]["seed"],
            "started_at": config.stash[_STATE]["started_at"],
            "finished_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "totals": totals_of(runs),
            "runs": runs,
        }
        write_reports(report, Path(report_dir))
    return results


def _run_selected(config: pytest.Config, selected: dict[str, list[str]]) -> list[dict[str, Any]]:
    import os

    from ._needs import needs_from_env, safe_contacts
    from ._run import run_to_json
    from ._targets import SandboxTarget, parse_targets
    from .runner import run_api

    seed = config.getoption("--teleconform-seed")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    targets = parse_targets(config.getoption("--teleconform-target"), list(selected))
    safe_email, safe_phone = safe_contacts(os.environ)
    runs: list[dict[str, Any]] = []
    session_state = {
        "seed": seed,
        "started_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    for api, ids in selected.items():
        sandbox = None
        client = clock = None
        try:
            if config.getoption("--teleconform-replay"):
                from argparse import Namespace

                from .cassettes import open_session

                args = Namespace(
                    replay=True,
                    record=None,
                    overwrite=False,
                    cassettes=config.getoption("--teleconform-cassettes"),
                    workers=1,
                )
                cassettes = open_session(args, apis=[api], seed=seed, tool={})
                base_url, mode = cassettes.base_url(api), "replay"
                credentials = cassettes.credentials(api)
                client, clock, seed = cassettes.client(api), cassettes.clock(api), cassettes.seed
            elif api in targets:
                base_url, mode = targets[api], "live"
                credentials = needs_from_env(os.environ, api)
            else:
                sandbox = SandboxTarget(api)
                base_url, mode = sandbox.start(), "sandbox"
                credentials = sandbox.credentials
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
                writes_allowed=True
                if mode != "live"
                else config.getoption("--teleconform-allow-writes"),
                state={"safe_email": safe_email, "safe_phone": safe_phone},
            )
            runs.append(run_to_json(result))
        finally:
            if sandbox is not None:
                sandbox.stop()
    session_state["seed"] = seed
    config.stash[_STATE] = session_state
    return runs
