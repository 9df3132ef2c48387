"""`mode: client` of the action and the reusable workflow, run locally with bash.

The step starts `teleconform sandbox API --validate-requests` in the background, runs the
integrator's command with the sandbox's TELECONFORM_* lines in its environment, stops the
sandbox with SIGTERM (which writes the client report) and gates on both exit statuses. The
commands here drive the worked example's integration (examples/client/) over real HTTP.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from teleconform.runner._targets import resolve_sandbox_profile

from ._gha import Context, JobResult, clean_env, run_steps
from .conftest import REPO, VENV_BIN, JobRunner

RUN, PUBLISH, UPLOAD, GATE = (
    "Run teleconform",
    "Publish the summary",
    "Upload the reports",
    "Gate on the exit status",
)

# The integrator's code under test: the worked example, pointed at the served sandbox by the
# variables the action exports. `EXAMPLE_CLIENT=broken_integration` picks the broken variant.
DRIVER = f"""\
import os
import sys
from datetime import timedelta

sys.path.insert(0, {str(REPO / "examples" / "client")!r})
import importlib

client = importlib.import_module(os.environ.get("EXAMPLE_CLIENT", "integration"))
env = os.environ
if sys.argv[1] == "hcw":
    with client.Hcw(env["TELECONFORM_HCW_TARGET"], env["TELECONFORM_HCW_EMAIL"],
                    env["TELECONFORM_HCW_PASSWORD"], env["TELECONFORM_HCW_SSO_SECRET"]) as hcw:
        hcw.sign_in()
        hcw.create_invite("patient@example.org", env["TELECONFORM_HCW_DOCTOR_EMAIL"],
                          client.tomorrow())
        if "--sso" in sys.argv:
            hcw.sign_doctor_in(env["TELECONFORM_HCW_DOCTOR_EMAIL"])
else:
    with client.Leah(env["TELECONFORM_LEAH_TARGET"], env["TELECONFORM_LEAH_API_KEY"]) as leah:
        when = client.tomorrow()
        appointment = leah.book(env["TELECONFORM_LEAH_HCW_EMAIL"], "guest@example.org",
                                "+33612345678", when)
        leah.reschedule(appointment, when + timedelta(hours=1))
