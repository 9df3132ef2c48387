"""The Leah fault matrix: each sandbox fault makes exactly the clauses it declares fail.

One sandbox app, served over loopback HTTP (about four times faster per run than the
in-process TestClient), serves every run; the fault is chosen per request with the
X-Teleconform-Fault header, and the whole Leah API runs once per fault with budget "quick".

The scenario matrix runs the scenario suites (every suites/leah module except the property
tests, which serve LEAH-GEN-01, and webhooks.py, which serves LEAH-WH-01/02 and has its own
tests). The property tests join in ``test_gen01_faults_are_found_by_property_tests`` for the
faults that declare LEAH-GEN-01 (they cost about 1.5 s a run).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from teleconform.catalogue import load_catalogue
from teleconform.runner import (
    ApiRun,
    PreflightFailed,
    RunSettings,
    load_checks,
    run_api,
    sandbox_credentials,
)
from teleconform.sandbox._profiles import DEFAULT_PROFILE
from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.leah import FAULTS, PROFILES, create_app

REPO = Path(__file__).resolve().parents[2]
SUITES = REPO / "suites"
NOT_SCENARIOS = ("properties.py", "webhooks.py")
GEN01 = "LEAH-GEN-01"
WEBHOOK_CLAUSES = frozenset({"LEAH-WH-01", "LEAH-WH-02"})
# Stops the run at the preflight (the contract's exit 3): nothing else can be verified.
BLOCKING = frozenset({"valid-key-refused"})
# Partial access: LEAH-AUTH-02 fails, the run goes on, the checks needing offices are error.
PARTIAL = frozenset({"key-refused-on-offices"})
# Faults a profile's reading hides by design, with why (the fault matrix on profiles skips
# these pairs; each fault still runs on some other non-default profile).
HIDDEN_BY = {
    "last-link-wrong": (
        {"api-platform-4", "small-pages", "small-pages-trailing-empty"},
        "the wrong last link shows only with an honoured itemsPerPage on "
        "lists that fit on one default page",
    ),
    "next-drops-filter": (
        {"api-platform-4"},
        "with itemsPerPage ignored and 30 per page the filtered list fits "
        "on one page: there is no link to lose the filter",
    ),
}
OTHER_PROFILES = sorted(set(PROFILES) - {DEFAULT_PROFILE})
# The scenario matrix leaves webhooks.py out: these faults run with it, on these profiles.
WEBHOOK_FAULTS_ON = {
    "webhook-payload-missing-externalId": "api-platform-4",
    "webhook-bad-event-name": "independent",
}


class Sandbox:
    def __init__(
        self, base_url: str, client: httpx.Client, credentials: dict[str, str], app: Any
    ) -> None:
        self.base_url = base_url
        self.client = client
        self.credentials = credentials
        self.app = app


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    app = create_app()
    with ThreadedServer(app) as server, httpx.Client(timeout=30) as client:
        yield Sandbox(server.base_url, client, sandbox_credentials("leah", app), app)


@pytest.fixture(scope="module")
def scenario_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A suites tree with the Leah scenario modules only."""
    root = tmp_path_factory.mktemp("suites")
    (root / "leah").mkdir()
    for path in (SUITES / "leah").glob("*.py"):
        if path.name not in NOT_SCENARIOS:
            shutil.copy(path, root / "leah" / path.name)
    return root


@pytest.fixture(scope="module")
def served(scenario_root: Path) -> frozenset[str]:
    """Clauses the scenario checks declare."""
    return frozenset(c for check in load_checks("leah", scenario_root) for c in check.clauses)


def _bare_evidence(response: httpx.Response) -> dict[str, Any]:
    # Evidence redaction has its own tests; the matrix judges verdicts, and redacting the
    # 15 MB upload bodies on every run would triple its time.
    return {
        "request": {"method": response.request.method, "url": str(response.request.url)},
        "response": {"status": response.status_code},
    }


