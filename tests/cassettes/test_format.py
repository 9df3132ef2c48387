"""Cassette format details: spec digests, matching helpers, notes, the dry-run guard."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx

from teleconform.cassettes import open_session
from teleconform.cassettes._format import load_cassette, spec_digest
from teleconform.cassettes._guard import network_blocked
from teleconform.cassettes._replay import Operations, align_json_text, normalise
from teleconform.cli._main import main

from ._toy import args
from .conftest import TOOL, Recording

SPEC = """
openapi: 3.1.0
info: {title: t, version: '1', description: first words}
paths:
  /items/{id}:
    get:
      summary: read one
      description: first prose
      x-clauses: [HCW-T-01]
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
"""


def test_spec_digest_ignores_prose_but_not_schemas(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    base = spec_digest(path)
    path.write_text(
        SPEC.replace("first prose", "other prose")
        .replace("read one", "get it")
        .replace("[HCW-T-01]", "[HCW-T-02]")
    )
    assert spec_digest(path) == base
    path.write_text(SPEC.replace("type: string", "type: integer"))
    assert spec_digest(path) != base
    assert spec_digest(tmp_path / "absent.yaml") == "absent"


def test_normalise_and_operations() -> None:
    assert normalise("person-12@redacted.example Name-3 REDACTED-40 tc-0123abcdef") == (
        "person-#@redacted.example Name-# REDACTED-# tc-#"
    )
    assert normalise("person-2%40redacted.example") == "person-#@redacted.example"
    ops = Operations(
        ["/api/v1/invite/{id}", "/api/v1/invite/{id}/consultation/close", "/api/v1/invite"]
    )
    assert ops.of("/api/v1/invite/%C3%A1%24") == "/api/v1/invite/{id}"
    assert ops.of("/api/v1/invite/7/consultation/close") == "/api/v1/invite/{id}/consultation/close"
    assert ops.of("/api/v1/invite") == "/api/v1/invite"
    assert ops.of("/_sandbox/reset/") == "/_sandbox/reset"


def test_alignment_puts_back_only_what_this_run_sent() -> None:
    recorded = json.dumps(
        {"lastName": "Name-4", "at": 1.0, "email": "person-2@redacted.example", "note": "Name-5"}
    )
    redacted = json.dumps(
        {"lastName": "Name-1", "at": 2.5, "email": "person-1@redacted.example", "note": "w\u00f1"}
    )
    sent = json.dumps(
        {"lastName": "Probe-tc-0123456789", "at": 2.5, "email": "me@example.org", "note": "w\u00f1"}
    )
    # "note" differs in kind (a generated value where a name was recorded): not a match.
    assert align_json_text(recorded, redacted, sent) == {
        "Name-4": "Probe-tc-0123456789",
        "person-2@redacted.example": "me@example.org",
    }
    # A run that sent placeholders (replayed credentials) maps nothing.
    assert align_json_text(recorded, recorded, recorded) == {}


NOTES_SUITE = """
from pathlib import Path

from teleconform.suite import clause

@clause("HCW-T-06")
def delivery(ctx):
    ctx.request("GET", "/me", headers=ctx.state.get("auth", {}))
    if ctx.mode == "replay":
        lines = Path(ctx.need("leah.webhook_events")).read_text().splitlines()
        ctx.expect("HCW-T-06", len(lines) == 1 and "Grace" not in lines[0], "event kept")
    else:
        ctx.state["recording"].add("webhook_events", {"index": 1, "body": {"firstName": "Grace"}})
        ctx.passes("HCW-T-06", "delivered")
"""


def test_notes_are_kept_redacted_and_served_on_replay(
    record_toy: Callable[..., Recording],
) -> None:
    from .conftest import replay_toy

    rec = record_toy()
    (rec.suites / "hcw" / "zz_notes.py").write_text(textwrap.dedent(NOTES_SUITE))
    rec = record_toy(name="with-notes")
    assert rec.run.verdicts["HCW-T-06"] == "pass"
    notes = load_cassette(rec.folder / "hcw" / "zz_notes.yaml").metadata["notes"]
    assert len(notes["webhook_events"]) == 1 and "Grace" not in json.dumps(notes)
    replayed = replay_toy(rec.folder, rec.suites)
    assert replayed.verdicts == rec.run.verdicts


def test_dry_run_of_a_replay_lifts_the_guard(
    record_toy: Callable[..., Recording], tmp_path: Path
) -> None:
    rec = record_toy()
    session = open_session(args(replay=True, cassettes=str(rec.folder)), ["hcw"], 0, TOOL)
    assert network_blocked()
    session.finish()
    assert not network_blocked()
    code = main(
        [
            "run",
            "hcw",
            "--replay",
            "--cassettes",
            str(rec.folder),
            "--dry-run",
            "--report-dir",
            str(tmp_path / "r"),
        ]
    )
    assert code == 0 and not network_blocked()
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(204))) as client:
        assert client.get("http://example.invalid/").status_code == 204
