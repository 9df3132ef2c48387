#!/bin/sh
# Set-up plus the main job: `teleconform run` against the embedded sandboxes (extra args pass through).
set -eu
TELECONFORM_EXTRAS="" . "$(dirname "$0")/_venv.sh"
exec "$VENV/bin/teleconform" run "$@"
