# Sourced by scripts/run.sh and scripts/test.sh: make .venv with the pinned versions.
# Needs only python3 (>= 3.11) on the machine.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}
extras=${TELECONFORM_EXTRAS:-}
stamp="$VENV/.teleconform-installed$extras"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
# Reinstall only when the pins or the package metadata changed since the last install.
want=$(cat "$ROOT/constraints.txt" "$ROOT/pyproject.toml" | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c "$ROOT/constraints.txt" -e "$ROOT$extras"
    echo "$want" > "$stamp"
fi
