"""BENCHMARKS.md from the results dictionary of benchmarks/run.py."""

from __future__ import annotations

import shlex
from typing import Any

ROW_TITLES = {
    "sandbox": "teleconform run all, sandboxes, default budget (standard)",
    "quick": "teleconform run all --budget quick",
    "workers": "teleconform run all --workers 2 (pytest-xdist processes), default budget",
    "deep": "teleconform run all --budget deep",
    "properties": "property tests only (--clause HCW-GEN-04 --clause LEAH-GEN-01)",
    "replay": "teleconform run all --replay (cassettes/)",
}


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _per_second(row: dict[str, Any], seconds_key: str) -> str:
    seconds, cases = row.get(seconds_key), row.get("cases")
    if not seconds or not cases:
        return "–"
    return f"{cases / seconds:.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _results_table(results: dict[str, Any]) -> list[str]:
    settings = results["settings"]
    header = [
        "what",
        "wall s (median)",
        "CPU s",
        "peak RSS MB",
        "cases",
        "ms/case (engine)",
        "cases/s (engine)",
        "exit",
        "notes",
    ]
    body: list[list[str]] = []
    for key, title in ROW_TITLES.items():
        row = results.get("rows", {}).get(key)
        if row is None:
            continue
        if not row.get("available", True) or not row.get("runs"):
            body.append([title, "not available", "", "", "", "", "", "", row.get("reason", "")])
            continue
        runs = len(row["runs"])
        notes = [
            f"{runs} run{'s' if runs != 1 else ''}: " + ", ".join(f"{w:.1f}" for w in row["walls"])
        ]
        totals = row.get("totals") or {}
        if totals:
            notes.append(
                f"{totals.get('pass', 0)} pass / {totals.get('fail', 0)} fail / "
                f"{totals.get('error', 0)} error / {totals.get('skip', 0)} skip"
            )
        if row.get("failing"):
            notes.append("failing: " + ", ".join(row["failing"]))
        if row.get("requests"):
            notes.append(f"{row['requests']} requests, engine {row.get('engine_s')} s")
        body.append(
            [
                title,
                _fmt(row.get("wall_s")),
                _fmt(row.get("cpu_s")),
                _fmt(row.get("max_rss_mb")),
                _fmt(row.get("cases") or None),
                # Per-case cost only where (nearly) all of the engine time is property testing.
                _fmt(row.get("ms_per_case_engine"), digits=2) if key == "properties" else "–",
                _per_second(row, "engine_s") if key == "properties" else "–",
                ",".join(str(e) for e in row.get("exits", [])),
                "; ".join(notes),
            ]
        )
    for api, row in (results.get("schemathesis") or {}).items():
        title = f"schemathesis alone: st run ({api}), --max-examples {settings['examples']}"
        if not row.get("available"):
            body.append([title, "not available", "", "", "", "", "", "", row.get("reason", "")])
            continue
        notes = [
            f"{len(row['runs'])} run{'s' if len(row['runs']) != 1 else ''}: "
            + ", ".join(f"{w:.1f}" for w in row["walls"]),
            f"st process {row['max_rss_mb']} MB + sandbox process = {row['tree_rss_mb']} MB",
            "failures on the clean sandbox: " + (", ".join(row["clean_signature"]) or "none"),
        ]
        body.append(
            [
                title,
                _fmt(row.get("wall_s")),
                _fmt(row.get("cpu_s")),
                _fmt(row.get("tree_rss_mb")),
                _fmt(row.get("cases")),
                _fmt(row.get("ms_per_case_engine"), digits=2),
                _per_second(row, "running_s"),
                ",".join(str(e) for e in row.get("exits", [])),
                "; ".join(notes),
            ]
        )
    return _table(header, body)


def st_combined(results: dict[str, Any]) -> dict[str, float] | None:
    """Both APIs' st runs together: seconds of testing, cases, wall."""
    rows = [r for r in (results.get("schemathesis") or {}).values() if r.get("available")]
    if not rows or not all(r.get("cases") for r in rows):
        return None
    running = sum(r["running_s"] for r in rows)
    cases = sum(r["cases"] for r in rows)
    return {"running_s": running, "cases": cases, "ms_per_case": 1000 * running / cases}


