"""Round trip: a sandbox with fault F -> report.json -> `drift` -> a sandbox with the drifted
profile -> the same clauses fail. For every sandbox fault that declares a clause, both APIs.

Runtime is bounded as the fault matrix bounds it (tests/suites/test_*_faults.py): one served
sandbox per API, the fault chosen per request with X-Teleconform-Fault, budget "quick". The
first run selects F's clauses and those of every fault sharing a (non-generated) clause with
F, so the report also holds neighbouring clauses that pass and drift must not break them;
the second run selects only the clauses that failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from teleconform.cli.drift import drift_command
from teleconform.drift import SOFT
from teleconform.report._document import ReportHeader, build_report
from teleconform.report.model import Report
from teleconform.runner import ApiRun, RunSettings, run_api, sandbox_credentials
from teleconform.runner._report_entry import run_to_json
from teleconform.runner._targets import resolve_sandbox_profile
from teleconform.sandbox import hcw, leah
from teleconform.sandbox._faults import Fault
from teleconform.sandbox._profiles import Profile
from teleconform.sandbox._server import ThreadedServer

MODULES = {"hcw": hcw, "leah": leah}
# Stops the run at the preflight (exit 3): no clause verdict to drift from.
BLOCKING = {"valid-key-refused"}


class Served:
    def __init__(
        self, api: str, base_url: str, client: httpx.Client, credentials: dict[str, str]
    ) -> None:
        self.api, self.base_url, self.client, self.credentials = api, base_url, client, credentials


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, Served]]:
    """One served sandbox per API (each serves every fault through the header)."""
    with ExitStack() as stack:
        found: dict[str, Served] = {}
        for api, module in MODULES.items():
            app = module.create_app()
            server = stack.enter_context(ThreadedServer(app))
            client = stack.enter_context(httpx.Client(timeout=30))
            found[api] = Served(api, server.base_url, client, sandbox_credentials(api, app))
        yield found


def _bare_evidence(response: httpx.Response) -> dict[str, Any]:
    # Statuses and URLs are what drift reads besides the reason; redacting the 15 MB upload
    # bodies on every run would triple the time (evidence redaction has its own tests).
    return {
        "request": {"method": response.request.method, "url": str(response.request.url)},
        "response": {"status": response.status_code},
    }


def _run(s: Served, faults: list[str], clauses: set[str]) -> ApiRun:
    headers = {"X-Teleconform-Fault": ",".join(faults)} if faults else None
    return run_api(
        RunSettings(
            s.api,
            s.base_url,
            s.credentials,
            client=s.client,
            clauses=sorted(clauses),
            extra_headers=headers,
            seed=1,
            budget="quick",
            mode="sandbox",
            evidence=_bare_evidence,
        )
    )  # type: ignore[arg-type]


def _report(run: ApiRun) -> Report:
    header = ReportHeader(
        seed=1, started_at="2026-12-07T21:00:00Z", finished_at="2026-12-07T21:01:00Z"
    )
    return build_report(header, [run_to_json(run)])


def _neighbourhood(name: str, table: dict[str, Fault]) -> set[str]:
    hard = set(table[name].clauses) - SOFT
    related = [f for f in table.values() if set(f.clauses) & hard]
    return set(table[name].clauses).union(*(set(f.clauses) for f in related))


def _failing(run: ApiRun) -> set[str]:
    return {c for c, v in run.verdicts.items() if v == "fail"}


def _drift(tmp_path: Path, run: ApiRun) -> tuple[Profile, dict[str, Any]]:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(_report(run)), encoding="utf-8")
    out = tmp_path / "profile.yaml"
    assert drift_command(str(report), str(out)) == 0
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    # The drifted file loads as `teleconform sandbox --profile FILE` loads it (faults checked).
    profile = resolve_sandbox_profile(run.api, str(out))
    assert profile is not None
    return profile, document


def _faults(api: str) -> list[str]:
    table = MODULES[api].FAULTS
    return sorted(n for n, f in table.items() if f.clauses and n not in BLOCKING)


CASES = [(api, name) for api in ("hcw", "leah") for name in _faults(api)]


@pytest.mark.parametrize(("api", "fault"), CASES, ids=[f"{a}:{f}" for a, f in CASES])
def test_drifted_profile_fails_the_same_clauses(
    sandboxes: dict[str, Served], api: str, fault: str, tmp_path: Path
) -> None:
    served = sandboxes[api]
    table = MODULES[api].FAULTS
    first = _run(served, [fault], _neighbourhood(fault, table))
    failing = _failing(first)
    assert failing, f"{fault}: nothing failed, the matrix says {sorted(table[fault].clauses)}"
    profile, document = _drift(tmp_path, first)
    assert not document["not_reproduced"], document["not_reproduced"]
    assert profile.faults, document
    assert set(document["evidence"]) == set(profile.faults)
    second = _run(served, sorted(profile.faults), failing)
    assert _failing(second) == failing, (sorted(profile.faults), second.verdicts)
