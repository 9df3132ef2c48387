"""The `run:` steps of action.yml and of the reusable workflow, run locally with bash.

Each test runs twice (fixture `run_job`): once through the composite action's steps, once
through the reusable workflow's job. Only the step that pip-installs teleconform is left out
(no network here); the venv's `teleconform` is on PATH instead. Steps that use other actions
(setup-python, upload-artifact, download-artifact) are recorded with their evaluated inputs.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from teleconform.catalogue import load_catalogue
from teleconform.report import write_reports
from teleconform.sandbox import hcw
from teleconform.sandbox._server import ThreadedServer

from ._gha import JobResult, clean_env, load_yaml
from .conftest import ACTION, INSTALL_STEP, REPO, VENV_BIN, WORKFLOW, JobRunner

RUN, PUBLISH, UPLOAD, GATE = (
    "Run teleconform",
    "Publish the summary",
    "Upload the reports",
    "Gate on the exit status",
)
QUICK = "--budget quick --seed 5"


def _report(workspace: Path, report_dir: str = "teleconform-reports") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((workspace / report_dir / "report.json").read_text())
    return data


def _verdicts(report: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {
        c["id"]: (c["verdict"], bool(c.get("waived")))
        for run in report["runs"]
        for c in run["clauses"]
    }


def _assert_published(
    job: JobResult, workspace: Path, report_dir: str = "teleconform-reports"
) -> None:
    """junit.xml and summary.md exist, the summary reached the job summary, and the upload
    step would get the directory holding report.html."""
    out = workspace / report_dir
    for name in ("junit.xml", "summary.md", "report.html", "report.json"):
        assert (out / name).is_file(), f"{name} missing\n{job.log()}"
    assert job.step(PUBLISH).status == "ran" and job.step(PUBLISH).returncode == 0, job.log()
    summary_md = (out / "summary.md").read_text(encoding="utf-8")
    assert summary_md.strip() and job.summary.startswith(summary_md), job.summary[:500]
    assert "is in the artifact `teleconform-reports`" in job.summary
    upload = job.step(UPLOAD)
    assert upload.status == "external" and upload.uses.startswith("actions/upload-artifact@")
    assert (workspace / upload.with_["path"] / "report.html").is_file()
    assert upload.with_["name"] == "teleconform-reports"
    assert job.step(RUN).outputs["report-dir"] == str(out)


def _gate(job: JobResult) -> tuple[str, int | None]:
    return job.step(RUN).outputs.get("exit-code", ""), job.step(GATE).returncode


# -- sandbox mode ------------------------------------------------------------------------------
def test_a_failing_must_clause_turns_the_gate_red(run_job: JobRunner, workspace: Path) -> None:
    job = run_job(
        {
            "api": "hcw",
            "mode": "sandbox",
            "args": f"--sandbox-fault bearer-only --clause HCW-AUTH-04 {QUICK}",
        }
    )
    # teleconform's own failure does not stop the job before the summary and the upload ...
    assert job.step(RUN).returncode == 0
    _assert_published(job, workspace)
    assert "HCW-AUTH-04" in job.summary
    # ... the last step then fails with teleconform's exit status
    assert _gate(job) == ("1", 1), job.log()
    assert "::error title=teleconform::a MUST clause failed" in job.step(GATE).stdout
    assert job.failed
    junit = (workspace / "teleconform-reports" / "junit.xml").read_text()
    assert 'name="HCW-AUTH-04"' in junit and "<failure" in junit


def test_a_baseline_waiver_keeps_the_gate_green(run_job: JobRunner, workspace: Path) -> None:
    (workspace / "baseline.yaml").write_text(
        yaml.safe_dump(
            {
                "waivers": [
                    {
                        "clause": "HCW-AUTH-04",
                        "target": "sandbox",
                        "expires": "2999-12-31",
                        "reason": "5.4.62 reads only Authorization: Bearer",
                    }
                ]
            }
        )
    )
    job = run_job(
        {
            "api": "hcw",
            "mode": "sandbox",
            "baseline": "baseline.yaml",
            "args": f"--sandbox-fault bearer-only --clause HCW-AUTH-04 {QUICK}",
        }
    )
    assert _gate(job) == ("0", 0), job.log()
    _assert_published(job, workspace)
    assert _verdicts(_report(workspace)) == {"HCW-AUTH-04": ("fail", True)}
    assert "waived" in job.summary


def test_the_fail_input_off_keeps_the_step_green(run_job: JobRunner, workspace: Path) -> None:
    job = run_job({"api": "hcw", "mode": "live", "fail": _false(run_job)})
    assert job.step(RUN).outputs["exit-code"] == "2"
    assert job.step(GATE).status == "skipped" and not job.failed


# -- replay mode ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cassettes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cassettes recorded from the HCW sandbox for two clauses."""
    root = tmp_path_factory.mktemp("cassettes")
    proc = subprocess.run(
        [
            str(VENV_BIN / "teleconform"),
            "run",
            "hcw",
            "--record",
            str(root / "cassettes"),
            "--clause",
            "HCW-AUTH-01",
            "--clause",
            "HCW-INV-01",
            "--budget",
            "quick",
            "--report-dir",
            str(root / "reports"),
            "-q",
        ],
        env=clean_env(VENV_BIN),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "cassettes"


def test_replay_mode_replays_the_given_cassettes(
    run_job: JobRunner, workspace: Path, cassettes: Path
) -> None:
    job = run_job(
        {
            "api": "hcw",
            "mode": "replay",
            "cassettes": str(cassettes),
            "args": "--clause HCW-AUTH-01 --clause HCW-INV-01",
        }
    )
    statuses = {s.name: s.status for s in job.steps}
    assert statuses[INSTALL_STEP] == "not-run"  # the only step left out
    assert [n for n, s in statuses.items() if s == "ran"] == [RUN, PUBLISH, GATE]
    assert {n for n, s in statuses.items() if s == "external"} <= {
        "Set up Python",
        UPLOAD,
        "Check out the repository",
    }
    assert _gate(job) == ("0", 0), job.log()
    assert not job.failed
    _assert_published(job, workspace)
    report = _report(workspace)
    assert report["runs"][0]["target"]["mode"] == "replay"
    assert _verdicts(report) == {"HCW-AUTH-01": ("pass", False), "HCW-INV-01": ("pass", False)}


def test_replay_mode_without_cassettes_replays_the_shipped_ones(
    workspace: Path, tmp_path: Path
) -> None:
    """The action with `mode: replay` and nothing else."""
    job = JobRunner("action", tmp_path, workspace)({"api": "hcw", "mode": "replay"})
    assert _gate(job) == ("0", 0), job.log()
    _assert_published(job, workspace)
    report = _report(workspace)
    assert report["runs"][0]["target"]["mode"] == "replay"
    hcw_ids = {cid for cid, c in load_catalogue().items() if c.api == "hcw"}
    assert set(_verdicts(report)) == hcw_ids


# -- live mode ---------------------------------------------------------------------------
def test_live_mode_takes_the_target_and_the_credentials(
    run_job: JobRunner, workspace: Path
) -> None:
    credentials = dict(hcw.CREDENTIALS)
    with ThreadedServer(hcw.create_app()) as server:
        job = run_job(
            {
                "api": "hcw",
                "mode": "live",
                "target": server.base_url,
                "args": f"--allow-writes --clause HCW-AUTH-01 --clause HCW-SSO-01 {QUICK}",
            },
            credentials=credentials,
        )
    assert _gate(job) == ("0", 0), job.log()
    _assert_published(job, workspace)
    report = _report(workspace)
    assert report["runs"][0]["target"] == {"mode": "live", "base_url": server.base_url}
    assert _verdicts(report) == {"HCW-AUTH-01": ("pass", False), "HCW-SSO-01": ("pass", False)}
    shown = job.log() + job.summary
    for name in ("TELECONFORM_HCW_PASSWORD", "TELECONFORM_HCW_SSO_SECRET"):
        assert credentials[name] not in shown, f"{name} leaked into the job log"


def test_unset_secrets_count_as_absent(workspace: Path, tmp_path: Path) -> None:
    run_workflow = JobRunner("workflow", tmp_path, workspace)
    with ThreadedServer(hcw.create_app()) as server:
        job = run_workflow(
            {
                "api": "hcw",
                "mode": "live",
                "target": server.base_url,
                "args": "--clause HCW-AUTH-01 --clause HCW-SSO-01",
            }
        )
    # an unset secret is an empty string: the needs are absent, every clause is skipped
    # (instead of a half-configured credential pair), and live mode's require-all makes the
    # skipped MUST clauses fail the gate
    assert _gate(job) == ("1", 1), job.log()
    assert set(_verdicts(_report(workspace)).values()) == {("skip", False)}
    assert "2 MUST clauses not verified" in job.summary


def test_require_all_is_on_by_default_in_live_mode(run_job: JobRunner, workspace: Path) -> None:
    """A live gate does not go green over a MUST clause skipped for a missing flag."""
    args = f"--clause HCW-AUTH-01 --clause HCW-INV-01 {QUICK}"  # INV-01 needs --allow-writes
    with ThreadedServer(hcw.create_app()) as server:
        job = run_job(
            {"api": "hcw", "mode": "live", "target": server.base_url, "args": args},
            credentials=dict(hcw.CREDENTIALS),
        )
        assert _gate(job) == ("1", 1), job.log()
        assert _verdicts(_report(workspace)) == {
            "HCW-AUTH-01": ("pass", False),
            "HCW-INV-01": ("skip", False),
        }
        assert "1 MUST clause not verified: need --allow-writes" in job.step(RUN).stdout
        assert "partial: 1 MUST clause not verified" in job.summary
        assert "- need --allow-writes (1): HCW-INV-01" in job.summary
        assert "was not verified" in job.step(GATE).stdout
        off = run_job(
            {
                "api": "hcw",
                "mode": "live",
                "target": server.base_url,
                "args": args,
                "require-all": "false",
            },
            credentials=dict(hcw.CREDENTIALS),
        )
    assert _gate(off) == ("0", 0), off.log()


def test_require_all_true_applies_to_other_modes(run_job: JobRunner, workspace: Path) -> None:
    job = run_job(
        {
            "api": "leah",
            "mode": "sandbox",
            "require-all": "true",
            "args": f"--clause LEAH-WH-02 --clause LEAH-AUTH-01 {QUICK}",
        }
    )
    # the sandbox cannot check the integrator's receiver: LEAH-WH-02 is skipped, and counts
    assert _verdicts(_report(workspace))["LEAH-WH-02"] == ("skip", False)
    assert _gate(job) == ("1", 1), job.log()
    assert (
        run_job(
            {
                "api": "leah",
                "mode": "sandbox",
                "args": f"--clause LEAH-WH-02 --clause LEAH-AUTH-01 {QUICK}",
            }
        )
        .step(RUN)
        .outputs["exit-code"]
        == "0"
    )


def test_a_bad_require_all_value_is_a_configuration_error(
    run_job: JobRunner, workspace: Path
) -> None:
    job = run_job({"mode": "sandbox", "require-all": "sometimes"})
    assert _gate(job) == ("2", 2), job.log()
    assert "require-all must be auto, true or false" in job.step(RUN).stdout


def test_every_line_of_a_multi_line_args_reaches_teleconform(
    run_job: JobRunner, workspace: Path
) -> None:
    job = run_job(
        {
            "api": "hcw",
            "mode": "sandbox",
            "args": "--clause HCW-AUTH-01\n--clause HCW-AUTH-03\n--budget quick\n",
        }
    )
    assert _gate(job) == ("0", 0), job.log()
    assert set(_verdicts(_report(workspace))) == {"HCW-AUTH-01", "HCW-AUTH-03"}


def test_live_mode_without_a_target_is_a_configuration_error(
    run_job: JobRunner, workspace: Path
) -> None:
    job = run_job({"api": "hcw", "mode": "live"})
    assert _gate(job) == ("2", 2), job.log()
    assert "mode live needs the target input" in job.step(RUN).stdout
    assert "teleconform wrote no summary.md (exit status 2)" in job.summary


def test_an_unknown_mode_is_a_configuration_error(run_job: JobRunner, workspace: Path) -> None:
    job = run_job({"mode": "nightly"})
    assert _gate(job) == ("2", 2), job.log()
    assert "mode must be replay, live, sandbox or client" in job.step(RUN).stdout


# -- merging shards ------------------------------------------------------------------------------
def _shard_report(clauses: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tool": {"name": "teleconform", "version": "0.1.0"},
        "seed": 1,
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:01:00+00:00",
        "totals": {},
        "runs": [
            {
                "api": "hcw",
                "target": {"mode": "replay", "base_url": "https://hcw.example.org"},
                "clauses": [
                    {
                        "id": cid,
                        "level": level,
                        "title": cid,
                        "verdict": verdict,
                        "waived": False,
                        "reason": "",
                        "evidence": [],
                    }
                    for cid, level, verdict in clauses
                ],
                "totals": {},
            }
        ],
    }


def test_merge_combines_the_downloaded_shard_reports(run_job: JobRunner, workspace: Path) -> None:
    # what download-artifact leaves: one directory per artifact, named like it
    shard_1 = [("HCW-AUTH-01", "MUST", "pass"), ("HCW-SSO-06", "SHOULD", "fail")]
    write_reports(_shard_report(shard_1), workspace / "teleconform-shard-1")
    shard_2 = [("HCW-INV-01", "MUST", "fail")]
    write_reports(_shard_report(shard_2), workspace / "teleconform-shard-2")
    inputs: dict[str, Any] = {"merge": "teleconform-shard-*"}
    if run_job.kind == "workflow":
        inputs["download-artifacts"] = "teleconform-shard-*"
    job = run_job(inputs)
    _assert_published(job, workspace)
    assert _gate(job) == ("1", 1), job.log()
    report = _report(workspace)
    assert _verdicts(report) == {
        "HCW-AUTH-01": ("pass", False),
        "HCW-INV-01": ("fail", False),
        "HCW-SSO-06": ("fail", False),
    }
    assert report["totals"]["fail"] == 2
    if run_job.kind == "workflow":
        download = job.step("Download the artifacts to merge")
        assert download.status == "external"
        assert download.with_ == {"pattern": "teleconform-shard-*"}


def test_inputs_cannot_inject_shell_code(run_job: JobRunner, workspace: Path) -> None:
    write_reports(_shard_report([("HCW-AUTH-01", "MUST", "pass")]), workspace / "shard 1")
    marker = workspace / "injected"
    out = f"out$(touch {marker})`touch {marker}`"
    job = run_job({"merge": "shard*", "report-dir": out})
    assert not marker.exists(), job.log()
    assert (workspace / out / "summary.md").is_file(), job.log()
    job = run_job({"merge": "shard*", "args": f"$(touch {marker}) ; touch {marker}"})
    assert not marker.exists(), job.log()
    assert job.step(RUN).outputs["exit-code"] == "2"  # the words reach teleconform as arguments


# -- the install step, with a stand-in python3 (pip would need the network) ---------------------
_FAKE_PYTHON = """#!/bin/sh
# stand-in for python3: `-m venv DIR` makes DIR/bin/python, which logs its arguments
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    cat > "$3/bin/python" <<'EOF'
#!/bin/sh
for a in "$@"; do echo "$a"; done > "$PIP_LOG"
EOF
    chmod +x "$3/bin/python"
    exit 0
fi
exit 1
"""


@pytest.mark.parametrize("package", ["", "teleconform==0.1.0"])
def test_the_install_step_installs_into_a_venv_on_the_path(
    run_job: JobRunner, workspace: Path, tmp_path: Path, package: str
) -> None:
    if run_job.kind == "workflow" and not package:
        package = "git+https://github.com/example/teleconform@v1"  # required there
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text(_FAKE_PYTHON)
    (fake_bin / "python3").chmod(0o755)
    pip_log = tmp_path / "pip-args"
    env = clean_env(fake_bin)
    env["PIP_LOG"] = str(pip_log)
    job = run_job(
        {"package": package, "mode": "nightly", "upload": _false(run_job)},
        skip=frozenset(),
        base_env=env,
    )
    install = job.step(INSTALL_STEP)
    assert install.status == "ran" and install.returncode == 0, job.log()
    pip_args = pip_log.read_text().splitlines()
    assert pip_args[:3] == ["-m", "pip", "install"]
    if package:
        assert pip_args[-1] == package
        assert "-c" not in pip_args  # the caller's choice is not pinned by our constraints
    else:  # the action's own checkout, with its pins when the checkout has them
        assert pip_args[-1] == str(REPO)
        assert ("-c" in pip_args) == (REPO / "constraints.txt").is_file()
    path_lines = [
        Path(line)
        for f in sorted((tmp_path / "runner-temp").glob("path-*"))
        for line in f.read_text().splitlines()
    ]
    assert path_lines == [tmp_path / "runner-temp" / "teleconform-venv" / "bin"]


def _false(run_job: JobRunner) -> bool | str:
    return False if run_job.kind == "workflow" else "false"


def test_every_run_script_is_valid_bash() -> None:
    scripts = [s["run"] for s in load_yaml(ACTION)["runs"]["steps"] if "run" in s]
    scripts += [s["run"] for s in load_yaml(WORKFLOW)["jobs"]["teleconform"]["steps"] if "run" in s]
    assert len(scripts) >= 8
    for script in scripts:
        proc = subprocess.run(
            ["bash", "-n"],
            input=script,
            text=True,
            capture_output=True,
            env={"PATH": os.environ.get("PATH", "")},
        )
        assert proc.returncode == 0, proc.stderr
