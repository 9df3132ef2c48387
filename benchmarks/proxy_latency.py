"""The latency `teleconform proxy` adds, per request, on loopback.

Starts `teleconform sandbox hcw` and `teleconform proxy --target <sandbox>` as processes, signs
in once, then sends the same authenticated GET /api/v1/invite directly and through the proxy,
alternating (so both see the same machine load), N times each after a warm-up, over kept-alive
connections. Prints and (with --write) stores in BENCHMARKS.md the median and p99 of each and
of the difference. Also times a 15 MB Leah upload both ways (--upload-runs).

    .venv/bin/python benchmarks/proxy_latency.py [--requests 300] [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- proxy-latency:start -->", "<!-- proxy-latency:end -->"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@contextmanager
def cli(*argv: str) -> Iterator[dict[str, str]]:
    """A `teleconform` process; yields what it printed before READY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "teleconform", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line == "READY":
                break
            key, _, value = line.partition("=")
            printed[key] = value
        yield printed
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(value: float) -> str:
    return f"{value * 1000:.2f}"


def measure_gets(
    direct: str, proxied: str, creds: dict[str, str], n: int, warmup: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"direct": [], "proxy": []}
    with httpx.Client(base_url=direct) as d, httpx.Client(base_url=proxied) as p:
        login = d.post(
            "/api/v1/login-local",
            json={
                "email": creds["TELECONFORM_HCW_EMAIL"],
                "password": creds["TELECONFORM_HCW_PASSWORD"],
            },
        )
        token = login.json()["user"]["token"]
        headers = {"x-access-token": token, "Authorization": f"Bearer {token}"}
        for i in range(warmup + n):
            for name, client in (("direct", d), ("proxy", p)):
                started = time.perf_counter()
                response = client.get("/api/v1/invite", headers=headers)
                response.read()
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.status_code
                if i >= warmup:
                    times[name].append(elapsed)
    return times


def measure_uploads(
    direct: str, proxied: str, key: str, worker_email: str, runs: int
) -> dict[str, list[float]]:
    content = PNG + b"\0" * (15_000_000 - len(PNG))
    times: dict[str, list[float]] = {"direct": [], "proxy": []}
    headers = {"LEAH-AUTH-TOKEN": key}
    for _ in range(runs):
        for name, base in (("direct", direct), ("proxy", proxied)):
            with httpx.Client(base_url=base, timeout=120) as client:
                workers = client.get(
                    "/api/healthcare_workers", params={"email": worker_email}, headers=headers
                ).json()
                worker = workers["hydra:member"][0]["@id"]
                transfer = client.post(
                    "/api/transfers", headers=headers, json={"healthcareWorker": worker}
                ).json()
                started = time.perf_counter()
                response = client.post(
                    f"/api/transfers/{transfer['id']}/files",
                    headers=headers,
                    files=[("file[]", ("scan.png", content, "image/png"))],
                )
                times[name].append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
    return times


def summarise(times: dict[str, list[float]]) -> dict[str, float]:
    diffs = [p - d for d, p in zip(times["direct"], times["proxy"], strict=True)]
    return {
        "direct_median": statistics.median(times["direct"]),
        "direct_p99": quantile(times["direct"], 0.99),
        "proxy_median": statistics.median(times["proxy"]),
        "proxy_p99": quantile(times["proxy"], 0.99),
        "added_median": statistics.median(diffs),
        "added_p99": quantile(diffs, 0.99),
    }


def section(
    gets: dict[str, float], n: int, uploads: dict[str, float] | None, upload_runs: int
) -> str:
    lines = [
        START,
        "## Proxy latency (`teleconform proxy`)",
        "",
        f"Measured by `benchmarks/proxy_latency.py --requests {n}` on "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}): `teleconform sandbox hcw` "
        "and `teleconform proxy` as processes on 127.0.0.1, one kept-alive httpx client each "
        "way, requests alternating direct / through the proxy. Times per request in ms; "
        "*added* is the median (p99) of the per-round differences proxied - direct, so it is "
        "not the difference of the two medians.",
        "",
        "| request | direct median | direct p99 | proxied median | proxied p99 | "
        "added median | added p99 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| GET /api/v1/invite ({n} each) | {ms(gets['direct_median'])} | "
        f"{ms(gets['direct_p99'])} | {ms(gets['proxy_median'])} | {ms(gets['proxy_p99'])} | "
        f"{ms(gets['added_median'])} | {ms(gets['added_p99'])} |",
    ]
    if uploads is not None:
        lines.append(
            f"| 15 MB multipart upload to Leah ({upload_runs} each) | "
            f"{ms(uploads['direct_median'])} | {ms(uploads['direct_p99'])} | "
            f"{ms(uploads['proxy_median'])} | {ms(uploads['proxy_p99'])} | "
            f"{ms(uploads['added_median'])} | {ms(uploads['added_p99'])} |"
        )
    lines += [
        "",
        "Validation (and recording, with --record) runs on one worker thread after "
        "each answer is relayed: it is not on the request path, but it shares the "
        "proxy process's interpreter, so under sustained traffic it competes with the "
        "relay and is part of these figures. The machine was shared with other jobs "
        "(see the p99 of the direct requests).",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(text: str, path: Path) -> None:
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in current and END in current:
        before, rest = current.split(START, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        current = before + text + after
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--upload-runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as reports:
        with (
            cli("sandbox", "hcw") as sandbox,
            cli(
                "proxy", "--target", sandbox["TELECONFORM_TARGET"], "--report-dir", reports
            ) as proxy,
        ):
            gets = summarise(
                measure_gets(
                    sandbox["TELECONFORM_TARGET"],
                    proxy["TELECONFORM_TARGET"],
                    sandbox,
                    args.requests,
                    args.warmup,
                )
            )
        uploads = None
        if args.upload_runs:
            with (
                cli("sandbox", "leah") as sandbox,
                cli(
                    "proxy", "--target", sandbox["TELECONFORM_TARGET"], "--report-dir", reports
                ) as proxy,
            ):
                uploads = summarise(
                    measure_uploads(
                        sandbox["TELECONFORM_TARGET"],
                        proxy["TELECONFORM_TARGET"],
                        sandbox["TELECONFORM_LEAH_API_KEY"],
                        sandbox["TELECONFORM_LEAH_HCW_EMAIL"],
                        args.upload_runs,
                    )
                )
    text = section(gets, args.requests, uploads, args.upload_runs)
    print(text)
    print(json.dumps({"get": gets, "upload": uploads}, indent=2))
    if args.write:
        write(text, REPO / "BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
