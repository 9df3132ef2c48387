"""Fixtures for the CI integration tests: the workflow files and a local job runner."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from ._gha import (
    Context,
    JobResult,
    Value,
    clean_env,
    declared_inputs,
    load_yaml,
    run_steps,
    workflow_call,
)

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
WORKFLOW = REPO / ".github" / "workflows" / "teleconform.yml"
CI = REPO / ".github" / "workflows" / "ci.yml"
VENV_BIN = Path(sys.executable).parent
# The one step that needs the network (pip install); everything after it runs for real.
INSTALL_STEP = "Install teleconform"


def _inputs(
    declared: dict[str, dict[str, Any]], given: dict[str, Value], *, typed: bool
) -> dict[str, Value]:
    unknown = set(given) - set(declared)
    assert not unknown, f"inputs not declared: {sorted(unknown)}"
    values: dict[str, Value] = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = given[name]
            continue
        assert not spec.get("required"), f"required input {name} not given"
        default = spec.get("default", "")
        kind = spec.get("type", "string") if typed else "string"
        if kind == "boolean":
            values[name] = bool(default)
        elif kind == "number":
            values[name] = float(default)
        else:
            values[name] = default if isinstance(default, str) else str(default).lower()
    return values


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    ws.mkdir()
    return ws


class JobRunner:
    """Runs the composite action's or the reusable workflow's steps with the given inputs."""

    def __init__(self, kind: str, tmp_path: Path, workspace: Path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.workspace = workspace

    def __call__(
        self,
        inputs: dict[str, Value],
        credentials: dict[str, str] | None = None,
        skip: frozenset[str] = frozenset({INSTALL_STEP}),
        base_env: dict[str, str] | None = None,
    ) -> JobResult:
        """`credentials` are TELECONFORM_* values: the env of the calling step for the action,
        repository secrets for the reusable workflow."""
        temp = self.tmp_path / "runner-temp"
        temp.mkdir(exist_ok=True)
        env = base_env if base_env is not None else clean_env(VENV_BIN)
        shell: str | None
        if self.kind == "action":
            spec = load_yaml(ACTION)
            ctx = Context(
                inputs=_inputs(declared_inputs(spec, workflow=False), inputs, typed=False),
                env=dict(credentials or {}),  # the env: of the `uses:` step reaches every step
                github={"action_path": str(REPO)},
                runner={"temp": str(temp)},
            )
            steps, shell = spec["runs"]["steps"], None
        else:
            spec = load_yaml(WORKFLOW)
            job = spec["jobs"]["teleconform"]
            given: dict[str, Value] = {"package": "teleconform", **inputs}
            ctx = Context(
                inputs=_inputs(declared_inputs(spec, workflow=True), given, typed=True),
                secrets=dict(credentials or {}),
                declared_secrets=set(workflow_call(spec).get("secrets") or {}),
                runner={"temp": str(temp)},
            )
            steps = job["steps"]
            shell = ((job.get("defaults") or {}).get("run") or {}).get("shell")
        return run_steps(
            steps, ctx, workspace=self.workspace, base_env=env, default_shell=shell, skip=set(skip)
        )


@pytest.fixture(params=["action", "workflow"])
def run_job(request: pytest.FixtureRequest, tmp_path: Path, workspace: Path) -> JobRunner:
    """A JobRunner for the composite action and one for the reusable workflow."""
    return JobRunner(request.param, tmp_path, workspace)
