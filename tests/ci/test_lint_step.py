"""The lint step CI runs before the tests (scripts/lint.sh, called by scripts/test.sh).

Each case runs the real script and the real ruff and mypy on a small project in tmp_path laid
out like this repository, so a lint failure is shown to stop the step with one clear line.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, VENV_BIN

LINTED = ("src", "tests", "suites", "benchmarks", "examples", "scripts")
PYPROJECT = """\
[tool.ruff]
line-length = 100
[tool.ruff.lint]
select = ["E", "F", "I"]
[tool.mypy]
strict = true
files = ["src/teleconform", "suites"]
"""
CLEAN = 'def double(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n'


def _project(tmp_path: Path, module: str, suite: str = CLEAN) -> Path:
    root = tmp_path / "project"
    for folder in LINTED:
        (root / folder).mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    shutil.copy(REPO / "scripts" / "lint.sh", root / "scripts" / "lint.sh")
    package = root / "src" / "teleconform"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(module)
    (root / "suites" / "__init__.py").write_text("")
    (root / "suites" / "checks.py").write_text(suite)
    return root


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(root / "scripts" / "lint.sh")],
        env={"PATH": "/usr/bin:/bin", "LINT_BIN": str(VENV_BIN)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    result = _lint(_project(tmp_path, CLEAN))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint: ruff check, ruff format --check and mypy are clean" in result.stdout


@pytest.mark.parametrize(
    ("module", "suite", "failed"),
    [
        ("import os\n" + CLEAN, CLEAN, "lint: ruff check failed"),
        (CLEAN.replace("2 * x", "2*x"), CLEAN, "lint: ruff format --check failed"),
        (CLEAN, "def untyped(x):\n    return x\n", "lint: mypy (strict: src/teleconform and"),
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict-on-suites"],
)
def test_a_lint_failure_fails_the_step_with_one_line(
    tmp_path: Path, module: str, suite: str, failed: str
) -> None:
    result = _lint(_project(tmp_path, module, suite))
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("lint: ")] == [
        next(line for line in result.stderr.splitlines() if line.startswith(failed))
    ]


def test_the_whole_test_run_lints_before_pytest() -> None:
    script = (REPO / "scripts" / "test.sh").read_text()
    assert "sh scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    lint = script.index('sh "$ROOT/scripts/lint.sh"')
    assert script.index("if [ $# -eq 0 ]; then") < lint < script.index("-m pytest")