"""
# A request without LEAH-AUTH-TOKEN: the command itself succeeds, LEAH-CLIENT-01 fails.
NO_TOKEN = (
    "python -c \"import httpx, os; httpx.get(os.environ['TELECONFORM_TARGET'] + '/api/offices')\""
)


@pytest.fixture
def driver(workspace: Path) -> str:
    (workspace / "drive.py").write_text(DRIVER, encoding="utf-8")
    return "python drive.py"


def _report(workspace: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (workspace / "teleconform-reports" / "report.json").read_text(encoding="utf-8")
    )
    return data


def _verdicts(workspace: Path) -> dict[str, str]:
    return {c["id"]: c["verdict"] for run in _report(workspace)["runs"] for c in run["clauses"]}


def _gate(job: JobResult) -> tuple[str, str, int | None]:
    outputs = job.step(RUN).outputs
    return (
        outputs.get("exit-code", ""),
        outputs.get("command-exit-code", ""),
        job.step(GATE).returncode,
    )


def _assert_published(job: JobResult, workspace: Path) -> None:
    out = workspace / "teleconform-reports"
    for name in ("report.json", "junit.xml", "summary.md", "report.html"):
        assert (out / name).is_file(), f"{name} missing\n{job.log()}"
    summary_md = (out / "summary.md").read_text(encoding="utf-8")
    assert summary_md.strip() and job.summary.startswith(summary_md), job.summary[:500]
    assert "is in the artifact `teleconform-reports`" in job.summary
    upload = job.step(UPLOAD)
    assert upload.status == "external" and upload.with_["path"] == "teleconform-reports"
    assert _report(workspace)["runs"][0]["target"]["mode"] == "client"


@pytest.mark.parametrize("api", ["hcw", "leah"])
def test_a_good_client_passes(run_job: JobRunner, workspace: Path, driver: str, api: str) -> None:
    job = run_job({"mode": "client", "api": api, "command": f"{driver} {api}"})
    assert _gate(job) == ("0", "0", 0), job.log()
    assert not job.failed
    _assert_published(job, workspace)
    verdicts = _verdicts(workspace)
    exercised = (
        {"HCW-CLIENT-01", "HCW-CLIENT-02", "HCW-CLIENT-04"}
        if api == "hcw"
        else {"LEAH-CLIENT-01", "LEAH-CLIENT-02", "LEAH-CLIENT-03"}
    )
    assert {verdicts[c] for c in exercised} == {"pass"}, verdicts
    assert "kept every MUST client clause it exercised" in job.step(GATE).stdout


def test_a_broken_must_client_clause_fails_the_job(run_job: JobRunner, workspace: Path) -> None:
    job = run_job({"mode": "client", "api": "leah", "command": NO_TOKEN})
    # the command succeeded; the client report's exit status turns the gate red
    assert _gate(job) == ("1", "0", 1), job.log()
    assert job.failed
    _assert_published(job, workspace)
    assert _verdicts(workspace)["LEAH-CLIENT-01"] == "fail"
    assert "| LEAH-CLIENT-01 | MUST | ❌ fail | no LEAH-AUTH-TOKEN header |" in job.summary
    assert (
        "::error title=teleconform::the client broke a MUST client clause" in job.step(GATE).stdout
    )
    junit = (workspace / "teleconform-reports" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="LEAH-CLIENT-01"' in junit and "<failure" in junit


def test_the_broken_example_fails_with_its_clause_named(
    run_job: JobRunner, workspace: Path, driver: str
) -> None:
    job = run_job(
        {
            "mode": "client",
            "api": "hcw",
            "command": f"EXAMPLE_CLIENT=broken_integration {driver} hcw --sso",
        }
    )
    code, command_code, gate = _gate(job)
    assert (code, gate) == ("1", 1), job.log()
    assert command_code != "0"  # the sandbox refused the millisecond SSO token, too
    assert _verdicts(workspace)["HCW-CLIENT-06"] == "fail"
    assert "| HCW-CLIENT-06 | MUST | ❌ fail |" in job.summary


def test_a_failing_command_fails_the_job(run_job: JobRunner, workspace: Path, driver: str) -> None:
    job = run_job(
        {"mode": "client", "api": "hcw", "command": f"{driver} hcw\nexit 3\ntouch never-reached"}
    )
    # the client kept its clauses; the command's failure alone fails the job
    assert _gate(job) == ("0", "3", 3), job.log()
    assert job.failed
    assert "::error title=teleconform::the command failed (exit status 3)" in job.step(GATE).stdout
    assert not (workspace / "never-reached").exists()
    _assert_published(job, workspace)  # the report is published all the same


def test_every_line_of_a_multi_line_command_runs_with_the_sandbox_variables(
    run_job: JobRunner, workspace: Path, driver: str
) -> None:
    command = (
        f'echo "$TELECONFORM_TARGET $TELECONFORM_HCW_TARGET" > targets.txt\n'
        f"{driver} hcw\n"
        f"echo done >> targets.txt\n"
    )
    job = run_job({"mode": "client", "api": "hcw", "command": command})
    assert _gate(job) == ("0", "0", 0), job.log()
    base_url = _report(workspace)["runs"][0]["target"]["base_url"]
    assert base_url.startswith("http://127.0.0.1:")
    assert (workspace / "targets.txt").read_text().split() == [base_url, base_url, "done"]


def test_the_profile_input_reaches_the_sandbox(
    run_job: JobRunner, workspace: Path, driver: str
) -> None:
    """Only x-access-token: fine on as-documented, refused by HCW@Home 5.4.62."""
    command = f"EXAMPLE_CLIENT=broken_integration {driver} hcw"  # no --sso: only the header
    documented = run_job({"mode": "client", "api": "hcw", "command": command})
    assert _gate(documented) == ("0", "0", 0), documented.log()
    observed = run_job(
        {"mode": "client", "api": "hcw", "command": command, "profile": "hcw-athome-5.4.62"}
    )
    code, command_code, gate = _gate(observed)
    assert command_code != "0" and gate != 0, observed.log()  # the server refused the client
    assert "| HCW-CLIENT-03 | SHOULD |" in observed.summary


def test_nothing_exercised_fails_the_job(run_job: JobRunner, workspace: Path) -> None:
    job = run_job({"mode": "client", "api": "hcw", "command": "true"})
    assert _gate(job) == ("2", "0", 2), job.log()
    assert "sent the sandbox no request it could judge" in job.step(GATE).stdout


def test_the_fail_input_off_keeps_the_job_green(run_job: JobRunner, workspace: Path) -> None:
    fail: bool | str = False if run_job.kind == "workflow" else "false"
    job = run_job({"mode": "client", "api": "leah", "command": NO_TOKEN, "fail": fail})
    assert job.step(RUN).outputs["exit-code"] == "1"
    assert job.step(GATE).status == "skipped" and not job.failed
    assert "LEAH-CLIENT-01" in job.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"api": "all", "command": "true"}, "mode client needs api hcw or leah"),
        ({"api": "hcw"}, "mode client needs the command input"),
        (
            {"api": "hcw", "command": "true", "baseline": "b.yaml"},
            "baseline does not apply to mode client",
        ),
        (
            {"api": "hcw", "command": "touch ran", "profile": "no-such-profile"},
            "the hcw sandbox did not start (exit status 2)",
        ),
    ],
    ids=["api-all", "no-command", "baseline", "unknown-profile"],
)
def test_client_mode_configuration_errors(
    run_job: JobRunner, workspace: Path, inputs: dict[str, str], message: str
) -> None:
    job = run_job({"mode": "client", **inputs})
    assert job.step(RUN).outputs["exit-code"] == "2", job.log()
    assert job.step(GATE).returncode == 2
    assert message in job.step(RUN).stdout
    assert not (workspace / "ran").exists()  # the command never ran


# -- the README's examples -------------------------------------------------------------------
def _readme_jobs() -> list[dict[str, Any]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it in GitHub Actions", 1)[1].split("\n## ", 1)[0]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S)]
    return [job for b in blocks if "jobs" in b for job in b["jobs"].values()]


def test_the_readme_pull_request_gate_is_client_mode(
    workspace: Path, tmp_path: Path, driver: str
) -> None:
    """The README's pull-request example, run with the action: every input as written but
    the command (which would pip-install the integrator's requirements) and the matrix."""
    (gate,) = [
        step
        for job in _readme_jobs()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).endswith("/teleconform@v1")
        and step["with"].get("mode") == "client"
    ]
    inputs = dict(gate["with"])
    assert "pytest" in inputs["command"]
    for profile in ("as-documented", "hcw-athome-5.4.62"):
        given = {
            **inputs,
            "command": f"{driver} {inputs['api']} --sso",
            "profile": profile,
            "artifact-name": "teleconform-reports",
        }
        job = JobRunner("action", tmp_path, workspace)(given)
        assert _gate(job) == ("0", "0", 0), job.log()
        _assert_published(job, workspace)


