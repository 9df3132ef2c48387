"""`run --allow-writes` over real HTTP against each sandbox: the sandbox's inventory after the
run equals the report's ``left_behind``, item by item; everything the run created was in its
ledger; the console, summary.md and report.html say what stays."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from teleconform.catalogue import load_catalogue
from teleconform.properties import BUDGETS

from ._inventory import everything, leftovers, listed, short_id
from ._live import FAST, Rule, creds_env, ledger_records, report_of, run_main, served

pytestmark = pytest.mark.e2e

# Every Leah clause but the two 15 MB uploads of LEAH-TRF-04: they create nothing more.
LEAH = [
    arg
    for cid, c in load_catalogue().items()
    if c.api == "leah" and cid != "LEAH-TRF-04"
    for arg in ("--clause", cid)
]
# The real HCW@Home 5.4.62's undeletable side effects: its profile keeps the temporary patient
# accounts login-invite creates and allows DELETE of an invite whose consultation is pending.
ATHOME = "hcw-athome-5.4.62"


def _run(
    api: str, tmp_path: Path, profile: str | None = None
) -> tuple[dict, set[tuple[str, str]], set[tuple[str, str]], str]:
    with served(api, profile=profile) as (_app, proxy):
        proc = run_main(
            [
                "run",
                api,
                "--target",
                proxy.base_url,
                *FAST,
                "--allow-writes",
                *(LEAH if api == "leah" else []),
                "--report-dir",
                "out",
            ],
            creds_env(api),
            tmp_path,
        )
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        left, made = leftovers(proxy.base_url), everything(proxy.base_url)
    run = report_of(tmp_path / "out")["runs"][0]
    return run, left, made, proc.stdout


def _within_declared_footprint(tmp_path: Path, api: str) -> None:
    """What each suite module created, per kind, stays within what it declares for `run
    --dry-run` (its FOOTPRINT, or footprint(budget, live))."""
    label_of: dict[str, str] = {}
    sent: Counter[tuple[str, str]] = Counter()
    for record in ledger_records(tmp_path / "out" / f"ledger-{api}.jsonl"):
        if record.get("creates"):
            label_of[record["n"]] = record["label"]
        elif "created" in record and record.get("n") in label_of:
            sent[(label_of[record["n"]], record["created"]["kind"])] += 1
    assert sent, "the run created nothing"
    for (label, kind), count in sent.items():
        module = sys.modules[f"teleconform_suites.{api}.{label}"]
        declared = getattr(module, "footprint", None)
        counts = (
            declared(BUDGETS["quick"], True)
            if callable(declared)
            else getattr(module, "FOOTPRINT", {})
        )
        assert count <= counts.get(kind, 0), (label, kind, count, counts)


def _ledgered(tmp_path: Path, api: str) -> set[tuple[str, str]]:
    records = ledger_records(tmp_path / "out" / f"ledger-{api}.jsonl")
    return {(r["created"]["kind"], short_id(r["created"]["id"])) for r in records if "created" in r}


@pytest.mark.parametrize(
    ("api", "profile", "stays"),
    [
        ("hcw", None, set()),
        ("hcw", ATHOME, {"patient_account"}),
        ("leah", None, {"transfer"}),
    ],
    ids=["hcw-as-documented", "hcw-athome", "leah"],
)
def test_inventory_after_a_live_run_equals_left_behind(
    tmp_path: Path, api: str, profile: str | None, stays: set[str]
) -> None:
    run, left, made, stdout = _run(api, tmp_path, profile)
    named, unnamed = listed(run["left_behind"])
    assert not unnamed, run["left_behind"]
    assert named == left, (named, left)
    assert {kind for kind, _ in left} == stays
    assert all(item["count"] == 1 and item["why"] for item in run["left_behind"])
    # everything the run created on the target was in its ledger
    assert made and made <= _ledgered(tmp_path, api), made - _ledgered(tmp_path, api)
    _within_declared_footprint(tmp_path, api)
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    last = stdout.strip().splitlines()[-1 - len(left) if left else -1]
    if left:
        assert f"LEFT BEHIND on {run['target']['base_url']}: {len(left)}" in last
        assert "Left behind on the target" in summary and "Left behind on the target" in html
        for _kind, ident in left:
            assert ident in stdout and ident in summary and ident in html
    else:
        assert "nothing left behind" in last
        assert "Nothing left behind on the target" in summary
        assert "Nothing left behind on the target" in html


def test_hcw_patient_accounts_say_why(tmp_path: Path) -> None:
    """On the real server's behaviour: the one login-invite's account stays, said plainly."""
    run, left, _made, _ = _run("hcw", tmp_path, ATHOME)
    accounts = [i for i in run["left_behind"] if i["kind"] == "patient_account"]
    assert len(accounts) == 1 == len(left), "one patient session for the whole run"
    assert accounts[0]["why"] == (
        "temporary patient account created by login-invite; the API has no operation to remove it"
    )


def test_an_orphaned_consultation_is_listed_and_its_invite_was_the_only_one(
    tmp_path: Path,
) -> None:
    """The server wrongly allows HCW-INV-13's DELETE of the invite under a pending
    consultation, and its doctor cannot accept (403 at the proxy), so nothing can close it:
    the consultation is orphaned, on that one invite only, and the report says so."""
    refuse_accept = Rule("status", r"/accept$", method="POST", status=403)
    with served("hcw", [refuse_accept], profile=ATHOME) as (_app, proxy):
        proc = run_main(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--allow-writes",
                "--clause",
                "HCW-INV-13",
                "--clause",
                "HCW-INV-01",
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
        left = leftovers(proxy.base_url)
    run = report_of(tmp_path / "out")["runs"][0]
    named, _ = listed(run["left_behind"])
    assert named == left, (run["left_behind"], left, proc.stdout + proc.stderr)
    orphans = [i for i in run["left_behind"] if i["kind"] == "consultation"]
    assert len(orphans) == 1
    assert orphans[0]["why"] == (
        "consultation orphaned: the server allowed DELETE of its invite (HCW-INV-13 fails)"
    )
    assert not [i for i in run["left_behind"] if i["kind"] == "invite"]
