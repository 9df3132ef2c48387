"""The run-wide rate limit: one spacing for the threads of a process and, with
``run --workers``, for several processes sharing a file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from teleconform._http import RateLimiter, SharedRateLimiter

_PROCESS = textwrap.dedent(
    """
    import sys, time
    from teleconform._http import SharedRateLimiter
    limiter = SharedRateLimiter(float(sys.argv[2]), sys.argv[1])
    go = float(sys.argv[3])
    time.sleep(max(0.0, go - time.time()))
    for _ in range(int(sys.argv[4])):
        limiter.wait()
        print(time.monotonic(), flush=True)
    """
)


def _sends(tmp_path: Path, processes: int, each: int, rate: float, shared: bool) -> list[float]:
    go = time.time() + 1.5  # all processes start sending together, after their imports
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS,
             str(tmp_path / ("rate" if shared else f"rate-{k}")), str(rate), str(go), str(each)],
            stdout=subprocess.PIPE, text=True,
        )
        for k in range(processes)
    ]
    times = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        times += [float(line) for line in out.split()]
    return sorted(times)


def test_processes_sharing_the_file_keep_one_spacing(tmp_path: Path) -> None:
    times = _sends(tmp_path, processes=3, each=4, rate=10.0, shared=True)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 12
    assert min(gaps) >= 0.095, gaps  # 1/10 s between any two sends, whoever sends them


def test_processes_with_their_own_file_do_not_share_the_limit(tmp_path: Path) -> None:
    """The oracle for the test above: without the shared file, sends coincide."""
    times = _sends(tmp_path, processes=3, each=4, rate=10.0, shared=False)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) < 0.05


def test_a_pause_holds_back_every_process(tmp_path: Path) -> None:
    first = SharedRateLimiter(None, tmp_path / "rate")
    other = SharedRateLimiter(None, tmp_path / "rate")
    try:
        first.pause(0.5)  # a 429 with Retry-After seen by one worker
        started = time.monotonic()
        other.wait()
        assert time.monotonic() - started >= 0.45
    finally:
        first.close()
        other.close()


def test_the_in_process_limiter_spaces_threads_alike() -> None:
    limiter = RateLimiter(20.0)
    started = time.monotonic()
    for _ in range(5):
        limiter.wait()
    assert time.monotonic() - started >= 4 / 20 - 0.01