def test_the_readme_nightly_drift_job_writes_a_profile_the_sandbox_serves(
    workspace: Path, tmp_path: Path
) -> None:
    """The README's `drift` job (its `run:` steps but the pip install), on a nightly report
    from a sandbox with a fault; its profile is accepted by `teleconform sandbox`."""
    (drift_job,) = [job for job in _readme_jobs() if job.get("needs") == "staging"]
    download = drift_job["steps"][0]
    assert download["uses"].startswith("actions/download-artifact@")
    nightly = workspace / download["with"]["path"]
    proc = subprocess.run(
        [
            str(VENV_BIN / "teleconform"),
            "run",
            "hcw",
            "--sandbox-fault",
            "unknown-email-404",
            "--clause",
            "HCW-AUTH-06",
            "--clause",
            "HCW-AUTH-01",
            "--budget",
            "quick",
            "--report-dir",
            str(nightly),
            "-q",
        ],
        env=clean_env(VENV_BIN),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "1 fail" in proc.stdout, proc.stdout + proc.stderr  # SHOULD
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    job = run_steps(
        drift_job["steps"],
        Context(inputs={}, runner={"temp": str(runner_temp)}),
        workspace=workspace,
        base_env=clean_env(VENV_BIN),
        default_shell="bash",
        skip={"Install teleconform"},
    )
    assert not job.failed, job.log()
    upload = job.steps[-1]
    assert upload.uses.startswith("actions/upload-artifact@")
    profile = workspace / upload.with_["path"] / "drift-hcw.yaml"
    assert yaml.safe_load(profile.read_text(encoding="utf-8"))["faults"] == ["unknown-email-404"]
    served = resolve_sandbox_profile("hcw", str(profile))  # what `sandbox --profile` loads
    assert served is not None and "unknown-email-404" in served.faults
