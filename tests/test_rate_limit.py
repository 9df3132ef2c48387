"""The run-wide rate limit: one spacing for the threads of a process and, with
``run --workers``, for several processes sharing a file."""

from __future__ import annotations

import email.utils
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from teleconform.runner._http import HttpClient, RateLimiter, SharedRateLimiter

_PROCESS = textwrap.dedent(
    """
    import sys, time
    from teleconform.runner._http import SharedRateLimiter
    limiter = SharedRateLimiter(float(sys.argv[2]), sys.argv[1])
    go = float(sys.argv[3])
    time.sleep(max(0.0, go - time.time()))
    for _ in range(int(sys.argv[4])):
        called = time.monotonic()
        slot = limiter.wait()
        print(called, slot, time.monotonic(), flush=True)
    """
)
INTERVAL = 0.1  # rate 10 per second


def _sends(tmp_path: Path, processes: int, each: int, shared: bool) -> list[float]:
    """The slots the limiter granted, all processes together, sorted (monotonic seconds).

    Slots, not the times a process got round to printing: a process scheduled late on a busy
    machine prints late, which says nothing about the limiter. That each process did wait for
    its slot (never sent early) is checked here too.
    """
    go = time.time() + 1.5  # all processes start sending together, after their imports
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _PROCESS,
                str(tmp_path / ("rate" if shared else f"rate-{k}")),
                str(1 / INTERVAL),
                str(go),
                str(each),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(processes)
    ]
    slots = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        for line in out.splitlines():
            called, slot, returned = (float(x) for x in line.split())
            assert called <= slot + 1e-9  # a slot is never in the past ...
            assert returned >= slot  # ... and wait() returns only once it has come
            slots.append(slot)
    return sorted(slots)


def test_processes_sharing_the_file_keep_one_spacing(tmp_path: Path) -> None:
    slots = _sends(tmp_path, processes=3, each=4, shared=True)
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert len(slots) == 12
    # 1/10 s between any two slots, whoever holds them (1e-9: float rounding only)
    assert min(gaps) >= INTERVAL - 1e-9, gaps


def test_processes_with_their_own_file_do_not_share_the_limit(tmp_path: Path) -> None:
    """The oracle for the test above: without the shared file, the processes' slots are not
    spaced. Two sequences of period 0.1 s that overlap in time always have two slots at most
    0.05 s apart; 10 sends each (0.9 s) overlap unless a process starts 0.9 s late."""
    slots = _sends(tmp_path, processes=3, each=10, shared=False)
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert min(gaps) <= INTERVAL / 2 + 1e-9, gaps


def test_a_pause_holds_back_every_process(tmp_path: Path) -> None:
    first = SharedRateLimiter(None, tmp_path / "rate")
    other = SharedRateLimiter(None, tmp_path / "rate")
    try:
        paused_at = time.monotonic()
        first.pause(0.5)  # a 429 with Retry-After seen by one worker
        slot = other.wait()
        assert slot >= paused_at + 0.5
        assert time.monotonic() >= slot
    finally:
        first.close()
        other.close()


def test_the_in_process_limiter_spaces_threads_alike() -> None:
    limiter = RateLimiter(20.0)
    slots = [limiter.wait() for _ in range(5)]
    assert all(b - a >= 1 / 20 - 1e-9 for a, b in zip(slots, slots[1:], strict=False)), slots
    assert time.monotonic() >= slots[-1]


class _Recording(RateLimiter):
    """A limiter that records the pauses asked of it and never sleeps."""

    def __init__(self) -> None:
        super().__init__(None)
        self.pauses: list[float] = []

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


def _client_answering(retry_after: str, now: float) -> tuple[HttpClient, _Recording, list[int]]:
    answers = [429, 200]
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = answers[min(len(seen), 1)]
        seen.append(status)
        return httpx.Response(status, headers={"Retry-After": retry_after} if status == 429 else {})

    limiter = _Recording()
    client = HttpClient(
        "http://api.test",
        httpx.Client(transport=httpx.MockTransport(handler)),
        limiter=limiter,
        wall_clock=lambda: now,
    )
    return client, limiter, seen


def test_retry_after_as_an_http_date_is_honoured() -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2026 07:28:00 GMT").timestamp()
    client, limiter, seen = _client_answering("Wed, 21 Oct 2026 07:28:07 GMT", now)
    assert client.request("GET", "/x").status_code == 200
    assert seen == [429, 200] and limiter.pauses == [7.0]
    # a date already past: ask again at once; delay-seconds as before
    client, limiter, _ = _client_answering("Wed, 21 Oct 2026 07:27:00 GMT", now)
    assert client.request("GET", "/x").status_code == 200 and limiter.pauses == [0.0]
    client, limiter, _ = _client_answering("3", now)
    assert client.request("GET", "/x").status_code == 200 and limiter.pauses == [3.0]


def test_an_unreadable_or_far_retry_after_is_not_waited_for() -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2026 07:28:00 GMT").timestamp()
    for value in ("soon", "Wed, 21 Oct 2026 09:00:00 GMT"):  # garbage; 92 minutes away
        client, limiter, seen = _client_answering(value, now)
        assert client.request("GET", "/x").status_code == 429
        assert seen == [429] and limiter.pauses == []
