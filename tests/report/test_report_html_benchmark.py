"""benchmarks/html_render.py: the report it renders and its BENCHMARKS.md section (no timing
assertion: the figures depend on the machine)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from _report_fixtures import FIXTURES

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_tc_html_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load("html_render")


def test_the_large_report_repeats_every_clause_evidence(tmp_path: Path) -> None:
    given = FIXTURES / "mixed.json"
    path = bench.big_report(10, given, tmp_path)
    original = json.loads(given.read_text(encoding="utf-8"))
    big = json.loads(path.read_text(encoding="utf-8"))
    for run, big_run in zip(original["runs"], big["runs"], strict=True):
        for clause, big_clause in zip(run["clauses"], big_run["clauses"], strict=True):
            assert big_clause["evidence"] == (clause.get("evidence") or []) * 10


def test_a_source_renders_in_a_fresh_interpreter(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    cost = bench.measure(repo, FIXTURES / "mixed.json", 2)
    assert cost.page_kb > 10 and cost.min_ms <= cost.median_ms
    section = bench.table([cost], FIXTURES / "mixed.json", 1, 2, 1)
    assert section.count("\n| ") == 3 and "10 clauses" in section


def test_the_section_is_replaced_in_place_and_kept_by_run_py(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nrest\n", encoding="utf-8")
    bench.write("## report.html rendering\n\nfirst\n", path)
    bench.write("## report.html rendering\n\nsecond\n", path)
    text = path.read_text(encoding="utf-8")
    assert text.count(bench.START) == 1 and "second" in text and "first" not in text
    assert text.startswith("# Benchmarks\n\nrest\n")
    kept = _load("run")._kept_proxy_section(path)
    assert kept.strip().startswith(bench.START) and "second" in kept
