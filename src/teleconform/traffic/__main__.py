"""`python -m teleconform.traffic`: the same as `teleconform check-traffic`."""

import sys

from teleconform.traffic._check import main

raise SystemExit(main(sys.argv[1:]))
