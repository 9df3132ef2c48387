"""Sweep seeds: the conformant sandboxes must pass every clause whatever the seed.

`teleconform run` draws a random seed by default, so a generated case that a conformant
server rightly answers "wrongly" makes a fraction of runs red by chance. This runs the
property-test clauses (or all clauses with --all) over many seeds and lists the seeds that
did not pass, with their findings; exit 1 if there is one.

    .venv/bin/python benchmarks/seed_sweep.py --seeds 1000-1079 --jobs 2
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROPERTY_CLAUSES = ("HCW-GEN-01", "HCW-GEN-02", "HCW-GEN-03", "HCW-GEN-04", "LEAH-GEN-01")


def _seeds(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _one(seed: int, budget: str, everything: bool, work: Path) -> tuple[int, int, list[str]]:
    out = work / str(seed)
    selection = [] if everything else [a for c in PROPERTY_CLAUSES for a in ("--clause", c)]
    proc = subprocess.run(
        [sys.executable, "-m", "teleconform", "run", "all", *selection, "--seed", str(seed),
         "--budget", budget, "-q", "--report-dir", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    problems = []
    report = out / "report.json"
    if report.is_file():
        for run in json.loads(report.read_text())["runs"]:
            problems += [f"{c['id']} {c['verdict']}: {c['reason'][:300]}"
                         for c in run["clauses"] if c["verdict"] in ("fail", "error")]
    elif proc.returncode:
        problems.append(proc.stderr.strip()[:300])
    return seed, proc.returncode, problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1-40", help="FIRST-LAST (default 1-40)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--budget", default="standard", choices=["quick", "standard", "deep"])
    p.add_argument("--all", action="store_true", help="every clause, not only property tests")
    ns = p.parse_args()
    seeds = _seeds(ns.seeds)
    started = time.monotonic()
    bad: list[tuple[int, list[str]]] = []
    with tempfile.TemporaryDirectory(prefix="teleconform-sweep-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=ns.jobs) as pool:
        jobs = [pool.submit(_one, s, ns.budget, ns.all, Path(tmp)) for s in seeds]
        for job in concurrent.futures.as_completed(jobs):
            seed, code, problems = job.result()
            if code:
                bad.append((seed, problems))
                print(f"seed {seed}: exit {code}", flush=True)
                for line in problems:
                    print(f"  {line}", flush=True)
    took = time.monotonic() - started
    print(f"{len(seeds) - len(bad)} of {len(seeds)} seeds passed "
          f"(budget {ns.budget}, {ns.jobs} jobs, {took:.0f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
