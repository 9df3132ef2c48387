"""Sweep seeds: the conformant sandboxes must pass every clause whatever the seed.

`teleconform run` draws a random seed by default, so a generated case that a conformant
server rightly answers "wrongly" makes a fraction of runs red by chance. This runs the
property-test clauses (or all clauses with --all) over many seeds and lists the seeds that
did not pass, with their findings; exit 1 if there is one.

With --profiles it runs the whole suite of each API on every conformant sandbox profile
(`teleconform sandbox API --list-profiles`), for every seed and every budget given: each run
must end with 0 fail and 0 error, skips only for needs a sandbox cannot give.

    .venv/bin/python benchmarks/seed_sweep.py --seeds 1000-1079 --jobs 2
    .venv/bin/python benchmarks/seed_sweep.py --profiles --seeds 1-8 --budget quick,standard
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROPERTY_CLAUSES = ("HCW-GEN-01", "HCW-GEN-02", "HCW-GEN-03", "HCW-GEN-04", "LEAH-GEN-01")
# the one need no sandbox gives: the integrator's own webhook receiver
SANDBOX_SKIPS = frozenset({"LEAH-WH-02"})


@dataclass(frozen=True)
class Job:
    """One `teleconform run`: which API and profile, seed and budget."""

    api: str
    profile: str | None
    seed: int
    budget: str
    everything: bool

    @property
    def name(self) -> str:
        where = f"{self.api} {self.profile}" if self.profile else self.api
        return f"{where} seed {self.seed} {self.budget}"


def _seeds(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _conformant_profiles() -> list[tuple[str, str]]:
    from teleconform.sandbox import hcw, leah

    return [
        (api, name)
        for api, module in (("hcw", hcw), ("leah", leah))
        for name, profile in sorted(module.PROFILES.items())
        if profile.conformant
    ]


def _one(job: Job, work: Path) -> tuple[Job, int, list[str]]:
    out = work / job.name.replace(" ", "_")
    selection = [] if job.everything else [a for c in PROPERTY_CLAUSES for a in ("--clause", c)]
    api = [job.api] if job.profile else ["all"]
    profile = ["--sandbox-profile", job.profile] if job.profile else []
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "teleconform",
            "run",
            *api,
            *selection,
            *profile,
            "--seed",
            str(job.seed),
            "--budget",
            job.budget,
            "-q",
            "--report-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    problems = []
    report = out / "report.json"
    if report.is_file():
        for run in json.loads(report.read_text())["runs"]:
            for c in run["clauses"]:
                if c["verdict"] in ("fail", "error"):
                    problems.append(f"{c['id']} {c['verdict']}: {c['reason'][:300]}")
                elif job.profile and c["verdict"] == "skip" and c["id"] not in SANDBOX_SKIPS:
                    problems.append(f"{c['id']} skip: {c['reason'][:300]}")
    elif proc.returncode:
        problems.append(proc.stderr.strip()[:300])
    return job, proc.returncode or (1 if problems else 0), problems


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="1-40", help="FIRST-LAST (default 1-40)")
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    p.add_argument(
        "--budget",
        default="standard",
        help="quick, standard, deep, or several separated by commas (default standard)",
    )
    p.add_argument("--all", action="store_true", help="every clause, not only property tests")
    p.add_argument(
        "--profiles",
        action="store_true",
        help="every clause of each API on every conformant sandbox profile",
    )
    ns = p.parse_args()
    budgets = [b.strip() for b in ns.budget.split(",") if b.strip()]
    if not budgets or set(budgets) - {"quick", "standard", "deep"}:
        p.error("--budget: quick, standard or deep (comma-separated)")
    seeds = _seeds(ns.seeds)
    if ns.profiles:
        jobs = [
            Job(api, name, s, b, True)
            for api, name in _conformant_profiles()
            for s in seeds
            for b in budgets
        ]
    else:
        jobs = [Job("all", None, s, b, ns.all) for s in seeds for b in budgets]
    started = time.monotonic()
    bad: list[tuple[Job, list[str]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="teleconform-sweep-") as tmp,
        concurrent.futures.ThreadPoolExecutor(max_workers=ns.jobs) as pool,
    ):
        futures = [pool.submit(_one, job, Path(tmp)) for job in jobs]
        for future in concurrent.futures.as_completed(futures):
            job, code, problems = future.result()
            if code:
                bad.append((job, problems))
                print(f"{job.name}: exit {code}", flush=True)
                for line in problems:
                    print(f"  {line}", flush=True)
    took = time.monotonic() - started
    what = "profile runs" if ns.profiles else "seeds"
    print(
        f"{len(jobs) - len(bad)} of {len(jobs)} {what} passed "
        f"(budget {','.join(budgets)}, {ns.jobs} jobs, {took:.0f} s)"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
