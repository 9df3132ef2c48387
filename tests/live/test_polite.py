"""Politeness on a live target, measured at the server: the run-wide rate limit and 429."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from ._chaos import RequestLog, Rule
from ._live import (
    FAST,
    clauses_of,
    creds_env,
    report_of,
    run_cli,
    run_main,
    served,
)

pytestmark = pytest.mark.e2e

# Two suite modules per API, so --workers 2 runs four work units in two worker processes.
CLAUSES = ["HCW-SSO-03", "HCW-AUTH-04", "LEAH-AUTH-02", "LEAH-OFF-01"]


def test_rate_limit_is_shared_by_both_apis_and_all_workers(tmp_path: Path) -> None:
    """--rate-limit 5 holds for the whole run: two APIs, two worker processes, one budget."""
    log = RequestLog()  # both proxies write here: the rate is the run's, not one server's
    selection = [arg for cid in CLAUSES for arg in ("--clause", cid)]
    with served("hcw", log=log) as (_h, hcw_proxy), served("leah", log=log) as (_l, leah_proxy):
        # A subprocess: in this process the run's four threads would compete with the
        # proxies for the GIL and blur the arrival times being measured.
        proc = run_cli(
            [
                "run",
                "all",
                "--workers",
                "2",
                "--rate-limit",
                "5",
                "--target",
                f"hcw={hcw_proxy.base_url}",
                "--target",
                f"leah={leah_proxy.base_url}",
                "--budget",
                "quick",
                "--seed",
                "3",
                *selection,
                "--report-dir",
                "out",
            ],
            creds_env("all"),
            tmp_path,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = sorted(log.entries, key=lambda s: s.at)
    assert len(seen) >= 12, "too few requests to measure a rate"
    hcw_times = [s.at for s in seen if s.proxy == "hcw"]
    leah_times = [s.at for s in seen if s.proxy == "leah"]
    # the two APIs ran at the same time, so a per-API limit would have doubled the rate
    assert hcw_times and leah_times
    assert max(min(hcw_times), min(leah_times)) < min(max(hcw_times), max(leah_times))
    # Arrival times carry a busy machine's scheduling delays: a request held back 0.2 s on
    # its way lands in the next one's second. So +1 for the closed window's two ends and +1
    # for one such delay; a limit per API or per worker shows 10 or more.
    assert log.max_in_window(1.0) <= 5 + 2
    # the limit spaces requests; it does not send them in bursts of 5 per second (the median,
    # since a request delayed on its way shortens the gap to the next one)
    gaps = [b.at - a.at for a, b in zip(seen, seen[1:], strict=False)]
    assert statistics.median(gaps) >= 0.15, gaps
    clauses = clauses_of(report_of(tmp_path / "out"))
    assert {cid: c["verdict"] for cid, c in clauses.items()} == dict.fromkeys(CLAUSES, "pass")


def test_429_retry_after_is_honoured_then_the_request_repeated(tmp_path: Path) -> None:
    busy = Rule("429", r"^/api/v1/external-auth-callback", times=1, seconds=1)
    with served("hcw", [busy]) as (_app, proxy):
        proc = run_main(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--clause",
                "HCW-SSO-05",
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
        seen = proxy.log.entries
    assert proc.returncode == 0, proc.stdout + proc.stderr
    refused = [i for i, s in enumerate(seen) if s.status == 429]
    assert len(refused) == 1
    first, again = seen[refused[0]], seen[refused[0] + 1]
    assert (again.method, again.path) == (first.method, first.path)
    assert again.at - first.at >= 0.95  # Retry-After: 1
    clause = clauses_of(report_of(tmp_path / "out"))["HCW-SSO-05"]
    assert clause["verdict"] == "pass"


def test_429_with_an_unreasonable_retry_after_is_reported_not_waited(tmp_path: Path) -> None:
    busy = Rule("429", r"^/api/v1/external-auth-callback", seconds=3600)
    with served("hcw", [busy]) as (_app, proxy):
        proc = run_main(
            [
                "run",
                "hcw",
                "--target",
                proxy.base_url,
                *FAST,
                "--clause",
                "HCW-SSO-01",
                "--report-dir",
                "out",
            ],
            creds_env("hcw"),
            tmp_path,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    clause = clauses_of(report_of(tmp_path / "out"))["HCW-SSO-01"]
    assert clause["verdict"] == "fail"
    assert [e["response"]["status"] for e in clause["evidence"]] == [429]


def test_the_plugin_rate_limit_is_shared_by_its_xdist_workers(tmp_path: Path) -> None:
    """In an integrator's `pytest -n 2 --teleconform-rate-limit 5`, the limit is the session's,
    not each worker's: the workers share one limiter through the controller's file."""
    import subprocess
    import sys

    log = RequestLog()
    clauses = ("HCW-SSO-02", "HCW-SSO-03", "HCW-AUTH-01", "HCW-AUTH-02", "HCW-AUTH-04")
    selection = [arg for cid in clauses for arg in ("--teleconform-clause", cid)]
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    with served("hcw", log=log) as (_app, proxy):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-n",
                "2",
                "-q",
                "--teleconform-api",
                "hcw",
                "--teleconform-target",
                proxy.base_url,
                "--teleconform-rate-limit",
                "5",
                "--teleconform-budget",
                "quick",
                "--teleconform-seed",
                "3",
                *selection,
            ],
            env=creds_env("hcw"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 passed" in proc.stdout
    seen = sorted(log.entries, key=lambda s: s.at)
    assert len(seen) >= 12, "too few requests to measure a rate"
    assert log.max_in_window(1.0) <= 5 + 2  # the margin of the test above
    gaps = [b.at - a.at for a, b in zip(seen, seen[1:], strict=False)]
    assert statistics.median(gaps) >= 0.15, gaps
