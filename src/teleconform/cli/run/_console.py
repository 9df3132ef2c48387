"""The run's console: live progress, and the summary's last lines."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from teleconform.runner.ledger import left_behind_lines as describe_left_behind


class Printer:
    """Live progress on a terminal; plain lines elsewhere (CI logs); NO_COLOR respected."""

    COLORS = {"pass": "32", "fail": "31", "error": "35", "skip": "33"}

    def __init__(self, quiet: bool, verbose: bool, totals: dict[str, int] | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.lock = threading.Lock()
        # kept: `--workers` runs pytest with its stdout redirected, progress must not follow
        self.out = sys.stdout
        self.tty = self.out.isatty()
        self.color = self.tty and not os.environ.get("NO_COLOR")
        self.totals = totals or {}
        self.done: dict[str, int] = {}
        self.failing = 0
        self._status = False

    def _paint(self, verdict: str) -> str:
        if not self.color or verdict not in self.COLORS:
            return verdict
        return f"\x1b[{self.COLORS[verdict]}m{verdict}\x1b[0m"

    def _clear_status(self) -> None:
        if self._status:
            self.out.write("\r\x1b[2K")
            self._status = False

    def line(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        with self.lock:
            self._clear_status()
            print(text, file=self.out, flush=True)

    def progress(self, api: str, cid: str, verdict: str) -> None:
        if self.quiet:
            return
        with self.lock:
            if verdict != "running":
                self.done[api] = self.done.get(api, 0) + 1
                self.failing += verdict in ("fail", "error")
            if self.tty:
                done = sum(self.done.values())
                total = sum(self.totals.values()) or done
                if verdict != "running" and (self.verbose or verdict in ("fail", "error")):
                    self._clear_status()
                    print(f"  {cid:<14} {self._paint(verdict)}", file=self.out, flush=True)
                self.out.write(
                    f"\r\x1b[2K[{done}/{total}] {api}: {cid} · {self.failing} failing so far"
                )
                self.out.flush()
                self._status = True
            elif verdict != "running":
                print(f"  {api} {cid:<14} {verdict}", file=self.out, flush=True)

    def finish(self) -> None:
        with self.lock:
            self._clear_status()


def print_summary(
    report: Mapping[str, Any],
    printer: Printer,
    report_dir: Path,
    require_all: bool = False,
) -> None:
    """The fail and error lines, the totals, then what was not verified and what stays."""
    for run in report["runs"]:
        for c in run["clauses"]:
            if c["verdict"] in ("fail", "error"):
                label = "fail (waived)" if c.get("waived") else c["verdict"]
                printer.line(
                    f"  {c['id']:<14} {c['level']:<6} {label}: {c['reason'][:200]}", always=True
                )
    t = report["totals"]
    advised = sum(len(c.get("advisories") or ()) for r in report["runs"] for c in r["clauses"])
    printer.line(
        f"{t['pass']} pass, {t['fail']} fail, {t['error']} error, {t['skip']} skip"
        f" ({t['waived']} waived"
        + (f", {advised} advisor{'y' if advised == 1 else 'ies'}" if advised else "")
        + f"); reports in {report_dir}/",
        always=True,
    )
    # the last lines: what was not verified, then (live runs) what stays on the target
    for line in unverified_lines(report, require_all):
        printer.line(line, always=True)
    for line in left_behind_lines(report):
        printer.line(line, always=True)


def left_behind_lines(report: Mapping[str, Any]) -> list[str]:
    """The console's last lines: what each live run left on its target, and why."""
    lines: list[str] = []
    for run in report["runs"]:
        if run["target"].get("mode") == "live":
            lines += describe_left_behind(
                run["api"], run["target"]["base_url"], run.get("left_behind") or []
            )
    return lines


def unverified_lines(report: Mapping[str, Any], require_all: bool) -> list[str]:
    """The console's last lines: every skipped MUST clause, grouped by what it needs."""
    from teleconform.report._common import unverified_musts

    groups = unverified_musts([c for run in report["runs"] for c in run["clauses"]])
    if not groups:
        return []
    count = sum(len(ids) for _, ids in groups)
    head = f"{count} MUST clause{'s' if count != 1 else ''} not verified"
    tail = " (--require-all: this fails the run)" if require_all else ""
    if len(groups) == 1:
        label, ids = groups[0]
        return [f"{head}: {label}{tail}", f"  {', '.join(ids)}"]
    lines = [f"  {label} ({len(ids)}): {', '.join(ids)}" for label, ids in groups]
    return [f"{head}{tail}:", *lines]
