"""benchmarks/proxy_latency.py: its statistics and its BENCHMARKS.md section (no timing
assertion: the figures depend on the machine)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"_tc_proxy_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


latency = _load("proxy_latency")


def test_added_latency_is_paired_per_round() -> None:
    times = {"direct": [0.001] * 98 + [0.050] * 2, "proxy": [0.002] * 98 + [0.050] * 2}
    summary = latency.summarise(times)
    assert round(summary["added_median"], 6) == 0.001
    assert round(summary["direct_p99"], 6) == 0.050
    assert latency.quantile([1.0, 2.0, 3.0], 0.5) == 2.0


def test_the_section_is_replaced_in_place_and_kept_by_run_py(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nrest\n", encoding="utf-8")
    stats = dict.fromkeys(
        ("direct_median", "direct_p99", "proxy_median", "proxy_p99", "added_median", "added_p99"),
        0.001,
    )
    latency.write(latency.section(stats, 10, None, 0), path)
    latency.write(latency.section(stats, 20, None, 0), path)
    text = path.read_text(encoding="utf-8")
    assert text.count(latency.START) == 1 and "--requests 20" in text
    assert text.startswith("# Benchmarks\n\nrest\n")
    run = _load("run")
    kept = run._kept_proxy_section(path)
    assert kept.strip().startswith(latency.START) and "--requests 20" in kept
