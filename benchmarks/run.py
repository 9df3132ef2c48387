#!/usr/bin/env python3
"""teleconform benchmarks: whole-process timings against the embedded sandboxes.

Measures `teleconform run all` (sandboxes, each budget), `teleconform run all --replay`,
schemathesis alone (`st run`) on the same specs and sandboxes over HTTP, teleconform's time
to the first fail per sandbox fault, which faults each tool detects, and the peak RSS of
each; profiles one default run with pyinstrument when it is installed. Writes BENCHMARKS.md
(and the raw numbers as JSON).

Run from the project root with the project venv:

    .venv/bin/python benchmarks/run.py                  # everything (tens of minutes)
    .venv/bin/python benchmarks/run.py --only sandbox,replay --runs 5
    .venv/bin/python benchmarks/run.py --only faults --faults create-201 --runs 1 --warmup 0
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import Sample, gnu_time_available, median, run_timed  # noqa: E402
from _report import render_markdown  # noqa: E402
from _sandbox import SandboxError, SandboxProcess, default_python  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APIS = ("hcw", "leah")
SPECS = {"hcw": "specs/hcw-athome.openapi.yaml", "leah": "specs/leah.openapi.yaml"}
SECTIONS = (
    "sandbox",
    "quick",
    "workers",
    "deep",
    "properties",
    "replay",
    "schemathesis",
    "faults",
    "st-faults",
    "profile",
)
# Generated cases per operation at the default (standard) budget: 25 positive + 25 negative
# (teleconform.properties.BUDGETS); schemathesis' --max-examples counts both modes together.
DEFAULT_EXAMPLES = 50
PROPERTY_CLAUSES = ("HCW-GEN-04", "LEAH-GEN-01")


# -- teleconform processes ---------------------------------------------------------------------
def clean_env() -> dict[str, str]:
    """Our environment without TELECONFORM_* (no live credentials leak into a sandbox run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    env["NO_COLOR"] = "1"
    return env


def teleconform_once(
    python: str, args: Sequence[str], *, timeout_s: float, gnu_time: bool
) -> tuple[Sample, dict[str, Any] | None]:
    """One `python -m teleconform run ...` with a private report dir; (sample, report.json)."""
    with tempfile.TemporaryDirectory(prefix="tc-bench-report-") as report_dir:
        cmd = [python, "-m", "teleconform", "run", *args, "--report-dir", report_dir]
        sample = run_timed(
            cmd, cwd=ROOT, env=clean_env(), timeout_s=timeout_s, use_gnu_time=gnu_time
        )
        path = Path(report_dir, "report.json")
        report = None
        if path.is_file():
            try:
                report = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                report = None
    return sample, report


def report_facts(report: dict[str, Any] | None) -> dict[str, Any]:
    """What a report.json says about a run: verdict totals, requests, cases, failing clauses."""
    if not report:
        return {}
    cases = 0
    engine_s = 0.0
    requests = 0
    failing: list[str] = []
    for run in report.get("runs", []):
        engine_s += float(run.get("elapsed_s", 0.0))
        requests += int(run.get("requests_sent", 0))
        for clause in run.get("clauses", []):
            if clause.get("verdict") in ("fail", "error"):
                failing.append(f"{clause['id']} ({clause['verdict']})")
            counted = (clause.get("measurements") or {}).get("cases")
            if isinstance(counted, dict):
                for per_mode in counted.values():
                    if isinstance(per_mode, dict):
                        cases += sum(int(v) for v in per_mode.values())
    return {
        "totals": report.get("totals", {}),
        "engine_s": round(engine_s, 3),
        "requests": requests,
        "cases": cases,
        "failing": failing,
    }


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def teleconform_row(
    name: str,
    args: Sequence[str],
    *,
    runs: int,
    warmup: int,
    opts: Options,
    display: str,
) -> dict[str, Any]:
    """Warm-up runs, then ``runs`` timed runs; 'not available' when the command cannot run."""
    row: dict[str, Any] = {"name": name, "command": display, "runs": [], "available": True}
    for index in range(warmup + runs):
        sample, report = teleconform_once(
            opts.python, args, timeout_s=opts.timeout_s, gnu_time=opts.gnu_time
        )
        if sample.timed_out or sample.returncode not in (0, 1) or report is None:
            row["available"] = False
            why = "timed out" if sample.timed_out else f"exit {sample.returncode}"
            row["reason"] = f"{why}: {last_line(sample.stderr or sample.stdout)}"
            opts.log(f"  {name}: not available ({row['reason']})")
            return row
        facts = report_facts(report)
        opts.log(
            f"  {name} {'warm-up' if index < warmup else f'run {index - warmup + 1}'}: "
            f"{sample.wall_s:.1f}s wall, {sample.cpu_s:.1f}s CPU, "
            f"{sample.max_rss_kb // 1024} MB, exit {sample.returncode}"
        )
        if index >= warmup:
            row["runs"].append(sample_json(sample) | facts)
    return summarise(row)


def sample_json(sample: Sample) -> dict[str, Any]:
    return {
        "wall_s": round(sample.wall_s, 3),
        "cpu_s": round(sample.cpu_s, 3),
        "max_rss_kb": sample.max_rss_kb,
        "exit": sample.returncode,
        "method": sample.method,
    }


def summarise(row: dict[str, Any]) -> dict[str, Any]:
    runs = row["runs"]
    if not runs:
        return row
    row["wall_s"] = round(median([r["wall_s"] for r in runs]), 2)
    row["cpu_s"] = round(median([r["cpu_s"] for r in runs]), 2)
    row["max_rss_mb"] = round(max(r["max_rss_kb"] for r in runs) / 1024, 1)
    row["walls"] = [r["wall_s"] for r in runs]
    row["exits"] = sorted({r["exit"] for r in runs})
    last = runs[-1]
    for key in ("totals", "requests", "cases", "failing"):
        if key in last:
            row[key] = last[key]
    if any("engine_s" in r for r in runs):
        row["engine_s"] = round(median([r.get("engine_s", 0.0) for r in runs]), 2)
    if row.get("cases"):
        row["ms_per_case_engine"] = round(1000 * row["engine_s"] / row["cases"], 2)
        row["ms_per_case_wall"] = round(1000 * row["wall_s"] / row["cases"], 2)
    return row


# -- schemathesis ------------------------------------------------------------------------------
def st_binary(python: str) -> str | None:
    candidate = Path(python).parent / "st"
    if candidate.exists():
        return str(candidate)
    from shutil import which

    return which("st")


def st_args(api: str, url: str, header: str | None, opts: Options, report_path: str) -> list[str]:
    args = [
        "run",
        str(ROOT / SPECS[api]),
        "--url",
        url,
        "--max-examples",
        str(opts.examples),
        "--seed",
        str(opts.seed),
        "--phases",
        opts.st_phases,
        "--no-shrink",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--report",
        "json",
        "--report-json-path",
        report_path,
    ]
    if header:
        args[4:4] = ["-H", header]
    return args


def st_display(api: str, opts: Options) -> str:
    header = '-H "Authorization: Bearer $TOKEN"' if api == "hcw" else '-H "LEAH-AUTH-TOKEN: $KEY"'
    return (
        f"st run {SPECS[api]} --url $TELECONFORM_TARGET {header} --max-examples {opts.examples} "
        f"--seed {opts.seed} --phases {opts.st_phases} --no-shrink --workers 1 "
        "--generation-database none --report json"
    )


def st_once(api: str, faults: tuple[str, ...], opts: Options) -> dict[str, Any]:
    """One st run against a fresh sandbox process; the numbers and the failure signature."""
    st = st_binary(opts.python)
    if st is None:
        return {"error": "the schemathesis CLI (st) is not installed"}
    with tempfile.TemporaryDirectory(prefix="tc-bench-st-") as tmp:
        sandbox = SandboxProcess(api, faults=faults, cwd=ROOT, python=opts.python)
        try:
            sandbox.start()
        except SandboxError as exc:
            return {"error": str(exc)}
        note = ""
        try:
            try:
                header: str | None = sandbox.auth_header()
            except SandboxError as exc:
                header, note = None, f"no credentials for st: {exc}"
            report_path = str(Path(tmp, "st.json"))
            # st runs in an empty directory: no schemathesis.toml or .hypothesis is picked up.
            sample = run_timed(
                [st, *st_args(api, sandbox.base_url, header, opts, report_path)],
                cwd=Path(tmp),
                env=clean_env(),
                timeout_s=opts.timeout_s,
                use_gnu_time=opts.gnu_time,
            )
        finally:
            sandbox.stop()
        data: dict[str, Any] = {}
        if Path(report_path).is_file():
            data = json.loads(Path(report_path).read_text(encoding="utf-8"))
    result = sample_json(sample) | {
        "sandbox_rss_kb": sandbox.peak_rss_kb,
        "tree_rss_kb": sample.max_rss_kb + sandbox.peak_rss_kb,
        "running_time_s": round(float(data.get("running_time", 0.0)), 3),
        "cases": int((data.get("test_cases") or {}).get("generated", 0)),
        "signature": sorted(st_signature(data)),
        "note": note,
    }
    if not data:
        result["error"] = f"st wrote no JSON report (exit {sample.returncode}): " + last_line(
            sample.stderr or sample.stdout
        )
    return result


def st_signature(data: dict[str, Any]) -> set[str]:
    """The failures of an st JSON report as 'CODE operation' strings."""
    found = set()
    for failure in data.get("failures") or []:
        for operation in failure.get("operations") or ["?"]:
            found.add(f"{failure.get('code', failure.get('type', '?'))} {operation}")
    return found


def schemathesis_rows(opts: Options) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for api in opts.apis:
        row: dict[str, Any] = {
            "name": f"st run ({api})",
            "command": st_display(api, opts),
            "runs": [],
        }
        for index in range(opts.warmup + opts.runs):
            result = st_once(api, (), opts)
            if "error" in result:
                row["available"], row["reason"] = False, result["error"]
                opts.log(f"  st {api}: not available ({result['error']})")
                break
            opts.log(
                f"  st {api} {'warm-up' if index < opts.warmup else 'run'}: "
                f"{result['wall_s']:.1f}s wall, {result['cases']} cases, exit {result['exit']}, "
                f"{result['signature']}"
            )
            # Every clean run (warm-up too) widens the baseline a fault run is compared with.
            row.setdefault("clean_signature", set()).update(result["signature"])
            if index >= opts.warmup:
                row["runs"].append(result)
        row["clean_signature"] = sorted(row.get("clean_signature", set()))
        runs = row["runs"]
        if runs:
            row["available"] = True
            row["wall_s"] = round(median([r["wall_s"] for r in runs]), 2)
            row["cpu_s"] = round(median([r["cpu_s"] for r in runs]), 2)
            row["running_s"] = round(median([r["running_time_s"] for r in runs]), 2)
            row["cases"] = int(median([r["cases"] for r in runs]))
            row["max_rss_mb"] = round(max(r["max_rss_kb"] for r in runs) / 1024, 1)
            row["tree_rss_mb"] = round(max(r["tree_rss_kb"] for r in runs) / 1024, 1)
            row["exits"] = sorted({r["exit"] for r in runs})
            row["walls"] = [r["wall_s"] for r in runs]
            if row["cases"]:
                row["ms_per_case_engine"] = round(1000 * row["running_s"] / row["cases"], 2)
                row["ms_per_case_wall"] = round(1000 * row["wall_s"] / row["cases"], 2)
        rows[api] = row
    return rows


# -- faults ------------------------------------------------------------------------------------
def fault_table(api: str) -> dict[str, list[str]]:
    """Fault name -> the clause ids it declares, from the sandbox module."""
    import importlib

    module = importlib.import_module(f"teleconform.sandbox.{api}")
    return {name: sorted(f.clauses) for name, f in sorted(module.FAULTS.items())}


def selected_faults(opts: Options) -> list[tuple[str, str, list[str]]]:
    chosen = []
    for api in opts.apis:
        for name, clauses in fault_table(api).items():
            if opts.faults and name not in opts.faults:
                continue
            chosen.append((api, name, clauses))
    return chosen


def teleconform_fault_rows(opts: Options) -> list[dict[str, Any]]:
    rows = []
    for api, fault, clauses in selected_faults(opts):
        args = [api, "--sandbox-fault", fault, "--seed", str(opts.seed)]
        for cid in clauses:
            args += ["--clause", cid]
        walls, cpus, rss, failed, exits = [], [], [], set(), set()
        error = ""
        for _ in range(opts.fault_runs):
            sample, report = teleconform_once(
                opts.python, args, timeout_s=opts.timeout_s, gnu_time=opts.gnu_time
            )
            exits.add(sample.returncode)
            if report is None:
                message = last_line(sample.stderr or sample.stdout)
                if sample.returncode == 3 and "refused" in message:
                    # CONTRACT exit 3: the target refused the configured credentials before any
                    # clause could run (a fault such as valid-key-refused): a loud detection.
                    failed.update(clauses)
                    walls.append(sample.wall_s)
                    cpus.append(sample.cpu_s)
                    rss.append(sample.max_rss_kb)
                    break
                error = f"exit {sample.returncode}: {message}"
                break
            walls.append(sample.wall_s)
            cpus.append(sample.cpu_s)
            rss.append(sample.max_rss_kb)
            for run in report.get("runs", []):
                for clause in run.get("clauses", []):
                    if clause["id"] in clauses and clause["verdict"] == "fail":
                        failed.add(clause["id"])
        detected = judge(failed, exits, error)
        row = {
            "api": api,
            "fault": fault,
            "clauses": clauses,
            "failed": sorted(failed),
            "detected": detected,
            "exits": sorted(exits),
            "error": error,
            "wall_s": round(median(walls), 2) if walls else None,
            "cpu_s": round(median(cpus), 2) if cpus else None,
            "max_rss_mb": round(max(rss) / 1024, 1) if rss else None,
        }
        opts.log(
            f"  {api} {fault}: {'detected' if detected else 'NOT detected'} "
            f"({len(failed)}/{len(clauses)} declared clauses fail) in {row['wall_s']}s"
        )
        rows.append(row)
    return rows


def judge(failed: set[str] | list[str], exits: set[int] | list[int], error: str) -> bool:
    """A fault is detected when a clause it declares fails with the exit status that implies.

    The exit status is 1 only when a MUST clause fails: a failing SHOULD/MAY clause is
    reported with exit 0 unless --strict, and that is still a detection.
    """
    if error or not failed:
        return False
    must = {cid for cid, level in clause_levels().items() if level == "MUST"}
    return bool({1, 3} & set(exits)) if set(failed) & must else True


_LEVELS: dict[str, str] = {}


def clause_levels() -> dict[str, str]:
    """Clause id -> MUST/SHOULD/MAY from the shipped catalogue."""
    if not _LEVELS:
        from teleconform.catalogue import load_catalogue

        _LEVELS.update({cid: clause.level for cid, clause in load_catalogue().items()})
    return _LEVELS


def st_fault_rows(opts: Options, clean: dict[str, Any]) -> list[dict[str, Any]]:
    """st against a sandbox with each fault on; detected = a failure the clean runs never had."""
    work = selected_faults(opts)

    def one(item: tuple[str, str, list[str]]) -> dict[str, Any]:
        api, fault, clauses = item
        baseline = set((clean.get(api) or {}).get("clean_signature") or [])
        try:
            result = st_once(api, (fault,), opts)
        except Exception as exc:  # one broken fault run must not lose the others
            result = {"error": f"{type(exc).__name__}: {exc}"}
        new = sorted(set(result.get("signature", [])) - baseline)
        row = {
            "api": api,
            "fault": fault,
            "clauses": clauses,
            "exit": result.get("exit"),
            "new_failures": new,
            "detected": bool(new) and "error" not in result,
            "note": result.get("error") or result.get("note", ""),
        }
        return row

    rows: list[dict[str, Any]] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        for row in pool.map(one, work):
            opts.log(
                f"  st {row['api']} {row['fault']}: "
                f"{'detected' if row['detected'] else 'not detected'} {row['new_failures']}"
                + (f" ({row['note']})" if row["note"] else "")
            )
            rows.append(row)
    return rows


# -- profile -----------------------------------------------------------------------------------
def profile_section(opts: Options) -> dict[str, Any]:
    """One default run under pyinstrument (main thread: the sandbox shows as socket waits)."""
    try:
        import pyinstrument  # noqa: F401  (optional: only the profile needs it)
    except ImportError:
        return {"available": False, "reason": "pyinstrument is not installed in this interpreter"}
    from _profile import top_costs

    with tempfile.TemporaryDirectory(prefix="tc-bench-prof-") as tmp:
        session = Path(tmp, "run.pyisession")
        cmd = [
            opts.python,
            "-m",
            "pyinstrument",
            "-r",
            "session",
            "-o",
            str(session),
            "-m",
            "teleconform",
            "run",
            "all",
            "--seed",
            str(opts.seed),
            "--quiet",
            "--report-dir",
            str(Path(tmp, "reports")),
        ]
        sample = run_timed(
            cmd, cwd=ROOT, env=clean_env(), timeout_s=opts.timeout_s, use_gnu_time=opts.gnu_time
        )
        report_path = Path(tmp, "reports", "report.json")
        facts = report_facts(json.loads(report_path.read_text())) if report_path.is_file() else {}
        # A run that crashed or skipped its property tests would profile the wrong thing.
        if not session.is_file() or sample.returncode not in (0, 1) or not facts.get("cases"):
            why = last_line(sample.stderr) if sample.returncode not in (0, 1) else "no cases run"
            return {"available": False, "reason": f"exit {sample.returncode}: {why}"}
        costs = top_costs(session)
        costs["cases"] = facts["cases"]
    costs["available"] = True
    costs["command"] = f"python -m pyinstrument -m teleconform run all --seed {opts.seed} --quiet"
    return costs


# -- machine and main --------------------------------------------------------------------------
def machine_info(python: str) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    versions = subprocess.run(
        [
            python,
            "-c",
            "import importlib.metadata as m, sys; print(sys.version.split()[0]); "
            "[print(m.version(d)) for d in ('teleconform', 'schemathesis', 'hypothesis', 'httpx')]",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    names = ("python", "teleconform", "schemathesis", "hypothesis", "httpx")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "versions": dict(zip(names, versions, strict=False)),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


class Options:
    """Parsed command line plus derived settings."""

    def __init__(self, ns: argparse.Namespace, argv: list[str]) -> None:
        self.runs: int = ns.runs
        self.warmup: int = ns.warmup
        self.deep_runs: int = ns.deep_runs
        self.fault_runs: int = ns.fault_runs
        self.seed: int = ns.seed
        self.examples: int = ns.examples
        self.st_phases: str = ns.st_phases
        self.jobs: int = ns.jobs
        self.timeout_s: float = ns.timeout
        self.apis: tuple[str, ...] = APIS if ns.api == "all" else (ns.api,)
        self.faults: set[str] = set(ns.faults.split(",")) if ns.faults else set()
        self.sections: tuple[str, ...] = tuple(ns.only.split(",")) if ns.only else SECTIONS
        self.python: str = ns.python or default_python()
        self.gnu_time: bool = gnu_time_available() and not ns.no_gnu_time
        self.quiet: bool = ns.quiet
        self.output = Path(ns.output)
        self.json_path = (
            Path(ns.json_path) if ns.json_path else ROOT / "benchmarks" / "results.json"
        )
        self.argv = argv
        self.merge: bool = ns.merge

    def log(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=5, help="timed runs per row (median); default 5")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first; default 1")
    p.add_argument("--deep-runs", type=int, default=1, help="timed runs of --budget deep")
    p.add_argument("--fault-runs", type=int, default=1, help="timed runs per fault")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help="st --max-examples (default: the standard budget's 25+25 per operation)",
    )
    p.add_argument("--st-phases", default="fuzzing,stateful")
    p.add_argument("--jobs", type=int, default=2, help="parallel st runs for fault detection only")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per process")
    p.add_argument("--api", choices=["hcw", "leah", "all"], default="all")
    p.add_argument("--faults", help="comma-separated fault names (default: every fault)")
    p.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    p.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument(
        "--json", dest="json_path", help="raw results (default: benchmarks/results.json)"
    )
    p.add_argument("--python", help="interpreter with teleconform installed (default: this one)")
    p.add_argument(
        "--no-gnu-time", action="store_true", help="use os.wait4 even if /usr/bin/time exists"
    )
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the other sections of an earlier --json file and re-measure only --only",
    )
    p.add_argument("--quiet", action="store_true")
    ns = p.parse_args(argv)
    unknown = [s for s in (ns.only or "").split(",") if s and s not in SECTIONS]
    if unknown:
        p.error(f"--only: unknown section {unknown[0]} (choose from {', '.join(SECTIONS)})")
    if ns.runs < 1 or ns.warmup < 0 or ns.fault_runs < 1 or ns.deep_runs < 1:
        p.error("--runs, --fault-runs and --deep-runs must be >= 1, --warmup >= 0")
    return Options(ns, list(argv if argv is not None else sys.argv[1:]))


def run_sections(opts: Options) -> dict[str, Any]:
    apis = "all" if len(opts.apis) == 2 else opts.apis[0]
    seed = ["--seed", str(opts.seed)]
    results: dict[str, Any] = {
        "machine": machine_info(opts.python),
        "settings": {
            "runs": opts.runs,
            "warmup": opts.warmup,
            "deep_runs": opts.deep_runs,
            "fault_runs": opts.fault_runs,
            "seed": opts.seed,
            "examples": opts.examples,
            "st_phases": opts.st_phases,
            "measured_with": "/usr/bin/time -v" if opts.gnu_time else "os.wait4 rusage",
            "argv": opts.argv,
        },
    }
    started = time.monotonic()
    if opts.merge and opts.json_path.is_file():
        previous = json.loads(opts.json_path.read_text(encoding="utf-8"))
        previous["settings"].setdefault("merged", []).append(opts.argv)
        previous["machine"]["loadavg_start"] = results["machine"]["loadavg_start"]
        results = previous
    rows: dict[str, Any] = results.get("rows", {})

    def tc(name: str, args: list[str], runs: int, warmup: int) -> None:
        opts.log(f"{name}: teleconform run {' '.join(args)}")
        rows[name] = teleconform_row(
            name,
            args,
            runs=runs,
            warmup=warmup,
            opts=opts,
            display="python -m teleconform run " + " ".join(shlex.quote(a) for a in args),
        )

    steps: list[tuple[str, Callable[[], None]]] = [
        ("sandbox", lambda: tc("sandbox", [apis, *seed], opts.runs, opts.warmup)),
        ("quick", lambda: tc("quick", [apis, "--budget", "quick", *seed], opts.runs, opts.warmup)),
        (
            "workers",
            lambda: tc("workers", [apis, "--workers", "2", *seed], opts.runs, opts.warmup),
        ),
        (
            "properties",
            lambda: tc(
                "properties",
                [
                    apis,
                    *[
                        a
                        for c in PROPERTY_CLAUSES
                        if c.split("-")[0].lower() in opts.apis
                        for a in ("--clause", c)
                    ],
                    *seed,
                ],
                opts.runs,
                opts.warmup,
            ),
        ),
        ("replay", lambda: tc("replay", [apis, "--replay"], opts.runs, opts.warmup)),
        ("deep", lambda: tc("deep", [apis, "--budget", "deep", *seed], opts.deep_runs, 0)),
    ]
    results["rows"] = rows

    def schemathesis() -> None:
        opts.log("schemathesis on the clean sandboxes")
        results["schemathesis"] = schemathesis_rows(opts)

    def faults() -> None:
        opts.log("teleconform per fault (time to the first fail)")
        results["faults"] = merge_rows(results.get("faults"), teleconform_fault_rows(opts))

    def st_faults() -> None:
        if "schemathesis" not in results:
            schemathesis()  # the clean runs are the baseline detection is judged against
        opts.log("schemathesis per fault (detection)")
        results["st_faults"] = merge_rows(
            results.get("st_faults"), st_fault_rows(opts, results["schemathesis"])
        )

    def profile() -> None:
        opts.log("profile (pyinstrument)")
        results["profile"] = profile_section(opts)

    steps += [
        ("schemathesis", schemathesis),
        ("faults", faults),
        ("profile", profile),
        ("st-faults", st_faults),
    ]
    for section, step in steps:
        if section in opts.sections:
            step()
            save(results, opts, started)  # a crash later keeps what was measured
    return results


def merge_rows(old: list[dict[str, Any]] | None, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-fault rows: the new ones replace earlier rows of the same fault, order kept."""
    by_key = {(r["api"], r["fault"]): r for r in old or []}
    by_key.update({(r["api"], r["fault"]): r for r in new})
    return [by_key[key] for key in sorted(by_key)]


def save(results: dict[str, Any], opts: Options, started: float) -> None:
    """Write the JSON and BENCHMARKS.md for what has been measured so far."""
    results["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    results["finished_at"] = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    for row in results.get("faults") or []:  # rows merged from an earlier run are judged alike
        row["detected"] = judge(row["failed"], row["exits"], row["error"])
    opts.json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    opts.output.write_text(
        render_markdown(results) + _kept_proxy_section(opts.output), encoding="utf-8"
    )


# Sections other scripts write between their markers (proxy_latency.py, html_render.py).
KEPT_SECTIONS = ("proxy-latency", "html-render")


def _kept_proxy_section(path: Path) -> str:
    """The sections other benchmark scripts write (between their markers), kept as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = ""
    for name in KEPT_SECTIONS:
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text and end in text:
            kept += "\n" + start + text.split(start, 1)[1].split(end, 1)[0] + end + "\n"
    return kept


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    results = run_sections(opts)
    opts.log(f"wrote {opts.output} and {opts.json_path} in {results['elapsed_s']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
