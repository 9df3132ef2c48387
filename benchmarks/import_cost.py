"""What importing one teleconform module costs: modules loaded, and which heavy layers come along.

Runs ``python -X importtime -c "import MODULE"`` in a fresh interpreter per module and reads
its table. Compare two checkouts (before/after a change) with ``--source``:

    .venv/bin/python benchmarks/import_cost.py
    .venv/bin/python benchmarks/import_cost.py --source /path/to/old/checkout --source .

A source's ``src/`` goes first on PYTHONPATH, so the same virtualenv measures both.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MODULES = (
    "teleconform",
    "teleconform.sandbox.hcw",
    "teleconform.sandbox.leah",
    "teleconform.report.merge",
    "teleconform.client",
)
# what a host pytest session or a report merge must not pay for
HEAVY = {
    "runner": ("teleconform.runner", "teleconform._http", "teleconform.runner._http"),
    "cli": ("teleconform.cli", "teleconform._cli", "teleconform._run"),
    "schemathesis": ("schemathesis",),
    "hypothesis": ("hypothesis",),
}


@dataclass(frozen=True)
class ImportCost:
    """The measured cost of importing one module from one source tree."""

    module: str
    modules: int
    teleconform_modules: int
    cumulative_us: int
    heavy: tuple[str, ...]


def measure(module: str, source: Path) -> ImportCost:
    """Import ``module`` in a fresh interpreter with ``source/src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [
        line.split("|")
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    ][1:]  # the first row is the table's header
    names = [row[2].strip() for row in rows]
    # the top-level rows (no indentation) sum to the whole import
    cumulative = sum(int(row[1]) for row in rows if not row[2].startswith("  "))
    heavy = tuple(
        layer
        for layer, prefixes in HEAVY.items()
        if any(n == p or n.startswith(p + ".") for n in names for p in prefixes)
    )
    return ImportCost(
        module=module,
        modules=len(names),
        teleconform_modules=sum(n.startswith("teleconform") for n in names),
        cumulative_us=cumulative,
        heavy=heavy,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source",
        action="append",
        type=Path,
        help="checkout to measure (repeatable; default: this one)",
    )
    parser.add_argument("--module", action="append", help="module to import (repeatable)")
    args = parser.parse_args()
    sources = args.source or [Path(__file__).resolve().parents[1]]
    print("| source | module | modules | teleconform modules | import ms | heavy layers loaded |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for source in sources:
        for module in args.module or MODULES:
            cost = measure(module, source.resolve())
            print(
                f"| {source} | {cost.module} | {cost.modules} | {cost.teleconform_modules} "
                f"| {cost.cumulative_us / 1000:.0f} | {', '.join(cost.heavy) or 'none'} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
