#!/bin/sh
# The linters CI runs before the tests: ruff check, ruff format --check and mypy (strict, on the
# package and the suites; the paths are in pyproject.toml's [tool.mypy]). Uses .venv's tools
# (scripts/test.sh makes it; LINT_BIN overrides the folder). Stops at the first linter that
# fails, with one line naming it and the command that fixes or shows the problem.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LINT_BIN:-"$ROOT/.venv/bin"}
PATHS="src tests suites benchmarks examples scripts"
cd "$ROOT"

fail() {
    echo "lint: $1 failed; $2" >&2
    exit 1
}

# shellcheck disable=SC2086  # PATHS is a list of words
"$BIN/ruff" check $PATHS || fail "ruff check" "see above (.venv/bin/ruff check --fix fixes some)"
# shellcheck disable=SC2086
"$BIN/ruff" format --check $PATHS ||
    fail "ruff format --check" "run .venv/bin/ruff format $PATHS"
"$BIN/mypy" || fail "mypy (strict: src/teleconform and suites)" "see above"
echo "lint: ruff check, ruff format --check and mypy are clean"
