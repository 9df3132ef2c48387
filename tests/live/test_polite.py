"""Politeness on a live target, measured at the server: the run-wide rate limit and 429."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._chaos import Rule
from ._live import FAST, clauses_of, creds_env, report_of, run_cli, served

pytestmark = pytest.mark.e2e

SSO_CLAUSES = ["HCW-SSO-02", "HCW-SSO-03", "HCW-SSO-05"]


def test_rate_limit_is_measured_at_the_server(tmp_path: Path) -> None:
    selection = [arg for cid in SSO_CLAUSES for arg in ("--clause", cid)]
    with served("hcw") as (_app, proxy):
        proc = run_cli(["run", "hcw", "--target", proxy.base_url, "--budget", "quick",
                        "--rate-limit", "5", *selection, "--report-dir", "out"],
                       creds_env("hcw"), tmp_path)
        log = proxy.log
    assert proc.returncode == 0, proc.stdout + proc.stderr
    times = sorted(s.at for s in log.entries)
    assert len(times) >= 12, "too few requests to measure a rate"
    assert log.max_in_window(1.0) <= 5 + 1
    # the limit spaces requests; it does not send them in bursts of 5 per second
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.15, min(gaps)


def test_429_retry_after_is_honoured_then_the_request_repeated(tmp_path: Path) -> None:
    busy = Rule("429", r"^/api/v1/external-auth-callback", times=1, seconds=2)
    with served("hcw", [busy]) as (_app, proxy):
        proc = run_cli(["run", "hcw", "--target", proxy.base_url, *FAST,
                        "--clause", "HCW-SSO-05", "--report-dir", "out"], creds_env("hcw"),
                       tmp_path)
        seen = proxy.log.entries
    assert proc.returncode == 0, proc.stdout + proc.stderr
    refused = [i for i, s in enumerate(seen) if s.status == 429]
    assert len(refused) == 1
    first, again = seen[refused[0]], seen[refused[0] + 1]
    assert (again.method, again.path) == (first.method, first.path)
    assert again.at - first.at >= 1.9  # Retry-After: 2
    clause = clauses_of(report_of(tmp_path / "out"))["HCW-SSO-05"]
    assert clause["verdict"] == "pass"


def test_429_with_an_unreasonable_retry_after_is_reported_not_waited(tmp_path: Path) -> None:
    busy = Rule("429", r"^/api/v1/external-auth-callback", seconds=3600)
    with served("hcw", [busy]) as (_app, proxy):
        proc = run_cli(["run", "hcw", "--target", proxy.base_url, *FAST,
                        "--clause", "HCW-SSO-01", "--report-dir", "out"], creds_env("hcw"),
                       tmp_path, timeout=30)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    clause = clauses_of(report_of(tmp_path / "out"))["HCW-SSO-01"]
    assert clause["verdict"] == "fail"
    assert [e["response"]["status"] for e in clause["evidence"]] == [429]
