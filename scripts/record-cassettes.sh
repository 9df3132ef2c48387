#!/bin/sh
# Re-record the shipped cassettes (cassettes/) from the embedded sandboxes, then check them.
# The run must be green: a failing recording would make `teleconform run --replay` (the fast
# gate) fail, so cassettes/ is replaced only after a clean run, a clean replay and a clean
# audit. Extra arguments go to the recording run (e.g. `hcw` to re-record one API).
# Environment: SEED (default 1), BUDGET (default quick: small cassettes, fast replay),
# TELECONFORM (a teleconform executable to use instead of setting up .venv).
set -eu
if [ -n "${TELECONFORM:-}" ]; then
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
    TC=$TELECONFORM
else
    . "$(dirname "$0")/_venv.sh" ""
    TC="$VENV/bin/teleconform"
fi
REPORTS="$ROOT/reports/record-cassettes"
SEED=${SEED:-1}
BUDGET=${BUDGET:-quick}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/teleconform-record.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$TC" run --seed "$SEED" --budget "$BUDGET" --record "$WORK/cassettes" \
    --report-dir "$REPORTS/record" -q "$@" || {
    echo "record-cassettes: the recording run was not green (exit $?): see $REPORTS/record;" \
        "cassettes/ left as it was" >&2
    exit 1
}
"$TC" run --replay --cassettes "$WORK/cassettes" --report-dir "$REPORTS/replay" -q "$@" || {
    echo "record-cassettes: replaying the new cassettes failed (exit $?): see $REPORTS/replay;" \
        "cassettes/ left as it was" >&2
    exit 1
}
# A recording must replay what it recorded: the same verdict for every clause.
python3 - "$REPORTS/record/report.json" "$REPORTS/replay/report.json" <<'EOF' || {
import json, sys
def verdicts(path):
    with open(path, encoding="utf-8") as f:
        return {c["id"]: c["verdict"] for r in json.load(f)["runs"] for c in r["clauses"]}
recorded, replayed = verdicts(sys.argv[1]), verdicts(sys.argv[2])
differ = sorted(c for c in recorded.keys() | replayed.keys() if recorded.get(c) != replayed.get(c))
if differ:
    sys.exit("verdicts differ between recording and replay: " + ", ".join(
        f"{c} {recorded.get(c)} -> {replayed.get(c)}" for c in differ))
EOF
    echo "record-cassettes: the replay did not give the recorded verdicts; cassettes/ left" \
        "as it was" >&2
    exit 1
}
"$TC" cassettes audit "$WORK/cassettes" || {
    echo "record-cassettes: the audit found sensitive data; cassettes/ left as it was" >&2
    exit 1
}
for dir in "$WORK"/cassettes/*/; do
    api=$(basename "$dir")
    rm -rf "$ROOT/cassettes/$api"
    mkdir -p "$ROOT/cassettes"
    cp -R "$dir" "$ROOT/cassettes/$api"
done
du -sh "$ROOT"/cassettes/* >&2
echo "record-cassettes: cassettes/ re-recorded (seed $SEED, budget $BUDGET)" >&2
