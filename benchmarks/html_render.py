"""How long writing report.html takes for a large report, per source tree.

The report: a replayed run of both APIs (`teleconform run all --replay --seed 1`, the merged
report of hcw and leah) with every clause's evidence repeated `--factor` times (default 10;
the page shows at most 20 exchanges a clause). Each source renders it in a fresh interpreter:
*import* is importing teleconform.report, *first* the first render (templates compiled then),
*median* and *min* are of `--repeat` further renders. Sources take turns, `--rounds` times
(the machine may be shared), and each figure is the median over the rounds. Compare two
checkouts (before/after a change) with ``--source``:

    .venv/bin/python benchmarks/html_render.py
    .venv/bin/python benchmarks/html_render.py --source /path/to/old/checkout --source . --write

A source's ``src/`` goes first on PYTHONPATH, so the same virtualenv measures both. ``--write``
puts the table into BENCHMARKS.md between its html-render markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- html-render:start -->", "<!-- html-render:end -->"

# Runs in the measured interpreter: argv[1] the report, argv[2] how many timed renders.
_WORKER = """
import json, sys, time
report = json.load(open(sys.argv[1], encoding="utf-8"))
t0 = time.perf_counter()
from teleconform.report import html
t1 = time.perf_counter()
page = html.render(report)
first = time.perf_counter() - t1
import_s = t1 - t0
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    html.render(report)
    times.append(time.perf_counter() - t)
print(json.dumps({"import": import_s, "first": first, "times": times, "bytes": len(page.encode())}))
"""


@dataclass(frozen=True)
class RenderCost:
    """What rendering the report cost one source tree."""

    source: str
    commit: str
    import_ms: float
    first_ms: float
    median_ms: float
    min_ms: float
    page_kb: float


def _commit(source: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    # a tree without git (e.g. `git archive` of the old commit) is named by its directory
    if done.returncode != 0:
        return source.name
    changed = subprocess.run(
        ["git", "-C", str(source), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() + (" + uncommitted changes" if changed.stdout.strip() else "")


def big_report(factor: int, given: Path | None, work: Path) -> Path:
    """The report to render: `given`, or a replayed run of both APIs, evidence × factor."""
    if given is None:
        subprocess.run(
            [sys.executable, "-m", "teleconform", "run", "all", "--replay", "--seed", "1"]
            + ["--report-dir", str(work / "run"), "--quiet"],
            check=True,
            cwd=REPO,
        )
        given = work / "run" / "report.json"
    report: dict[str, Any] = json.loads(given.read_text(encoding="utf-8"))
    for run in report.get("runs", []):
        for clause in run.get("clauses", []):
            clause["evidence"] = list(clause.get("evidence") or []) * factor
    path = work / f"report-x{factor}.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def measure(source: Path, report: Path, repeat: int) -> RenderCost:
    """Render `report` with `source`'s teleconform in one fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(source / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(report), str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(done.stdout)
    times = [t * 1000 for t in data["times"]]
    return RenderCost(
        source=str(source),
        commit=_commit(source),
        import_ms=data["import"] * 1000,
        first_ms=data["first"] * 1000,
        median_ms=statistics.median(times),
        min_ms=min(times),
        page_kb=data["bytes"] / 1024,
    )


def _median(costs: list[RenderCost]) -> RenderCost:
    """Each figure's median over the rounds of one source."""

    def mid(field: str) -> float:
        return float(statistics.median(getattr(c, field) for c in costs))

    return RenderCost(
        source=costs[0].source,
        commit=costs[0].commit,
        import_ms=mid("import_ms"),
        first_ms=mid("first_ms"),
        median_ms=mid("median_ms"),
        min_ms=min(c.min_ms for c in costs),
        page_kb=costs[0].page_kb,
    )


def table(
    costs: list[RenderCost], report: Path, factor: int, repeat: int, rounds: int, note: str = ""
) -> str:
    """The Markdown section for BENCHMARKS.md."""
    data = json.loads(report.read_text(encoding="utf-8"))
    clauses = [c for r in data.get("runs", []) for c in r.get("clauses", [])]
    exchanges = sum(len(c.get("evidence") or []) for c in clauses)
    lines = [
        "## report.html rendering",
        "",
        f"Measured by `benchmarks/html_render.py --repeat {repeat} --rounds {rounds}` on "
        f"{datetime.now(UTC).date()} ({platform.machine()}, {os.cpu_count()} CPUs, python "
        f"{platform.python_version()}): the replayed run of both APIs with every clause's "
        f"evidence ×{factor} ({len(clauses)} clauses, {exchanges} exchanges, "
        f"{report.stat().st_size // 1024} KB of report.json). *import* is importing "
        "teleconform.report, *first* the first render (templates compiled), *median*/*min* "
        f"of {repeat} more renders; {rounds} fresh interpreters per source, taking turns, "
        "each figure the median over them (*min* the least). Load average at the end: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (a shared machine: compare rows "
        "of one table, not across tables).",
        "",
        "| source | import ms | first render ms | median render ms | min render ms | page KB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in costs:
        lines.append(
            f"| {c.commit} | {c.import_ms:.0f} | {c.first_ms:.0f} | {c.median_ms:.0f} | "
            f"{c.min_ms:.0f} | {c.page_kb:.0f} |"
        )
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def write(section: str, path: Path) -> None:
    """Replace (or append) the marked section of BENCHMARKS.md."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{START}\n{section}{END}\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", action="append", type=Path, help="checkout (repeatable)")
    parser.add_argument("--report", type=Path, help="report.json to start from")
    parser.add_argument("--factor", type=int, default=10, help="evidence repetition")
    parser.add_argument("--repeat", type=int, default=20, help="timed renders per process")
    parser.add_argument("--rounds", type=int, default=5, help="processes per source, in turns")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--note", default="", help="a paragraph under the table (what changed)")
    opts = parser.parse_args(argv)
    sources = [s.resolve() for s in (opts.source or [REPO])]
    with tempfile.TemporaryDirectory(prefix="teleconform-html-bench-") as tmp:
        report = big_report(opts.factor, opts.report, Path(tmp))
        rounds = [
            [measure(source, report, opts.repeat) for source in sources] for _ in range(opts.rounds)
        ]
        costs = [_median([r[i] for r in rounds]) for i in range(len(sources))]
        section = table(costs, report, opts.factor, opts.repeat, opts.rounds, opts.note)
    print(section)
    if opts.write:
        write(section, REPO / "BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
