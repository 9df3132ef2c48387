"""The CLI's outer interface: exit codes and one-line errors (CONTRACT.md)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        ' body: {string: \'{"email": "jane.doe@example.com"}\'}}\n'
    )
    code, out, _ = _run(["cassettes", "audit", str(tmp_path)], capsys)
    assert code == 1 and "Authorization" in out and "jane.doe@example.com" not in out


# -- help ------------------------------------------------------------------------------------
def _command_paths() -> list[list[str]]:
    """Every command of the parser tree, e.g. ["webhooks", "listen"], and [] for the top."""
    from teleconform.cli._parser import build_parser

    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        paths.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*path, name])

    walk(build_parser(), [])
    return paths


COMMANDS = _command_paths()


def test_the_help_walk_covers_the_command_tree() -> None:
    assert len(COMMANDS) >= 15
    for path in (["proxy"], ["drift"], ["webhooks", "listen"], ["cassettes", "audit"]):
        assert path in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "teleconform")
def test_every_help_exits_0_on_stdout(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main([*command, "--help"])
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    assert code in (0, None), err
    assert out.startswith("usage: teleconform") and err == ""
    assert " ".join(["teleconform", *command]) in out.splitlines()[0]


def test_every_option_of_every_command_has_help_with_its_default() -> None:
    from teleconform.cli._main import all_parsers

    parsers = all_parsers()
    progs = {p.prog for p in parsers}
    assert {
        "teleconform run",
        "teleconform check-traffic",
        "teleconform cassettes audit",
        "teleconform webhooks listen",
        "teleconform report merge",
    } <= progs
    missing, no_default = [], []
    for parser in parsers:
        for action in parser._actions:
            if isinstance(
                action, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction
            ):
                continue
            name = f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(name)
            elif action.default not in (None, False, [], argparse.SUPPRESS) and (
                "default" not in action.help
            ):
                no_default.append(f"{name} (default {action.default!r})")
    assert missing == [], f"options without help: {missing}"
    assert no_default == [], f"help that does not give the default: {no_default}"


def test_run_help_gives_defaults_exit_codes_and_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "--rate-limit R live requests per second for the whole run, all workers together "
        "(default: 5)" in out
    )
    assert "--require-all" in out and "(default: standard)" in out
    epilog = out[out.index("exit status:") :]
    for needle in (
        "0 every selected MUST clause passed",
        "3 the target could not be reached",
        "130 interrupted by Ctrl-C (SIGINT); 143: by SIGTERM",
        "TELECONFORM_HCW_TARGET, TELECONFORM_LEAH_TARGET",
        "TELECONFORM_HCW_EMAIL",
        "TELECONFORM_LEAH_API_KEY",
        "TELECONFORM_SAFE_PHONE",
    ):
        assert needle in epilog, needle


# -- --require-all and the unverified MUST clauses ------------------------------------------------
WRITE_CLAUSES = ["HCW-INV-01", "HCW-INV-02", "HCW-INV-03", "HCW-CONS-01"]


def _live_hcw(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
) -> tuple[int, str, dict[str, Any]]:
    from teleconform.sandbox import hcw
    from teleconform.sandbox._server import ThreadedServer

    for name, value in hcw.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    selection = [a for cid in ["HCW-AUTH-01", *WRITE_CLAUSES] for a in ("--clause", cid)]
    with ThreadedServer(hcw.create_app()) as server:  # live, without --allow-writes
        code, out, _ = _run(
            [
                "run",
                "hcw",
                "--target",
                server.base_url,
                *selection,
                "--budget",
                "quick",
                "--report-dir",
                str(tmp_path),
                *extra,
            ],
            capsys,
        )
    return code, out, json.loads((tmp_path / "report.json").read_text())


def test_require_all_counts_a_skipped_must_clause_as_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, report = _live_hcw(tmp_path / "a", monkeypatch, capsys)
    assert code == 0  # without it, skipped MUST clauses do not fail the run (CONTRACT) ...
    skipped = [c["id"] for c in report["runs"][0]["clauses"] if c["verdict"] == "skip"]
    assert skipped == WRITE_CLAUSES
    # ... but the console ends by naming every one of them, by what they need (only what the
    # live run left on its target comes after: nothing here, said in one line)
    lines = out.strip().splitlines()
    assert lines[-3] == "4 MUST clauses not verified: need --allow-writes"
    assert lines[-2] == "  " + ", ".join(WRITE_CLAUSES)
    assert "nothing left behind" in lines[-1]
    code, out, _ = _live_hcw(tmp_path / "b", monkeypatch, capsys, "--require-all")
    assert code == 1
    assert (
        "4 MUST clauses not verified: need --allow-writes (--require-all: this fails the run)"
        in out
    )


def test_unverified_clauses_are_grouped_by_what_they_need() -> None:
    from teleconform.cli.run._console import unverified_lines

    def skip(cid: str, reason: str, level: str = "MUST") -> dict[str, Any]:
        return {"id": cid, "level": level, "verdict": "skip", "reason": reason}

    report = {
        "runs": [
            {
                "clauses": [
                    skip(
                        "HCW-AUTH-01",
                        "needs hcw.email (TELECONFORM_HCW_EMAIL), hcw.password "
                        "(TELECONFORM_HCW_PASSWORD)",
                    ),
                    skip(
                        "HCW-INV-01",
                        "needs hcw.email (TELECONFORM_HCW_EMAIL), hcw.password "
                        "(TELECONFORM_HCW_PASSWORD), hcw.allow_writes (--allow-writes)",
                    ),
                    skip(
                        "HCW-AUTH-04",
                        "needs hcw.email (TELECONFORM_HCW_EMAIL), hcw.password "
                        "(TELECONFORM_HCW_PASSWORD)",
                    ),
                    skip(
                        "HCW-SSO-06", "needs hcw.sso_secret (TELECONFORM_HCW_SSO_SECRET)", "SHOULD"
                    ),
                    skip(
                        "LEAH-WH-02",
                        "needs leah.webhook_receiver (`teleconform webhooks check URL`)",
                    ),
                    {"id": "HCW-SSO-05", "level": "MUST", "verdict": "pass", "reason": ""},
                ]
            }
        ]
    }
    assert unverified_lines(report, require_all=False) == [
        "4 MUST clauses not verified:",
        "  need TELECONFORM_HCW_EMAIL, TELECONFORM_HCW_PASSWORD (2): HCW-AUTH-01, HCW-AUTH-04",
        "  need TELECONFORM_HCW_EMAIL, TELECONFORM_HCW_PASSWORD, --allow-writes (1): HCW-INV-01",
        "  need --webhook-receiver (1): LEAH-WH-02",
    ]


# -- targets from the environment ----------------------------------------------------------------
def test_run_reads_the_targets_teleconform_sandbox_prints(tmp_path: Path) -> None:
    """Export what `teleconform sandbox hcw` prints, then `teleconform run hcw`: the run goes
    to that sandbox, not to an embedded one."""
    from e2e._sandbox import cli_env, sandbox_process

    with sandbox_process("hcw") as printed:
        url = printed["TELECONFORM_HCW_TARGET"]
        assert url == printed["TELECONFORM_TARGET"]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "teleconform",
                "run",
                "hcw",
                "--clause",
                "HCW-AUTH-01",
                "--clause",
                "HCW-SSO-01",
                "--budget",
                "quick",
                "--report-dir",
                "out",
            ],
            env=cli_env(printed),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = json.loads((tmp_path / "out" / "report.json").read_text())["runs"]
    assert run["target"] == {"mode": "live", "base_url": url}
    assert run["requests_sent"] > 0
    assert {c["id"]: c["verdict"] for c in run["clauses"]} == {
        "HCW-AUTH-01": "pass",
        "HCW-SSO-01": "pass",
    }


def test_an_explicit_target_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELECONFORM_HCW_TARGET", "http://127.0.0.1:9")  # nothing listens
    port = _closed_port()
    code, _, err = _run(
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
    assert code == 3 and f"127.0.0.1:{port}" in err
    code, out, _ = _run(["run", "hcw", "--dry-run"], capsys)
    assert code == 0 and "hcw: http://127.0.0.1:9" in out


def test_target_variables_empty_or_malformed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELECONFORM_LEAH_TARGET", "")  # empty counts as absent
    code, out, _ = _run(["run", "leah", "--dry-run"], capsys)
    assert code == 0 and "leah: the embedded sandbox" in out
    monkeypatch.setenv("TELECONFORM_LEAH_TARGET", "ftp://leah.example.org")
    code, _, err = _run(["run", "leah", "--dry-run"], capsys)
    assert code == 2 and "TELECONFORM_LEAH_TARGET" in err and len(err.strip().splitlines()) == 1


# -- no litter ---------------------------------------------------------------------------------
def test_a_run_leaves_no_hypothesis_directory_and_no_empty_log(tmp_path: Path) -> None:
    """Hypothesis keeps a cache under ./.hypothesis even with its database off; a run must not
    leave it in the user's working directory, nor an empty teleconform.log in the reports."""
    from e2e._sandbox import cli_env

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "teleconform",
            "run",
            "hcw",
            "--clause",
            "HCW-GEN-04",
            "--budget",
            "quick",
            "--seed",
            "3",
            "--report-dir",
            "out",
            "-q",
        ],
        env=cli_env({}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "cases over" in report["runs"][0]["clauses"][0]["reason"]  # property tests ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "summary.md",
    ]