def _run(
    sandbox: Sandbox,
    root: Path | None,
    fault: str | None,
    clauses: frozenset[str],
    *,
    full_evidence: bool = False,
) -> ApiRun:
    headers = {"X-Teleconform-Fault": fault} if fault else None
    return run_api(
        RunSettings(
            "leah",
            sandbox.base_url,
            sandbox.credentials,
            client=sandbox.client,
            clauses=sorted(clauses),
            extra_headers=headers,
            seed=1,
            budget="quick",
            mode="sandbox",
            suites_root=root,
            evidence=None if full_evidence else _bare_evidence,
        )
    )  # type: ignore[arg-type]


def _show(run: ApiRun, ids: set[str]) -> str:
    return "\n".join(f"{c.id} {c.verdict}: {c.reason[:400]}" for c in run.clauses if c.id in ids)


def test_scenarios_serve_every_leah_clause_but_gen01_and_webhooks(served: frozenset[str]) -> None:
    leah = {cid for cid, c in load_catalogue().items() if c.api == "leah"}
    assert served == leah - WEBHOOK_CLAUSES - {GEN01}


def test_clean_sandbox_passes_every_served_clause(
    sandbox: Sandbox, scenario_root: Path, served: frozenset[str]
) -> None:
    run = _run(sandbox, scenario_root, None, served, full_evidence=True)
    not_passing = {c for c, v in run.verdicts.items() if v != "pass"}
    assert not not_passing, _show(run, not_passing)
    assert set(run.verdicts) == served
    # Appointments are cancelled by the suite's cleaner; transfers cannot be deleted through
    # the API (they expire after 7 days), so the ledger keeps them without a cleanup.
    assert {e["kind"] for e in run.created} == {"appointment", "transfer"}
    assert all(f["kind"] == "transfer" and f["cleanup"] is None for f in run.cleanup_failures)
    appointments = sandbox.app.state.leah.state.appointments
    assert appointments and all(a.status == "cancelled" for a in appointments.values())
    assert run.clauses[0].evidence or any(c.evidence for c in run.clauses)


@pytest.mark.parametrize("fault", sorted(set(FAULTS) - BLOCKING - PARTIAL))
def test_fault_fails_exactly_its_clauses(
    sandbox: Sandbox, scenario_root: Path, served: frozenset[str], fault: str
) -> None:
    run = _run(sandbox, scenario_root, fault, served)
    declared = set(FAULTS[fault].clauses)
    assert declared <= set(load_catalogue()), "a fault names a clause the catalogue lacks"
    failing = {c for c, v in run.verdicts.items() if v == "fail"}
    assert failing == declared & served, _show(run, failing ^ (declared & served))
    others = {c for c, v in run.verdicts.items() if c not in declared and v != "pass"}
    assert not others, _show(run, others)


def test_refused_key_stops_the_run_before_any_clause(
    sandbox: Sandbox, scenario_root: Path, served: frozenset[str]
) -> None:
    assert FAULTS["valid-key-refused"].clauses == {"LEAH-AUTH-02"}
    with pytest.raises(
        PreflightFailed, match="answered 401 with TELECONFORM_LEAH_API_KEY: check the key"
    ):
        _run(sandbox, scenario_root, "valid-key-refused", served)


def test_partial_access_fails_auth02_with_evidence_and_the_run_goes_on(
    sandbox: Sandbox, scenario_root: Path, served: frozenset[str]
) -> None:
    assert FAULTS["key-refused-on-offices"].clauses == {"LEAH-AUTH-02"}
    run = _run(sandbox, scenario_root, "key-refused-on-offices", served, full_evidence=True)
    auth02 = next(c for c in run.clauses if c.id == "LEAH-AUTH-02")
    assert auth02.verdict == "fail" and "partial access" in auth02.reason
    assert [
        (e["request"]["url"].rsplit("/", 1)[1], e["response"]["status"]) for e in auth02.evidence
    ] == [("offices", 403)]
    verdicts = run.verdicts
    assert {c for c, v in verdicts.items() if v == "fail"} == {"LEAH-AUTH-02"}
    # what does not need the office list still runs and passes
    assert {"LEAH-AUTH-01", "LEAH-HCW-01", "LEAH-HCW-02", "LEAH-TRF-01", "LEAH-TRF-06"} <= {
        c for c, v in verdicts.items() if v == "pass"
    }
    # what needs it cannot be judged: error (a precondition), never a verdict on the server
    assert verdicts["LEAH-OFF-01"] == "error" and verdicts["LEAH-APT-01"] == "error"