def _targets(results: dict[str, Any]) -> list[str]:
    rows = results.get("rows", {})
    faults = results.get("faults") or []
    st_faults = results.get("st_faults") or []

    def wall(key: str) -> float | None:
        row = rows.get(key)
        return row.get("wall_s") if row and row.get("available", True) and row.get("runs") else None

    def verdict(value: float | None, limit: float) -> str:
        if value is None:
            return "not measured"
        return "met" if value < limit else "**not met**"

    body: list[list[str]] = []
    replay = wall("replay")
    replay_note = (
        _fmt(replay, " s")
        if replay is not None
        else (
            "not available: " + rows["replay"].get("reason", "")
            if "replay" in rows
            else "not measured"
        )
    )
    body.append(["replay of all cassettes < 10 s wall", replay_note, verdict(replay, 10)])
    sandbox = wall("sandbox")
    detected = sum(1 for f in faults if f["detected"])
    every = f", faults detected {detected}/{len(faults)}" if faults else ""
    ok = verdict(sandbox, 60)
    if faults and detected < len(faults) and ok == "met":
        ok = "**not met** (detection)"
    body.append(
        [
            "default sandbox run of both APIs < 60 s, every fault detected",
            _fmt(sandbox, " s") + every,
            ok,
        ]
    )
    quick = wall("quick")
    body.append(["--budget quick < 20 s on the sandboxes", _fmt(quick, " s"), verdict(quick, 20)])
    props = rows.get("properties") or {}
    st = st_combined(results)
    if props.get("ms_per_case_engine") and st:
        ratio = props["ms_per_case_engine"] / st["ms_per_case"]
        body.append(
            [
                "property-test cost per case <= 1.2x schemathesis alone",
                f"{props['ms_per_case_engine']:.2f} ms vs {st['ms_per_case']:.2f} ms"
                f" = {ratio:.2f}x",
                "met" if ratio <= 1.2 else "**not met**",
            ]
        )
    else:
        body.append(
            [
                "property-test cost per case <= 1.2x schemathesis alone",
                "not measured",
                "not measured",
            ]
        )
    peaks = [r["max_rss_mb"] for r in rows.values() if r.get("max_rss_mb")]
    peaks += [f["max_rss_mb"] for f in faults if f.get("max_rss_mb")]
    peak = max(peaks) if peaks else None
    body.append(
        [
            "peak RSS < 400 MB (every teleconform process measured)",
            _fmt(peak, " MB"),
            verdict(peak, 400),
        ]
    )
    if faults:
        st_detected = sum(1 for f in st_faults if f["detected"])
        st_note = f"; schemathesis alone {st_detected}/{len(st_faults)}" if st_faults else ""
        body.append(
            [
                "teleconform detects every sandbox fault (schemathesis is the baseline)",
                f"teleconform {detected}/{len(faults)}{st_note}",
                "met" if detected == len(faults) else "**not met**",
            ]
        )
    body.append(["the project's test command < 10 min", "not measured by this script", "–"])
    return _table(["target", "measured", "status"], body)


def _fault_table(results: dict[str, Any]) -> list[str]:
    faults = results.get("faults") or []
    st_by = {(f["api"], f["fault"]): f for f in results.get("st_faults") or []}
    if not faults and not st_by:
        return []
    keys = [(f["api"], f["fault"]) for f in faults] or list(st_by)
    by = {(f["api"], f["fault"]): f for f in faults}
    body = []
    for key in keys:
        tc = by.get(key)
        st = st_by.get(key)
        clauses = ", ".join((tc or st or {}).get("clauses", []))
        if tc is None:
            tc_cells = ["–", "–"]
        elif tc.get("error"):
            tc_cells = ["error", tc["error"]]
        else:
            tc_cells = [
                _fmt(tc["wall_s"], " s"),
                ("**yes** " if tc["detected"] else "**no** ")
                + f"({len(tc['failed'])}/{len(tc['clauses'])}: {', '.join(tc['failed']) or '-'})",
            ]
        if st is None:
            st_cell = "–"
        else:
            st_cell = ("yes: " + ", ".join(st["new_failures"])) if st["detected"] else "no"
            if st.get("note"):
                st_cell += f" ({st['note']})"
        body.append([key[0], key[1], clauses, *tc_cells, st_cell])
    return _table(
        [
            "api",
            "fault",
            "declared clauses",
            "teleconform: time to first fail",
            "teleconform: detected (declared clauses failing)",
            "schemathesis alone: detected",
        ],
        body,
    )


def _profile(results: dict[str, Any]) -> list[str]:
    profile = results.get("profile")
    if not profile:
        return []
    lines = ["## Profile of one default run", ""]
    if not profile.get("available"):
        return lines + [f"Not available: {profile.get('reason', '')}", ""]
    lines += [
        f"`{profile['command']}`: {profile['duration_s']} s under the profiler "
        f"({profile['cpu_s']} s CPU). pyinstrument samples the main thread only: the in-process "
        "sandbox (a uvicorn thread) appears as the client waiting in socket calls. Times are "
        "inclusive and inflated by the profiler; the shares are what matter.",
        "",
        "Where the run goes:",
        "",
    ]
    lines += _table(
        ["part", "s", "% of run"],
        [
            [
                label.replace("  ", "↳ ", 1) if label.startswith("  ") else label,
                f"{s:.2f}",
                f"{p:.1f}",
            ]
            for label, s, p in profile["landmarks"]
        ],
    )
    lines += ["", "Most expensive checks:", ""]
    lines += _table(
        ["check", "s", "% of run"], [[n, f"{s:.2f}", f"{p:.1f}"] for n, s, p in profile["checks"]]
    )
    lines += ["", "Own time by package:", ""]
    lines += _table(
        ["package", "s", "% of run"],
        [[n, f"{s:.2f}", f"{p:.1f}"] for n, s, p in profile["packages"]],
    )
    return lines + [""]