def test_the_log_file_appears_with_its_first_record(tmp_path: Path) -> None:
    import logging

    from teleconform._logging import setup_log

    logger = logging.getLogger("teleconform")
    before = list(logger.handlers)
    (tmp_path / "teleconform.log").write_text("a previous run's log\n")
    try:
        path = setup_log(tmp_path)
        assert not path.exists()  # the old one is gone, and nothing was logged yet
        logging.getLogger("teleconform.test").warning("something worth keeping")
        assert "something worth keeping" in path.read_text()
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        for handler in before:
            logger.addHandler(handler)


def test_a_replay_ignores_the_target_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELECONFORM_HCW_TARGET", "http://127.0.0.1:9")  # nothing listens
    code, _, err = _run(["run", "hcw", "--replay", "--report-dir", str(tmp_path), "-q"], capsys)
    assert code == 0, err
    (run,) = json.loads((tmp_path / "report.json").read_text())["runs"]
    assert run["target"]["mode"] == "replay"


def test_a_reader_that_goes_away_is_not_an_internal_error(tmp_path: Path) -> None:
    """`teleconform sandbox leah --list-profiles | head -1`: a closed pipe ends the command
    quietly, never with "internal error"."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "teleconform", "clauses"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line (imports take longer)
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "internal error" not in err


# -- layout: cli/ is the top of the import graph (the graph rules: tests/test_architecture.py)
def test_the_parser_tree_loads_no_command() -> None:
    """`teleconform --help` and a usage error build the parser without any command module."""
    code = (
        "import sys; import teleconform.cli._main; "
        "print(sorted(m for m in sys.modules if m.startswith(('teleconform.cli.', "
        "'teleconform.runner', 'teleconform.sandbox', 'httpx'))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(proc.stdout.replace("'", '"')) == [
        "teleconform.cli._main",
        "teleconform.cli._parser",
    ]