def test_partial_access_is_exit_1_and_a_refused_key_exit_3(tmp_path: Path) -> None:
    from teleconform.__main__ import main

    common = ["run", "leah", "--clause", "LEAH-AUTH-02", "--clause", "LEAH-HCW-01", "--seed", "1"]
    partial = main(
        [
            *common,
            "--sandbox-fault",
            "key-refused-on-offices",
            "--report-dir",
            str(tmp_path / "partial"),
        ]
    )
    assert partial == 1
    report = json.loads((tmp_path / "partial" / "report.json").read_text(encoding="utf-8"))
    clauses = {c["id"]: c for c in report["runs"][0]["clauses"]}
    assert clauses["LEAH-AUTH-02"]["verdict"] == "fail" and clauses["LEAH-AUTH-02"]["evidence"]
    assert clauses["LEAH-HCW-01"]["verdict"] == "pass"
    refused = main(
        [*common, "--sandbox-fault", "valid-key-refused", "--report-dir", str(tmp_path / "refused")]
    )
    assert refused == 3


def _profile_of(index: int, fault: str) -> str:
    """The non-default profile fault number ``index`` runs on (round robin, skipping the
    profiles whose reading hides it), so every fault and every profile take part."""
    hidden = HIDDEN_BY.get(fault, (set(), ""))[0]
    candidates = [p for p in OTHER_PROFILES if p not in hidden]
    return candidates[index % len(candidates)]


MATRIX_ON_PROFILES = [
    (fault, _profile_of(i, fault))
    for i, fault in enumerate(sorted(set(FAULTS) - BLOCKING - PARTIAL - set(WEBHOOK_FAULTS_ON)))
]


@pytest.fixture(scope="module")
def profile_sandboxes() -> Iterator[dict[str, Sandbox]]:
    """One served sandbox per non-default profile."""
    with ExitStack() as stack:
        client = stack.enter_context(httpx.Client(timeout=30))
        found = {}
        for name in OTHER_PROFILES:
            app = create_app(profile=name)
            server = stack.enter_context(ThreadedServer(app))
            found[name] = Sandbox(server.base_url, client, sandbox_credentials("leah", app), app)
        yield found


def test_the_fault_matrix_covers_every_non_default_profile() -> None:
    assert {profile for _, profile in MATRIX_ON_PROFILES} == set(OTHER_PROFILES)
    assert all(
        profile not in HIDDEN_BY.get(fault, (set(), ""))[0] for fault, profile in MATRIX_ON_PROFILES
    )


@pytest.mark.parametrize(("fault", "profile"), MATRIX_ON_PROFILES)
def test_fault_fails_exactly_its_clauses_on_a_profile(
    profile_sandboxes: dict[str, Sandbox],
    scenario_root: Path,
    served: frozenset[str],
    fault: str,
    profile: str,
) -> None:
    run = _run(profile_sandboxes[profile], scenario_root, fault, served)
    declared = set(FAULTS[fault].clauses)
    failing = {c for c, v in run.verdicts.items() if v == "fail"}
    assert failing == declared & served, _show(run, failing ^ (declared & served))
    others = {c for c, v in run.verdicts.items() if c not in declared and v != "pass"}
    assert not others, _show(run, others)


def test_webhook_faults_are_all_listed() -> None:
    assert set(WEBHOOK_FAULTS_ON) == {
        f for f, spec in FAULTS.items() if spec.clauses & WEBHOOK_CLAUSES
    }


