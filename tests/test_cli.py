"""The CLI's outer interface: exit codes and one-line errors (CONTRACT.md)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from teleconform.__main__ import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("teleconform ")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "--bogus"], "unrecognized arguments"),
        (["run", "--clause", "HCW-NOPE-99"], "unknown clause id HCW-NOPE-99"),
        (["run", "leah", "--clause", "HCW-SSO-01"], "belong to another API"),
        (["run", "hcw", "--target", "ftp://example.org"], "is not an http(s) URL"),
        (["run", "--target", "http://127.0.0.1:9"], "give --target hcw=URL"),
        (["run", "hcw", "--workers", "0"], "--workers"),
        (["run", "hcw", "--baseline", "/nonexistent/baseline.yaml"], "--baseline"),
        (["sandbox", "hcw", "--fault", "no-such-fault"], "unknown fault"),
        (["cassettes", "frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_half_a_credential_pair_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELECONFORM_HCW_EMAIL", "scheduler@example.org")
    monkeypatch.delenv("TELECONFORM_HCW_PASSWORD", raising=False)
    code, _, err = _run(["run", "hcw", "--target", "http://127.0.0.1:9"], capsys)
    assert code == 2
    assert "TELECONFORM_HCW_PASSWORD" in err and len(err.strip().splitlines()) == 1


def test_malformed_email_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELECONFORM_HCW_DOCTOR_EMAIL", "not-an-email")
    code, _, err = _run(["run", "hcw", "--target", "http://127.0.0.1:9"], capsys)
    assert code == 2 and "TELECONFORM_HCW_DOCTOR_EMAIL" in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_target_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    code, out, err = _run(
        [
            "run",
            "hcw",
            "--target",
            f"http://127.0.0.1:{port}",
            "--report-dir",
            str(tmp_path),
            "--timeout",
            "2",
        ],
        capsys,
    )
    assert code == 3
    assert "hcw target" in err and "check" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_dry_run_sends_nothing_and_lists_requests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["run", "hcw", "--dry-run", "--target", "http://127.0.0.1:9"], capsys)
    assert code == 0
    assert "HCW-SSO-02" in out and "POST /api/v1/invite" in out


def test_clauses_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["clauses"], capsys)
    assert code == 0
    assert "HCW-SSO-02" in out and "LEAH-HYDRA-03" in out


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "teleconform", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert proc.returncode == 0 and proc.stdout.startswith("teleconform ")


def test_check_traffic_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    har = Path(__file__).parent / "fixtures" / "specs" / "hcw-athome-5.4.62.reduced.har"
    code, out, err = _run(["check-traffic", str(har)], capsys)
    assert code in (0, 1) and "Traceback" not in err
    code, out, err = _run(["check-traffic", "/nonexistent.har"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_cassettes_audit_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["cassettes", "audit", str(tmp_path / "missing")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    (tmp_path / "c.yaml").write_text(
        "version: 1\ninteractions:\n"
        "- request: {method: GET, uri: 'http://h/x?token=abc', body: null,"
        " headers: {Authorization: ['Bearer secret-token-value-1234567890']}}\n"
        "  response: {status: {code: 200, message: OK}, headers: {},"
        " body: {string: '{\"email\": \"jane.doe@example.com\"}'}}\n"
    )
    code, out, _ = _run(["cassettes", "audit", str(tmp_path)], capsys)
    assert code == 1 and "Authorization" in out and "jane.doe@example.com" not in out
