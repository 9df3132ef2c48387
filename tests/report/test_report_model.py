"""The report model: every kind of report.json fits one schema, and the model is that schema.

Each report kind (run, merged, webhooks check and listen, proxy, client) is produced by the
code that writes it, through `teleconform.report._document.build_report`, and validated against
tests/report/report.schema.json; the TypedDicts of `teleconform.report.model` must declare
exactly the keys (required and optional) that the schema does.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from teleconform.__main__ import main as teleconform_main
from teleconform.cli.report import main as merge_main
from teleconform.cli.webhooks import check_main
from teleconform.client import ValidatingSandbox
from teleconform.proxy import Proxy
from teleconform.report import model
from teleconform.report._document import ReportHeader, build_report, run_entry
from teleconform.sandbox import leah
from teleconform.sandbox._server import ThreadedServer
from teleconform.webhooks import WebhookListener
from teleconform.webhooks._report import Gate, webhook_report
from teleconform.webhooks.listen import clause_from_records

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).with_name("report.schema.json")).read_text(encoding="utf-8")
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
RUN_ARGS = ["--budget", "quick", "--seed", "5", "--clause", "LEAH-HYDRA-01", "-q"]


def _valid(report: Any) -> None:
    # through JSON, as a reader of report.json sees it
    doc = json.loads(json.dumps(report, default=str))
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def _totals_agree(report: Any) -> None:
    for run in report["runs"]:
        for verdict in ("pass", "fail", "skip", "error"):
            assert run["totals"][verdict] == sum(c["verdict"] == verdict for c in run["clauses"])
    for key in ("pass", "fail", "skip", "error", "waived"):
        assert report["totals"][key] == sum(r["totals"][key] for r in report["runs"])


# -- the model is the schema -------------------------------------------------------------------
TYPED = [
    "Report",
    "Tool",
    "Totals",
    "Run",
    "Target",
    "ClauseEntry",
    "Evidence",
    "EvidenceRequest",
    "EvidenceResponse",
    "Advisory",
    "WebhookCase",
    "LeftBehind",
    "WorkUnit",
    "MergedFrom",
]


@pytest.mark.parametrize("name", TYPED)
def test_each_typeddict_declares_the_schemas_keys(name: str) -> None:
    typed = getattr(model, name)
    assert typing.is_typeddict(typed)
    definition = SCHEMA["$defs"][name]
    assert set(typed.__required_keys__) == set(definition.get("required", [])), name
    assert set(typed.__required_keys__ | typed.__optional_keys__) == set(
        definition["properties"]
    ), name


def test_every_schema_definition_is_a_typeddict() -> None:
    assert set(SCHEMA["$defs"]) - {"timestamp"} == set(TYPED)


def test_the_schema_rejects_what_contract_forbids() -> None:
    good = build_report(
        ReportHeader(seed=1, started_at="2026-01-01T00:00:00+00:00"),
        [
            run_entry(
                "leah",
                {"mode": "sandbox", "base_url": "http://127.0.0.1:1"},
                [
                    {
                        "id": "LEAH-WH-01",
                        "level": "MUST",
                        "title": "t",
                        "verdict": "fail",
                        "waived": True,
                        "reason": "r",
                        "evidence": [],
                    }
                ],
            )
        ],
    )
    _valid(good)
    assert good["totals"] == {"pass": 0, "fail": 1, "skip": 0, "error": 0, "waived": 1}
    broken: list[tuple[str, Any]] = [
        ("no left_behind", lambda r: r["runs"][0].pop("left_behind")),
        ("unknown verdict", lambda r: r["runs"][0]["clauses"][0].update(verdict="ok")),
        ("waived pass", lambda r: r["runs"][0]["clauses"][0].update(verdict="pass")),
        ("no totals", lambda r: r.pop("totals")),
        ("stray key", lambda r: r.update(extra=1)),
        ("bad mode", lambda r: r["runs"][0]["target"].update(mode="mock")),
        ("bad time", lambda r: r.update(finished_at="yesterday")),
    ]
    for what, damage in broken:
        doc = json.loads(json.dumps(good))
        damage(doc)
        assert not VALIDATOR.is_valid(doc), what


# -- every kind of report ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_reports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two `run leah` report directories (the embedded sandbox), one with a failing clause."""
    out = []
    for name, extra in (("ok", []), ("fault", ["--sandbox-fault", "collection-type-paged"])):
        report_dir = tmp_path_factory.mktemp(name)
        code = teleconform_main(["run", "leah", *RUN_ARGS, *extra, "--report-dir", str(report_dir)])
        assert code == (0 if name == "ok" else 1)
        out.append(report_dir)
    return out


