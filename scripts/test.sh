#!/bin/sh
# Set-up, the linters (scripts/lint.sh), then the project's own tests. Installs everything the
# tests need, including Debian's chromium for the HTML report's browser test when running as
# root (CI does).
set -eu
TELECONFORM_EXTRAS="[test]" . "$(dirname "$0")/_venv.sh"
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian chromium for the browser test..."
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
fi
cd "$ROOT"
# The whole suite (no arguments: what .ci/run does) starts with the linters; a targeted run
# (`sh scripts/test.sh tests/test_cli.py`) skips them: `sh scripts/lint.sh` runs them alone.
if [ $# -eq 0 ]; then
    sh "$ROOT/scripts/lint.sh"
fi
exec "$VENV/bin/python" -m pytest -n 2 "$@"