@pytest.mark.parametrize(("fault", "profile"), sorted(WEBHOOK_FAULTS_ON.items()))
def test_webhook_fault_fails_its_clause_on_a_profile(fault: str, profile: str) -> None:
    """The scenario matrix leaves webhooks.py out; its faults run here, with the listener."""
    app = create_app(profile=profile, faults=[fault], webhook_backoff=0.01)
    with ThreadedServer(app) as server, httpx.Client(timeout=30) as client:
        run = run_api(
            RunSettings(
                "leah",
                server.base_url,
                sandbox_credentials("leah", app),
                client=client,
                clauses=sorted(FAULTS[fault].clauses),
                seed=1,
                budget="quick",
                mode="sandbox",
            )
        )
    assert {c for c, v in run.verdicts.items() if v == "fail"} == set(FAULTS[fault].clauses)


def test_refused_key_stops_the_run_on_a_profile(
    profile_sandboxes: dict[str, Sandbox], scenario_root: Path, served: frozenset[str]
) -> None:
    with pytest.raises(PreflightFailed, match="check the key"):
        _run(profile_sandboxes["small-pages"], scenario_root, "valid-key-refused", served)


def test_partial_access_on_a_profile(
    profile_sandboxes: dict[str, Sandbox], scenario_root: Path, served: frozenset[str]
) -> None:
    run = _run(profile_sandboxes["api-platform-4"], scenario_root, "key-refused-on-offices", served)
    assert {c for c, v in run.verdicts.items() if v == "fail"} == {"LEAH-AUTH-02"}


# GEN-01 breakages the property tests do not reach at budget "quick": they send neither a
# malformed office IRI (their positive bodies get a real office) nor a cancelling PATCH.
NOT_REACHED_AT_QUICK = frozenset({"bad-office-500", "cancel-returns-204"})


def _gen01_findings(run: ApiRun) -> list[str]:
    result = next(c for c in run.clauses if c.id == GEN01)
    return [o.message for o in result.outcomes if o.verdict == "fail"]


@pytest.mark.slow
def test_gen01_faults_are_found_by_property_tests(sandbox: Sandbox) -> None:
    """With the property tests (the default suites tree), each fault that declares
    LEAH-GEN-01 is found by them, and the clean sandbox gives them nothing to report."""
    clauses = frozenset({GEN01})
    clean = _run(sandbox, None, None, clauses)
    assert not _gen01_findings(clean)
    missed = {}
    for fault in sorted(f for f, spec in FAULTS.items() if GEN01 in spec.clauses):
        if fault in NOT_REACHED_AT_QUICK:
            continue
        run = _run(sandbox, None, fault, clauses)
        if not _gen01_findings(run):
            missed[fault] = _show(run, {GEN01})
    assert not missed, missed


def test_paging_bounds_of_the_spec_are_the_sandbox_bounds() -> None:
    """The clean sandbox refuses (400) exactly the paging values the spec calls invalid,
    so negative property cases are refused and positive ones accepted."""
    import yaml
    from starlette.testclient import TestClient

    parameters = yaml.safe_load((REPO / "specs" / "leah.openapi.yaml").read_text())["components"][
        "parameters"
    ]
    page, per_page = parameters["Page"]["schema"], parameters["ItemsPerPage"]["schema"]
    app = create_app()
    key = {"LEAH-AUTH-TOKEN": sandbox_credentials("leah", app)["leah.api_key"]}
    client = TestClient(app)

    def status(query: str) -> int:
        return client.get(f"/api/offices?{query}", headers=key).status_code

    assert status(f"page={page['maximum']}") == 200
    assert status(f"itemsPerPage={per_page['maximum']}") == 200
    assert status(f"itemsPerPage={per_page['minimum']}") == 200
    for invalid in (
        f"page={page['maximum'] + 1}",
        f"page={page['minimum'] - 1}",
        "page=6.418960770967563e%2B16",  # PHP 7.1+ reads 64189607709675630
        f"itemsPerPage={per_page['maximum'] + 1}",
        "itemsPerPage=null",
        "itemsPerPage=true",
        "itemsPerPage=1.5",
        "itemsPerPage=-1",
    ):
        assert status(invalid) == 400, invalid