def test_a_run_report(run_reports: list[Path]) -> None:
    for report_dir in run_reports:
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
        _valid(report)
        _totals_agree(report)
        # the runner's run entries, built again through the one builder, fit the model too
        rebuilt = build_report(
            ReportHeader(seed=report["seed"], started_at=report["started_at"]), report["runs"]
        )
        _valid(rebuilt)
        assert rebuilt["totals"] == report["totals"]


def test_a_merged_report(run_reports: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    assert merge_main([*map(str, run_reports), "--report-dir", str(out), "-q"]) == 1
    merged = json.loads((out / "report.json").read_text(encoding="utf-8"))
    _valid(merged)
    _totals_agree(merged)
    assert [m["source"] for m in merged["merged_from"]] == [str(p) for p in run_reports]
    (clause,) = merged["runs"][0]["clauses"]
    assert clause["verdict"] == "fail"  # the worse of pass and fail


def _receiver(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def test_a_webhooks_check_report(tmp_path: Path) -> None:
    app = Starlette(routes=[Route("/hook", _receiver, methods=["POST"])])
    with ThreadedServer(app) as server:
        code = check_main([server.base_url + "/hook", "--report-dir", str(tmp_path), "--seed", "3"])
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    _valid(report)
    _totals_agree(report)
    assert report["command"] == "webhooks check" and list(report)[:3] == [
        "schema_version",
        "tool",
        "command",
    ]


def test_a_webhooks_listen_report() -> None:
    body = {"event": "appointment.guest.online", "payload": {"externalId": "e-1"}}
    with WebhookListener(schema=None) as listener:
        assert httpx.post(listener.url + "/hook", json=body, timeout=10).status_code == 200
        entry = clause_from_records(listener.url, listener.records)
    report = webhook_report(
        command="webhooks listen",
        seed=1,
        started_at="2026-01-01T00:00:00+00:00",
        target={"mode": "live", "base_url": listener.url, "role": "webhook listener"},
        entry=entry,
        gate=Gate(),
    )
    _valid(report)
    _totals_agree(report)
    assert report["runs"][0]["clauses"][0]["id"] == "LEAH-WH-01"


def test_the_proxy_reports() -> None:
    app = leah.create_app()
    with ThreadedServer(app) as upstream:
        proxy = Proxy(upstream.base_url, credentials={})
        with proxy, httpx.Client(base_url=proxy.base_url, timeout=30) as client:
            assert client.get("/api/offices").status_code == 401  # no LEAH-AUTH-TOKEN
            client_report, server_report = proxy.stop()
    for report in (client_report, server_report):
        _valid(report)
        _totals_agree(report)
    assert client_report["runs"][0]["target"]["mode"] == "client"
    assert server_report["runs"][0]["requests_seen"] == 1


def test_the_client_report() -> None:
    with (
        ValidatingSandbox("leah") as sandbox,
        httpx.Client(base_url=sandbox.base_url, timeout=30) as client,
    ):
        client.get("/api/offices")
        report = sandbox.report()
    _valid(report)
    _totals_agree(report)
    assert report["seed"] is None and report["runs"][0]["target"]["mode"] == "client"
