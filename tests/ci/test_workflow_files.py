"""The GitHub Actions files: GitHub's schemas, and agreement between the action and the workflow.

The schemas are the ones vendored in check-jsonschema (`--builtin-schema vendor.*`); the tests
run it with an unusable proxy to show that no schema is fetched.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from teleconform.catalogue import load_catalogue
from teleconform.report.baseline import load_baseline

from ._gha import declared_inputs, load_yaml, workflow_call
from .conftest import ACTION, CI, REPO, VENV_BIN, WORKFLOW

CHECK_JSONSCHEMA = VENV_BIN / "check-jsonschema"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
# inputs only the reusable workflow has: it is a whole job, the action runs inside one
WORKFLOW_ONLY = {"checkout", "runs-on", "timeout-minutes", "download-artifacts"}


def _check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    # any attempt to download a schema would go through this dead proxy and fail
    env.update(
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
    )
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_workflows_match_githubs_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "teleconform.yml"}
    proc = _check("vendor.github-workflows", *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _check("custom.github-workflows-require-timeout", *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_action_matches_githubs_schema() -> None:
    proc = _check("vendor.github-actions", ACTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("source", "schema", "break_it"),
    [
        (ACTION, "vendor.github-actions", lambda d: d["runs"].update(using="compost")),
        (
            WORKFLOW,
            "vendor.github-workflows",
            lambda d: d[True]["workflow_call"]["inputs"]["api"].update(type="text"),
        ),
        (
            WORKFLOW,
            "vendor.github-workflows",
            lambda d: d["jobs"]["teleconform"]["steps"][0].update(run="echo both", uses="a/b@v1"),
        ),
    ],
    ids=["action-using", "workflow-input-type", "step-run-and-uses"],
)
def test_the_schema_check_catches_a_broken_file(
    tmp_path: Path, source: Path, schema: str, break_it: Any
) -> None:
    data = yaml.safe_load(source.read_text())
    break_it(data)
    broken = tmp_path / source.name
    text = yaml.safe_dump(data, sort_keys=False)
    broken.write_text(re.sub(r"^true:", "on:", text, count=1, flags=re.M))  # PyYAML's `on`
    proc = _check(schema, broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Schema validation errors were encountered" in proc.stdout + proc.stderr


def _steps(kind: str) -> dict[str, dict[str, Any]]:
    if kind == "action":
        steps = load_yaml(ACTION)["runs"]["steps"]
    else:
        steps = load_yaml(WORKFLOW)["jobs"]["teleconform"]["steps"]
    return {s["name"]: s for s in steps}


def test_the_action_and_the_workflow_run_the_same_scripts() -> None:
    action, workflow = _steps("action"), _steps("workflow")
    for name in ("Run teleconform", "Publish the summary", "Gate on the exit status"):
        assert action[name]["run"] == workflow[name]["run"], name
        # the same TC_* variables feed them
        tc = {k: v for k, v in workflow[name].get("env", {}).items() if k.startswith("TC_")}
        assert action[name].get("env", {}) == tc, name
    upload_a, upload_w = action["Upload the reports"], workflow["Upload the reports"]
    assert upload_a["uses"] == upload_w["uses"] and upload_a["with"] == upload_w["with"]


def test_the_action_and_the_workflow_take_the_same_inputs() -> None:
    action = declared_inputs(load_yaml(ACTION), workflow=False)
    workflow = declared_inputs(load_yaml(WORKFLOW), workflow=True)
    assert set(workflow) - WORKFLOW_ONLY == set(action)
    for name, spec in action.items():
        default = workflow[name].get("default", "")
        default = str(default).lower() if isinstance(default, bool) else default
        if name != "package":  # required in the workflow: it cannot see its own repository
            assert str(spec.get("default", "")) == str(default), name


def test_the_workflow_passes_every_documented_credential() -> None:
    contract_vars = {
        "TELECONFORM_HCW_EMAIL",
        "TELECONFORM_HCW_PASSWORD",
        "TELECONFORM_HCW_DOCTOR_EMAIL",
        "TELECONFORM_HCW_QUEUE",
        "TELECONFORM_HCW_SSO_SECRET",
        "TELECONFORM_LEAH_API_KEY",
        "TELECONFORM_LEAH_HCW_EMAIL",
    }
    spec = load_yaml(WORKFLOW)
    assert set(workflow_call(spec)["secrets"]) == contract_vars
    env = _steps("workflow")["Run teleconform"]["env"]
    assert {k: v for k, v in env.items() if k.startswith("TELECONFORM_")} == {
        name: f"${{{{ secrets.{name} }}}}" for name in contract_vars
    }


def test_no_input_is_pasted_into_a_script() -> None:
    for kind in ("action", "workflow"):
        for name, step in _steps(kind).items():
            assert "${{" not in step.get("run", ""), f"{kind}: {name}"


def test_ci_runs_the_same_command_as_ci_run_and_dogfoods_both() -> None:
    ci = load_yaml(CI)
    assert "sh scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    runs = [s.get("run") for s in ci["jobs"]["test"]["steps"]]
    assert "sh .ci/run" in runs
    action_inputs = declared_inputs(load_yaml(ACTION), workflow=False)
    uses_action = [s for s in ci["jobs"]["action"]["steps"] if s.get("uses") == "./"]
    assert len(uses_action) == 1 and set(uses_action[0]["with"]) <= set(action_inputs)
    reusable = ci["jobs"]["reusable-workflow"]
    assert reusable["uses"] == "./.github/workflows/teleconform.yml"
    workflow_inputs = declared_inputs(load_yaml(WORKFLOW), workflow=True)
    assert set(reusable["with"]) <= set(workflow_inputs) and "package" in reusable["with"]


def test_the_readme_examples_are_valid_workflows(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it in GitHub Actions", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    baselines = [b for b in blocks if b.startswith("waivers:")]
    blocks = [b for b in blocks if not b.startswith("waivers:")]
    assert len(blocks) >= 3 and len(baselines) == 1
    (tmp_path / "baseline.yaml").write_text(baselines[0])
    assert load_baseline(str(tmp_path / "baseline.yaml"), load_catalogue())
    action_inputs = declared_inputs(load_yaml(ACTION), workflow=False)
    workflow_inputs = declared_inputs(load_yaml(WORKFLOW), workflow=True)
    files = []
    for i, block in enumerate(blocks):
        path = tmp_path / f"example-{i}.yml"
        path.write_text(block)
        files.append(path)
        for job in yaml.safe_load(block)["jobs"].values():
            if str(job.get("uses", "")).endswith("/.github/workflows/teleconform.yml@v1"):
                assert set(job.get("with", {})) <= set(workflow_inputs), job
            for step in job.get("steps", []):
                if re.fullmatch(r"[\w-]+/teleconform@v1", str(step.get("uses", ""))):
                    assert set(step.get("with", {})) <= set(action_inputs), step
    proc = _check("vendor.github-workflows", *files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_pre_commit_hooks_run_offline_with_the_venv() -> None:
    config = load_yaml(REPO / ".pre-commit-config.yaml")
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    assert all(repo["repo"] == "local" for repo in config["repos"])
    assert {h["id"] for h in hooks} >= {
        "ruff",
        "mypy",
        "check-github-workflows",
        "check-github-action",
    }
    tracked = [p.relative_to(REPO).as_posix() for p in [*WORKFLOWS, ACTION]]
    for hook in hooks:
        assert hook["language"] == "system"
        argv = shlex.split(hook["entry"])
        assert argv[0].startswith(".venv/bin/"), hook["id"]
        assert (VENV_BIN / Path(argv[0]).name).is_file(), f"{argv[0]} is not installed"
        if hook["id"].startswith("check-github"):
            matched = [f for f in tracked if re.search(hook["files"], f)]
            assert matched, hook["id"]
            # as pre-commit would run it, with the schema files offline
            schema = argv[argv.index("--builtin-schema") + 1]
            proc = _check(schema, *(REPO / f for f in matched))
            assert proc.returncode == 0, (hook["id"], proc.stdout + proc.stderr)
