"""Spike: could vcrpy replay our cassettes? Figures for docs/decisions/vcrpy.md.

Replays the shipped cassettes (cassettes/) once with teleconform's own replay (`teleconform run
--replay`), keeping every request the run sent and the recorded interaction that answered it.
Then sends the same requests, cassette by cassette and in the same order, through vcrpy's
httpx stubs (record_mode "none", its default matchers, then with the body matcher too) and
counts how many vcrpy answers at all, and how many with the same recorded interaction. Also
times reading all shipped cassettes with each, and lists the transports vcrpy patches.

    .venv/bin/python benchmarks/vcrpy_spike.py            # prints a JSON summary
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from teleconform.cassettes import _replay, cassettes_dir, load_api_cassettes
from teleconform.cassettes._format import Interaction
from teleconform.cli._main import main

APIS = ("hcw", "leah")
Sent = tuple[str, str, httpx.Request, bytes, Interaction]  # api, label, request, body, served


def _median_ms(action: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def reading_times() -> dict[str, float]:
    files = sorted(cassettes_dir().rglob("*.yaml"))

    def ours() -> None:
        for api in APIS:
            load_api_cassettes(cassettes_dir(), api)

    def theirs() -> None:
        for path in files:
            deserialize(path.read_text(encoding="utf-8"), yamlserializer)

    return {"teleconform_load_ms": _median_ms(ours), "vcrpy_deserialize_ms": _median_ms(theirs)}


def replay_with_teleconform() -> tuple[list[Sent], dict[str, Any]]:
    """Run `teleconform run --replay`, keeping each request and the interaction served."""
    sent: list[Sent] = []
    picked: list[Any] = []
    restored = 0  # answers whose recorded placeholders got today's values back
    real_pick = _replay._pick
    real_handle = _replay.ReplayTransport.handle_request

    def pick(*args: Any) -> Any:
        entry = real_pick(*args)
        picked.append(entry)
        return entry

    def handle(self: _replay.ReplayTransport, request: httpx.Request) -> httpx.Response:
        nonlocal restored
        picked.clear()
        try:
            return real_handle(self, request)
        finally:
            if picked and picked[-1] is not None:
                item = picked[-1].item
                sent.append((self.api, picked[-1].label, request, request.read(), item))
                restored += self._restore(item) != item.response_body

    _replay._pick = pick  # type: ignore[assignment]
    _replay.ReplayTransport.handle_request = handle  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            with contextlib.redirect_stdout(sys.stderr):  # stdout is the JSON summary
                code = main(["run", "--replay", "--report-dir", tmp, "-q"])
            seconds = time.perf_counter() - start
            report = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
    finally:
        _replay._pick = real_pick
        _replay.ReplayTransport.handle_request = real_handle  # type: ignore[method-assign]
    return sent, {
        "exit_code": code,
        "seconds": round(seconds, 1),
        "totals": report["totals"],
        "requests_served": len(sent),
        "answers_with_values_put_back": restored,
    }


def _same(response: httpx.Response, item: Interaction) -> bool:
    return response.status_code == item.status and response.text == item.response_body


def replay_with_vcrpy(sent: list[Sent], match_on: tuple[str, ...]) -> dict[str, Any]:
    """Send the same requests through vcrpy, one cassette at a time, in the order sent."""
    by_cassette: dict[tuple[str, str], list[Sent]] = defaultdict(list)
    for one in sent:
        by_cassette[(one[0], one[1])].append(one)
    outcome: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    recorder = vcr.VCR(record_mode="none", match_on=match_on)

    def offline(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"vcrpy let {request.method} {request.url} through")

    for (api, label), requests in sorted(by_cassette.items()):
        path = cassettes_dir() / api / f"{label}.yaml"
        with (
            recorder.use_cassette(str(path)),
            httpx.Client(transport=httpx.MockTransport(offline)) as client,
        ):
            for _, _, request, body, item in requests:
                copy = client.build_request(
                    request.method, request.url, headers=request.headers, content=body
                )
                try:
                    answer = client.send(copy)
                except CannotOverwriteExistingCassetteException:
                    outcome["not matched"] += 1
                    misses[f"{api}/{label}"] += 1
                    continue
                outcome["same interaction" if _same(answer, item) else "other interaction"] += 1
    return {"match_on": list(match_on), **dict(outcome), "misses_by_cassette": dict(misses)}


def patched_transports() -> dict[str, bool]:
    """Which of the transports our runs use vcrpy intercepts (patches in a cassette context)."""
    from starlette.testclient import _TestClientTransport

    classes = {
        "httpx.HTTPTransport (live targets)": httpx.HTTPTransport,
        "starlette _TestClientTransport (in-process sandboxes)": _TestClientTransport,
        "teleconform ReplayTransport": _replay.ReplayTransport,
    }
    before = {name: cls.handle_request for name, cls in classes.items()}
    with tempfile.TemporaryDirectory() as tmp, vcr.VCR().use_cassette(f"{tmp}/probe.yaml"):
        return {name: cls.handle_request is not before[name] for name, cls in classes.items()}


def main_spike() -> None:
    sent, ours = replay_with_teleconform()
    summary = {
        "vcrpy": vcr.__version__,
        "reading": reading_times(),
        "teleconform_replay": ours,
        "vcrpy_default_matchers": replay_with_vcrpy(
            sent, ("method", "scheme", "host", "port", "path", "query")
        ),
        "vcrpy_with_body": replay_with_vcrpy(
            sent, ("method", "scheme", "host", "port", "path", "query", "body")
        ),
        "vcrpy_patches": patched_transports(),
    }
    json.dump(summary, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main_spike()