def render_markdown(results: dict[str, Any]) -> str:
    """The whole BENCHMARKS.md."""
    machine = results["machine"]
    settings = results["settings"]
    versions = machine.get("versions", {})
    argv = " ".join(shlex.quote(a) for a in settings.get("argv", []))
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `benchmarks/run.py` on {results.get('finished_at', '?')} "
        f"in {results.get('elapsed_s', '?')} s; do not edit by hand, run the script again.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "sh scripts/test.sh  # makes .venv/; pyinstrument (optional) adds the profile",
        f".venv/bin/python benchmarks/run.py {argv}".rstrip(),
        *(
            ".venv/bin/python benchmarks/run.py " + " ".join(shlex.quote(a) for a in merged)
            for merged in settings.get("merged", [])
        ),
        "```",
        "",
        f"Timed runs per row: {settings['runs']} (median), after {settings['warmup']} warm-up "
        f"run(s); `--budget deep`: {settings['deep_runs']} run(s); per fault: "
        f"{settings['fault_runs']} run(s). Seed {settings['seed']}. Measured with "
        f"{settings['measured_with']}.",
        "",
        "## Machine",
        "",
    ]
    lines += _table(
        ["", ""],
        [
            ["platform", machine.get("platform", "")],
            ["CPU", f"{machine.get('cpu', '')} ({machine.get('cpus')} logical CPUs)"],
            ["memory", f"{machine.get('memory_gb')} GB"],
            ["versions", ", ".join(f"{k} {v}" for k, v in versions.items())],
            ["commit", machine.get("commit", "")],
            [
                "load average (1/5/15 min) at start / end",
                f"{machine.get('loadavg_start')} / {machine.get('loadavg_end')}",
            ],
        ],
    )
    lines += ["", "## Results", ""]
    lines += _results_table(results)
    lines += ["", "## Targets", ""]
    lines += _targets(results)
    fault_lines = _fault_table(results)
    if fault_lines:
        faults = results.get("faults") or []
        st_faults = results.get("st_faults") or []
        lines += [
            "",
            "## Sandbox faults",
            "",
            f"teleconform: `python -m teleconform run API --sandbox-fault NAME --clause C ...` "
            f"(every clause the fault declares), default budget, seed {settings['seed']}; "
            "detected = a declared clause is `fail` in report.json, with exit status 1 when "
            "that clause is a MUST (a failing SHOULD exits 0 without --strict, by design); a "
            "fault that refuses the run's own credentials is detected by the CONTRACT's exit 3 "
            "(credentials refused, before any clause runs). The "
            "time is the wall time of that whole process, start-up included. "
            f"Detected: {sum(1 for f in faults if f['detected'])}/{len(faults)}.",
            "",
            "schemathesis alone: the same `st run` as above against a sandbox started with "
            "`--fault NAME`; detected = a failure (code and operation) that none of the runs "
            "against the clean sandbox had, since st already fails there (false positives of "
            "its generic checks). "
            f"Detected: {sum(1 for f in st_faults if f['detected'])}/{len(st_faults)}."
            if st_faults
            else "",
            "",
        ]
        lines += fault_lines
    lines += [""]
    lines += _profile(results)
    lines += [
        "## How it is measured",
        "",
        "- Every number is one whole process (`python -m teleconform run ...` or `st run ...`), "
        "wall time from the parent's clock, CPU time and peak RSS from `/usr/bin/time -v` "
        "(fallback: the child's rusage from `os.wait4`). Rows give the median wall and CPU "
        "time and the highest peak RSS of the timed runs.",
        "- teleconform serves the sandboxes inside its own process (uvicorn threads), so its "
        "peak RSS is the whole tree. schemathesis needs a separate sandbox process "
        "(`teleconform sandbox API`): its RSS column is st's peak plus the sandbox's peak "
        "(VmHWM), an upper bound of the tree's peak.",
        f"- Comparable examples: teleconform's standard budget draws 25 positive + 25 "
        f"negative cases per operation; st gets `--max-examples {settings['examples']}` "
        f"(both modes share it), phases `{settings['st_phases']}` (teleconform follows the "
        "spec's links as well), `--no-shrink`, one worker, no example database, the same seed. "
        "HCW gets a bearer token from one login-local, Leah the sandbox's API key.",
        "- ms/case (engine): teleconform: the report's `elapsed_s` of both APIs (the engine's "
        "time from the first to the last request, without interpreter start-up and sandbox "
        "start) over the generated cases counted in the `cases` measurement of HCW-GEN-04 and "
        "LEAH-GEN-01 (fuzzing and link cases; authentication probes are extra requests, not "
        "counted). In the property-tests-only row nearly all of that time is property testing. "
        "schemathesis: its JSON report's `running_time` over `test_cases.generated`. "
        "cases/s is the inverse.",
        "- The machine is shared: other processes ran during the measurement (see the load "
        "average); CPU time is less sensitive to that than wall time.",
        "",
    ]
    return "\n".join(line for line in lines).rstrip("\n") + "\n"
