"""``python -m teleconform.traffic FILE...``: the same as ``teleconform check-traffic``."""

from __future__ import annotations

import sys

from teleconform.traffic._check import main

raise SystemExit(main(sys.argv[1:]))
