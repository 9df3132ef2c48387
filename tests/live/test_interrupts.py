"""An interrupted live run keeps its results in every mode: SIGINT or SIGTERM at several points
of a sequential, a `--workers 2` (processes) and a `--record` (threads) run; cleanup runs,
the reports hold every clause that finished and "run interrupted" for the rest, the exit
status is 130 or 143, and nothing is left on the target that left_behind does not list.

The signal is sent once the target has seen a number of requests (not after a fixed time);
the run's own pace does not matter."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from ._inventory import unlisted
from ._live import FAST, Rule, creds_env, report_of, served, start_cli, wait_for

pytestmark = pytest.mark.e2e

MODES = {
    "sequential": [],
    "workers": ["--workers", "2"],
    "record": ["--record", "rec", "--workers", "2"],
}
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
FINISHED = re.compile(r"^\s+hcw (HCW-[A-Z]+-\d+)\s+(pass|fail|skip|error)$", re.MULTILINE)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    ("sig", "after"),
    [(signal.SIGINT, 20), (signal.SIGTERM, 120)],
    ids=["SIGINT-early", "SIGTERM-later"],
)
def test_an_interrupted_run_reports_what_finished_cleans_up_and_exits(
    tmp_path: Path, mode: str, sig: signal.Signals, after: int
) -> None:
    with served("hcw") as (_app, proxy):
        proc = start_cli(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--allow-writes",
                *MODES[mode],
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
        wait_for(
            lambda: len(proxy.log.entries) >= after or proc.poll() is not None,
            120,
            f"{after} requests at the target",
        )
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        missing = unlisted(proxy.base_url, report_of(tmp_path / "out")["runs"][0]["left_behind"])
    assert proc.returncode == EXIT[sig], out + err
    assert "Traceback" not in out + err
    run = report_of(tmp_path / "out")["runs"][0]
    verdicts = {c["id"]: c for c in run["clauses"]}
    finished = dict(FINISHED.findall(out))
    assert len(verdicts) == 34, "every selected clause is in the report"
    for cid, verdict in finished.items():
        assert verdicts[cid]["verdict"] == verdict, (cid, verdicts[cid])
    interrupted = [
        c for c in verdicts.values() if c["verdict"] == "error" and "interrupted" in c["reason"]
    ]
    assert interrupted, "the run was stopped before its end"
    for cid, clause in verdicts.items():
        if cid not in finished:  # not reported as finished: interrupted (or finishing then)
            assert clause in interrupted or clause["verdict"] in ("pass", "skip"), clause
    assert missing == [], f"left on the target, not in the report: {missing}"
    for name in ("summary.md", "junit.xml", "report.html"):
        assert (tmp_path / "out" / name).is_file(), name


def test_a_second_interrupt_during_cleanup_says_what_is_still_being_removed(
    tmp_path: Path,
) -> None:
    """The first Ctrl-C stops the checks; the cleanup's DELETE hangs at the target; a second
    Ctrl-C says what is still being removed and that a third would leave it for `teleconform
    cleanup`; the cleanup goes on (the DELETE is sent again) and removes it."""
    hang_cleanup = Rule("hang", r"^/api/v1/invite/", method="DELETE", seconds=30, times=1)
    with served("hcw", [hang_cleanup]) as (_app, proxy):
        proc = start_cli(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--allow-writes",
                "--timeout",
                "3",
                "--clause",
                "HCW-CONS-03",
                "--clause",
                "HCW-SSO-02",
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
        wait_for(
            lambda: (
                any(
                    s.method == "POST" and s.path == "/api/v1/invite" and s.status == 200
                    for s in proxy.log.entries
                )
                or proc.poll() is not None
            ),
            60,
            "the invite created",
        )
        proc.send_signal(signal.SIGINT)
        wait_for(lambda: proxy.hanging() == 1 or proc.poll() is not None, 60, "the cleanup")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        run = report_of(tmp_path / "out")["runs"][0]
        missing = unlisted(proxy.base_url, run["left_behind"])
        seen = proxy.log.entries
    assert proc.returncode == 130, out + err
    assert "still removing what this run created: invite" in err
    assert "ledger-hcw.jsonl for `teleconform cleanup`" in err
    assert missing == [] and run["left_behind"] == []
    deletes = [s for s in seen if s.method == "DELETE"]
    assert len(deletes) == 2 and deletes[-1].status == 200


def test_a_third_interrupt_stops_cleanup_and_the_report_lists_what_stays(
    tmp_path: Path,
) -> None:
    """Ctrl-C, then twice more while the cleanup's DELETE hangs: cleanup stops, the invite
    stays, and the report, the console and the ledger say so (for `teleconform cleanup`)."""
    hang_cleanup = Rule("hang", r"^/api/v1/invite/", method="DELETE", seconds=30, times=2)
    with served("hcw", [hang_cleanup]) as (_app, proxy):
        proc = start_cli(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--allow-writes",
                "--timeout",
                "20",
                "--clause",
                "HCW-CONS-03",
                "--clause",
                "HCW-SSO-02",
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
        wait_for(
            lambda: (
                any(
                    s.method == "POST" and s.path == "/api/v1/invite" and s.status == 200
                    for s in proxy.log.entries
                )
                or proc.poll() is not None
            ),
            60,
            "the invite created",
        )
        proc.send_signal(signal.SIGINT)
        for hung in (1, 2):
            wait_for(
                lambda n=hung: hang_cleanup.applied == n or proc.poll() is not None,
                60,
                f"cleanup DELETE {hung} hanging",
            )
            assert proc.poll() is None, proc.communicate()
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        run = report_of(tmp_path / "out")["runs"][0]
        missing = unlisted(proxy.base_url, run["left_behind"])
    assert proc.returncode == 130, out + err
    assert missing == []
    assert [i["kind"] for i in run["left_behind"]] == ["invite"], run["left_behind"]
    assert "stopped by an interrupt" in run["left_behind"][0]["why"]
    assert f"invite {run['left_behind'][0]['id']}" in out


def test_an_api_not_started_when_interrupted_is_reported_and_sent_nothing(
    tmp_path: Path,
) -> None:
    """`run all`, sequential: Ctrl-C during HCW; Leah, not started, sees no request and its
    clauses are in the report as "run interrupted"."""
    with served("hcw") as (_h, hcw_proxy), served("leah") as (_l, leah_proxy):
        proc = start_cli(
            [
                "run",
                "all",
                "--target",
                f"hcw={hcw_proxy.base_url}",
                "--target",
                f"leah={leah_proxy.base_url}",
                *FAST,
                "--allow-writes",
                "--report-dir",
                "out",
            ],
            creds_env("all"),
            tmp_path,
        )
        wait_for(
            lambda: len(hcw_proxy.log.entries) >= 20 or proc.poll() is not None,
            120,
            "20 requests at the HCW target",
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        leah_seen = leah_proxy.log.count()
    assert proc.returncode == 130, out + err
    runs = {run["api"]: run for run in report_of(tmp_path / "out")["runs"]}
    assert set(runs) == {"hcw", "leah"}
    assert leah_seen == 0
    assert runs["leah"]["clauses"] and all(
        c["verdict"] == "error" and c["reason"] == "run interrupted"
        for c in runs["leah"]["clauses"]
    )
    assert runs["leah"]["left_behind"] == []
