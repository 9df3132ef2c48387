"""Targets that cannot be used at all: exit 3 with one line saying what to check, quickly;
configuration mistakes: exit 2 with one line, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from teleconform.sandbox._server import ThreadedServer, free_port
from teleconform.sandbox.hcw import create_app

from ._live import creds_env, one_line, run_cli, served

pytestmark = pytest.mark.e2e


def _exit3(
    tmp_path: Path, target: str, env: dict[str, str], api: str = "hcw", timeout: str = "3"
) -> str:
    # No wall-clock bound: how fast a loaded machine runs says nothing about teleconform; what
    # the run sent (counted at the target where there is one) and its one line do.
    proc = run_cli(
        [
            "run",
            api,
            "--target",
            target,
            "--budget",
            "quick",
            "--timeout",
            timeout,
            "--report-dir",
            "out",
        ],
        env,
        tmp_path,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    return one_line(proc.stderr)


def test_closed_port_is_exit_3_naming_host_and_port(tmp_path: Path) -> None:
    target = f"http://127.0.0.1:{free_port()}"
    line = _exit3(tmp_path, target, creds_env("hcw"))
    assert "connection refused" in line.lower() and "127.0.0.1" in line
    assert "check" in line


def test_dns_failure_is_exit_3_naming_the_host(tmp_path: Path) -> None:
    line = _exit3(tmp_path, "http://teleconform-no-such-host.invalid", creds_env("hcw"))
    assert "teleconform-no-such-host.invalid" in line
    assert "dns" in line.lower() or "resolve" in line.lower()


def test_tls_error_is_exit_3_saying_tls(tmp_path: Path) -> None:
    with ThreadedServer(create_app()) as server:
        line = _exit3(tmp_path, server.base_url.replace("http://", "https://"), creds_env("hcw"))
    assert "tls" in line.lower() and "check" in line


@pytest.mark.parametrize(
    ("api", "suffix"), [("hcw", "/wrong"), ("hcw", "/api/v1"), ("leah", "/wrong"), ("leah", "/api")]
)
def test_wrong_base_path_is_exit_3_check_the_base_url(
    tmp_path: Path, api: str, suffix: str
) -> None:
    with served(api) as (_app, proxy):
        line = _exit3(tmp_path, proxy.base_url + suffix, creds_env(api), api=api)
    assert "check the base URL" in line
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.parametrize(
    ("api", "variable"), [("hcw", "TELECONFORM_HCW_PASSWORD"), ("leah", "TELECONFORM_LEAH_API_KEY")]
)
def test_refused_credentials_are_exit_3_check_the_credentials(
    tmp_path: Path, api: str, variable: str
) -> None:
    env = creds_env(api, **{variable: "teleconform-wrong-secret"})
    with served(api) as (_app, proxy):
        line = _exit3(tmp_path, proxy.base_url, env, api=api)
        sent = proxy.log.entries
    assert variable in line and "check" in line
    assert "teleconform-wrong-secret" not in line  # never echo a credential
    assert not (tmp_path / "out" / "report.json").exists()
    assert len(sent) <= 3, "the run went on after the credentials were refused"


def test_hanging_target_is_exit_3_within_the_timeout(tmp_path: Path) -> None:
    """A server that accepts connections and never answers: no endless wait."""
    from ._chaos import Rule

    with served("hcw", [Rule("hang", seconds=20)]) as (_app, proxy):
        line = _exit3(tmp_path, proxy.base_url, creds_env("hcw"), timeout="0.5")
        hung = [s for s in proxy.log.entries if s.action == "hang"]
    # the client's timeout ended the wait (not the server's answer 20 s later) ...
    assert "check" in line and "ReadTimeout" in line
    # ... and the run did not go on asking: the probe and the sign-in time out once each
    assert 1 <= len(hung) <= 2, hung


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        (["--clause", "HCW-NOPE-99"], {}, "HCW-NOPE-99"),
        (["--target", "ftp://example.org"], {}, "--target"),
        (["--target", "not a url"], {}, "--target"),
        (
            [],
            {"TELECONFORM_HCW_EMAIL": "scheduler@example.org", "TELECONFORM_HCW_PASSWORD": ""},
            "TELECONFORM_HCW_PASSWORD",
        ),
        (
            [],
            {"TELECONFORM_HCW_EMAIL": "not-an-email", "TELECONFORM_HCW_PASSWORD": "x"},
            "TELECONFORM_HCW_EMAIL",
        ),
        ([], {"TELECONFORM_SAFE_PHONE": "call me"}, "TELECONFORM_SAFE_PHONE"),
        (["--rate-limit", "0"], {}, "--rate-limit"),
    ],
    ids=[
        "unknown-clause",
        "bad-scheme",
        "not-a-url",
        "half-pair",
        "malformed-email",
        "malformed-phone",
        "zero-rate",
    ],
)
def test_configuration_mistake_is_exit_2_one_line_nothing_sent(
    tmp_path: Path, argv: list[str], env: dict[str, str], needle: str
) -> None:
    with served("hcw") as (_app, proxy):
        full = ["run", "hcw", "--report-dir", "out", *argv]
        if "--target" not in argv:
            full += ["--target", proxy.base_url]
        proc = run_cli(full, creds_env("hcw") | env if env else creds_env("hcw"), tmp_path)
        sent = proxy.log.count()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in one_line(proc.stderr)
    assert "Traceback" not in proc.stderr
    assert sent == 0
