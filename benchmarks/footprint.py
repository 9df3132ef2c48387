"""The footprint of a default `teleconform run --allow-writes` on a live target, per API.

Serves this checkout's sandbox on loopback (treated as a live target: a `--target` URL),
runs `python -m teleconform run API --allow-writes` from a chosen checkout against it, and
counts, per kind, what the run created (distinct ids in 2xx answers to creating requests),
what is left afterwards (the sandbox inventory: invites, consultations not closed, patient
accounts, appointments not cancelled, transfers), what was cleaned (the difference) and what
the report's left_behind lists. Compare two checkouts (before/after a change):

    .venv/bin/python benchmarks/footprint.py --source /work/main --source .
    .venv/bin/python benchmarks/footprint.py --api hcw --profile athome --budget quick

Profiles: ``as-documented`` (the default sandbox) and, for HCW, ``athome``: the sandbox profile
``hcw-athome-5.4.62``, the real backend with its undeletable side effects (DELETE allowed under
a consultation, temporary patient accounts kept, Bearer only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from teleconform.sandbox import hcw, leah  # noqa: E402
from teleconform.sandbox._server import ThreadedServer  # noqa: E402

CREATING = {
    ("POST", "/api/v1/invite"): ("invite", ("invite", "id")),
    ("POST", "/api/v1/consultation"): ("consultation", ("_id",)),
    ("POST", "/api/v1/login-invite"): ("patient_account", ("user", "id")),
    ("POST", "/api/appointments"): ("appointment", ("@id",)),
    ("POST", "/api/transfers"): ("transfer", ("id",)),
}
INVENTORY_KINDS = {
    "invites": "invite",
    "consultations": "consultation",
    "patient_accounts": "patient_account",
    "appointments": "appointment",
    "transfers": "transfer",
}
DISPOSED = {"consultation": "closed", "appointment": "cancelled"}


class Recorder:
    """ASGI wrapper: the ids that 2xx answers to creating requests carry."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.created: dict[str, set[str]] = {}
        self.shares = 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        key = (scope.get("method"), scope.get("path"))
        if scope["type"] != "http" or (key not in CREATING and not str(key[1]).endswith("/share")):
            await self.app(scope, receive, send)
            return
        status, chunks = 0, []

        async def capture(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if not 200 <= status < 300:
            return
        if key not in CREATING:
            with self.lock:
                self.shares += 1
            return
        kind, pointer = CREATING[key]
        try:
            value: Any = json.loads(b"".join(chunks))
            for part in pointer:
                value = value.get(part) if isinstance(value, dict) else None
        except ValueError:
            value = None
        if isinstance(value, str | int):
            with self.lock:
                self.created.setdefault(kind, set()).add(str(value))


def _left(app: Any, api: str) -> Counter[str]:
    if api == "hcw":
        store = app.state.store
        left = Counter({"invite": len(store.invites)})
        left["consultation"] = sum(c.status != "closed" for c in store.consultations.values())
        left["patient_account"] = sum(u.role == "patient" for u in store.users.values())
        return left
    state = app.state.leah.state
    return Counter(
        {
            "appointment": sum(a.status != "cancelled" for a in state.appointments.values()),
            "transfer": len(state.transfers),
        }
    )


def measure(source: Path, api: str, profile: str, budget: str, seed: int) -> dict[str, Any]:
    """One run of ``source``'s teleconform against a fresh sandbox; counts per kind."""
    if api == "hcw":
        athome = profile == "athome"
        app = hcw.create_app(profile="hcw-athome-5.4.62" if athome else None)
    else:
        app = leah.create_app()
    module = hcw if api == "hcw" else leah
    recorder = Recorder(app)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELECONFORM_")}
    env.update(module.CREDENTIALS)
    env["PYTHONPATH"] = str(source / "src")
    with ThreadedServer(recorder) as server, tempfile.TemporaryDirectory() as work:  # type: ignore[arg-type]
        argv = [
            sys.executable,
            "-m",
            "teleconform",
            "run",
            api,
            "--target",
            server.base_url,
            "--allow-writes",
            "--budget",
            budget,
            "--seed",
            str(seed),
            "--rate-limit",
            "1000",
            "--report-dir",
            str(Path(work) / "out"),
            "--quiet",
        ]
        if api == "leah":  # the 15 MB uploads of LEAH-TRF-04 create nothing more
            from teleconform.catalogue import load_catalogue

            for cid, clause in load_catalogue().items():
                if clause.api == "leah" and cid != "LEAH-TRF-04":
                    argv += ["--clause", cid]
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
        report_file = Path(work) / "out" / "report.json"
        report = json.loads(report_file.read_text()) if report_file.is_file() else {}
        left = _left(app, api)
    listed: Counter[str] | None = None
    for run in report.get("runs", []):
        if "left_behind" in run:
            listed = Counter()
            for item in run["left_behind"]:
                listed[item["kind"]] += int(item["count"])
    kinds = sorted(set(recorder.created) | set(left))
    return {
        "source": str(source),
        "api": api,
        "profile": profile,
        "budget": budget,
        "exit": done.returncode,
        "kinds": {
            kind: {
                "created": len(recorder.created.get(kind, ())),
                "cleaned": len(recorder.created.get(kind, ())) - left[kind],
                "left": left[kind],
                "listed": None if listed is None else listed[kind],
            }
            for kind in kinds
        },
        "shares": recorder.shares,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        action="append",
        type=Path,
        help="checkout whose teleconform runs (repeatable; default: this one)",
    )
    parser.add_argument("--api", choices=("hcw", "leah", "all"), default="all")
    parser.add_argument("--profile", choices=("as-documented", "athome", "both"), default="both")
    parser.add_argument("--budget", default="standard")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    sources = [s.resolve() for s in (args.source or [ROOT])]
    cases = []
    for api in ("hcw", "leah") if args.api == "all" else (args.api,):
        profiles = ("as-documented", "athome") if args.profile == "both" else (args.profile,)
        for profile in profiles if api == "hcw" else ("as-documented",):
            cases.append((api, profile))
    results = [
        measure(source, api, profile, args.budget, args.seed)
        for api, profile in cases
        for source in sources
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"budget {args.budget}, seed {args.seed}; created / cleaned / left "
        "(left_behind listed, '-' when the report has none)"
    )
    for result in results:
        cells = ", ".join(
            f"{kind} {c['created']}/{c['cleaned']}/{c['left']}"
            f" ({'-' if c['listed'] is None else c['listed']})"
            for kind, c in result["kinds"].items()
        )
        print(
            f"{result['api']:<5} {result['profile']:<13} {result['source']}: {cells}; "
            f"shares sent {result['shares']}; exit {result['exit']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
