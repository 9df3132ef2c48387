"""The machinery of benchmarks/run.py: process measurement, report facts, BENCHMARKS.md.

Nothing here is a timing assertion: the benchmark's numbers depend on the machine; these
tests check that the script measures, parses and writes what it claims to.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_tc_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


measure = _load("_measure")
report = _load("_report")
bench = _load("run")

GNU_TIME_REPORT = """\
\tCommand being timed: "python -m teleconform run all"
\tUser time (seconds): 9.67
\tSystem time (seconds): 1.58
\tPercent of CPU this job got: 42%
\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:26.75
\tMaximum resident set size (kbytes): 302860
\tExit status: 1
"""


def test_parse_gnu_time_reads_cpu_rss_and_wall() -> None:
    numbers = measure.parse_gnu_time(GNU_TIME_REPORT)
    assert numbers["user_s"] == pytest.approx(9.67)
    assert numbers["sys_s"] == pytest.approx(1.58)
    assert numbers["max_rss_kb"] == 302860
    assert numbers["wall_s"] == pytest.approx(86.75)
    with pytest.raises(ValueError, match="not a /usr/bin/time -v report"):
        measure.parse_gnu_time("Command exited with non-zero status 1\n")


ALLOCATE = (
    "import sys; block = bytearray(80 * 1024 * 1024); block[::4096] = b'x' * len(block[::4096]); "
    "print('allocated'); sys.exit(3)"
)


@pytest.mark.parametrize("gnu", [False, True], ids=["wait4", "gnu-time"])
def test_run_timed_measures_the_child_not_the_parent(gnu: bool, tmp_path: Path) -> None:
    if gnu and not measure.gnu_time_available():
        pytest.skip("/usr/bin/time (Debian package `time`) is not installed; wait4 covers it")
    sample = measure.run_timed(
        [sys.executable, "-c", ALLOCATE], cwd=tmp_path, timeout_s=60, use_gnu_time=gnu
    )
    assert sample.returncode == 3
    assert sample.stdout.strip() == "allocated"
    assert sample.max_rss_kb > 80 * 1024  # the 80 MiB block was touched page by page
    assert sample.wall_s > 0 and sample.cpu_s >= 0
    assert sample.method == ("/usr/bin/time -v" if gnu else "os.wait4 rusage")


def test_run_timed_kills_a_process_past_its_timeout(tmp_path: Path) -> None:
    sample = measure.run_timed(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        cwd=tmp_path,
        timeout_s=0.5,
        use_gnu_time=False,
    )
    assert sample.timed_out
    assert sample.returncode != 0
    assert sample.wall_s < 30  # killed, not waited for: the child would sleep 30 s


def test_report_facts_counts_cases_engine_time_and_failures() -> None:
    facts = bench.report_facts(
        {
            "totals": {"pass": 3, "fail": 1, "skip": 0, "error": 1},
            "runs": [
                {
                    "elapsed_s": 2.5,
                    "requests_sent": 40,
                    "clauses": [
                        {
                            "id": "HCW-GEN-04",
                            "verdict": "pass",
                            "measurements": {
                                "cases": {
                                    "GET /a": {"positive": 25, "negative": 25},
                                    "POST /b": {"positive": 3, "negative": 0},
                                }
                            },
                        },
                        {"id": "HCW-INV-01", "verdict": "fail"},
                    ],
                },
                {
                    "elapsed_s": 1.5,
                    "requests_sent": 10,
                    "clauses": [{"id": "LEAH-GEN-01", "verdict": "error"}],
                },
            ],
        }
    )
    assert facts["cases"] == 53
    assert facts["engine_s"] == pytest.approx(4.0)
    assert facts["requests"] == 50
    assert facts["failing"] == ["HCW-INV-01 (fail)", "LEAH-GEN-01 (error)"]


def test_st_signature_names_each_failure_per_operation() -> None:
    data = {
        "failures": [
            {"code": "ST401", "operations": ["GET /api/v1/invite", "Stateful tests"]},
            {"code": "ST202", "operations": ["POST /api/v1/invite"]},
        ]
    }
    assert bench.st_signature(data) == {
        "ST401 GET /api/v1/invite",
        "ST401 Stateful tests",
        "ST202 POST /api/v1/invite",
    }
    assert bench.st_signature({}) == set()


def test_a_fault_counts_as_detected_when_a_declared_clause_fails_with_its_exit() -> None:
    assert bench.judge({"HCW-SSO-02"}, {1}, "")  # MUST: exit 1
    assert not bench.judge({"HCW-SSO-02"}, {0}, "")  # a failing MUST must make the exit 1
    assert bench.judge({"HCW-AUTH-05"}, {0}, "")  # SHOULD: exit 0 without --strict
    assert not bench.judge(set(), {1}, "")  # exit 1 for another clause is no detection
    assert not bench.judge({"HCW-SSO-02"}, {3}, "exit 3: credentials refused")


def _results() -> dict[str, Any]:
    tc_run = {"wall_s": 30.0, "cpu_s": 20.0, "max_rss_kb": 300 * 1024, "exit": 0}
    sandbox = bench.summarise(
        {
            "name": "sandbox",
            "runs": [
                tc_run
                | {
                    "engine_s": 25.0,
                    "cases": 1000,
                    "requests": 1200,
                    "totals": {"pass": 62, "fail": 0, "error": 0, "skip": 1},
                    "failing": [],
                },
                tc_run | {"wall_s": 34.0, "engine_s": 27.0, "cases": 1000},
            ],
            "available": True,
        }
    )
    properties = bench.summarise(
        {
            "name": "properties",
            "runs": [
                tc_run | {"wall_s": 22.0, "engine_s": 18.0, "cases": 1000},
            ],
            "available": True,
        }
    )
    return {
        "machine": {
            "platform": "Linux",
            "cpu": "Test CPU",
            "cpus": 2,
            "memory_gb": 4.0,
            "versions": {"python": "3.11"},
            "commit": "abc1234",
            "loadavg_start": [1.0, 1.0, 1.0],
            "loadavg_end": [1.0, 1.0, 1.0],
        },
        "settings": {
            "runs": 2,
            "warmup": 1,
            "deep_runs": 1,
            "fault_runs": 1,
            "seed": 1,
            "examples": 50,
            "st_phases": "fuzzing,stateful",
            "measured_with": "/usr/bin/time -v",
            "argv": ["--runs", "2"],
        },
        "rows": {
            "sandbox": sandbox,
            "properties": properties,
            "replay": {
                "name": "replay",
                "runs": [],
                "available": False,
                "reason": "exit 2: no cassettes in cassettes/",
            },
        },
        "schemathesis": {
            "hcw": {
                "available": True,
                "runs": [{}],
                "walls": [20.0],
                "wall_s": 20.0,
                "cpu_s": 15.0,
                "running_s": 16.0,
                "cases": 1000,
                "max_rss_mb": 110.0,
                "tree_rss_mb": 160.0,
                "exits": [1],
                "ms_per_case_engine": 16.0,
                "clean_signature": ["ST202 POST /x"],
            }
        },
        "faults": [
            {
                "api": "hcw",
                "fault": "create-201",
                "clauses": ["HCW-GEN-04", "HCW-INV-01"],
                "failed": ["HCW-INV-01"],
                "detected": True,
                "exits": [1],
                "error": "",
                "wall_s": 8.5,
                "cpu_s": 6.0,
                "max_rss_mb": 250.0,
            },
            {
                "api": "hcw",
                "fault": "patch-ignored",
                "clauses": ["HCW-INV-11"],
                "failed": [],
                "detected": False,
                "exits": [0],
                "error": "",
                "wall_s": 3.0,
                "cpu_s": 2.0,
                "max_rss_mb": 200.0,
            },
        ],
        "st_faults": [
            {
                "api": "hcw",
                "fault": "create-201",
                "clauses": ["HCW-GEN-04", "HCW-INV-01"],
                "exit": 1,
                "new_failures": ["ST001 POST /x"],
                "detected": True,
                "note": "",
            },
            {
                "api": "hcw",
                "fault": "patch-ignored",
                "clauses": ["HCW-INV-11"],
                "exit": 1,
                "new_failures": [],
                "detected": False,
                "note": "",
            },
        ],
        "elapsed_s": 100.0,
        "finished_at": "2026-01-01T00:00:00+00:00",
    }


def test_markdown_has_the_table_targets_faults_machine_and_command() -> None:
    text = report.render_markdown(_results())
    assert "## Reproduce" in text and ".venv/bin/python benchmarks/run.py --runs 2" in text
    assert "| CPU | Test CPU (2 logical CPUs) |" in text
    lines = text.splitlines()
    sandbox_line = next(line for line in lines if line.startswith("| teleconform run all,"))
    assert "| 32.0 |" in sandbox_line  # median of 30 and 34
    assert "not available" in next(line for line in text.splitlines() if "--replay" in line)
    targets = text.split("## Targets", 1)[1]
    # 18 ms/case (18 s over 1000 cases) against st's 16 ms/case: 1.12x, within 1.2x.
    assert "18.00 ms vs 16.00 ms = 1.12x | met" in targets
    assert "faults detected 1/2 | **not met** (detection)" in targets
    assert "teleconform 1/2; schemathesis alone 1/2" in targets
    assert "| hcw | patch-ignored | HCW-INV-11 | 3.0 s | **no** (0/1: -) | no |" in text
    assert "yes: ST001 POST /x" in text


@pytest.mark.e2e
def test_script_end_to_end_writes_benchmarks_md(tmp_path: Path) -> None:
    output, raw = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--only",
            "faults",
            "--api",
            "hcw",
            "--faults",
            "sso-window-1min",
            "--runs",
            "1",
            "--warmup",
            "0",
            "--quiet",
            "--output",
            str(output),
            "--json",
            str(raw),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(raw.read_text(encoding="utf-8"))
    (row,) = results["faults"]
    assert row["fault"] == "sso-window-1min" and row["clauses"] == ["HCW-SSO-02"]
    assert row["detected"], row
    assert row["wall_s"] > 0 and row["max_rss_mb"] > 10
    text = output.read_text(encoding="utf-8")
    assert "| hcw | sso-window-1min | HCW-SSO-02 |" in text
    assert "--only faults --api hcw --faults sso-window-1min" in text
