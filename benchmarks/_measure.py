"""Timing whole processes: wall time, CPU time and peak RSS of one command.

`/usr/bin/time -v` is used when present (Debian package `time`); otherwise the child is
reaped with os.wait4, whose rusage is the same record /usr/bin/time reads (and what
resource.getrusage(RUSAGE_CHILDREN) accumulates, but per child instead of per process).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GNU_TIME = "/usr/bin/time"


@dataclass
class Sample:
    """One finished process."""

    wall_s: float
    user_s: float
    sys_s: float
    max_rss_kb: int
    returncode: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    method: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def gnu_time_available() -> bool:
    """Whether /usr/bin/time understands -v (GNU time, not a shell builtin or BSD time)."""
    if not os.access(GNU_TIME, os.X_OK):
        return False
    try:
        probe = subprocess.run(
            [GNU_TIME, "-v", "true"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Maximum resident set size" in probe.stderr


_FIELDS = {
    "user_s": re.compile(r"User time \(seconds\): ([\d.]+)"),
    "sys_s": re.compile(r"System time \(seconds\): ([\d.]+)"),
    "max_rss_kb": re.compile(r"Maximum resident set size \(kbytes\): (\d+)"),
    "wall": re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)"),
    "exit": re.compile(r"Exit status: (\d+)"),
}


def parse_gnu_time(text: str) -> dict[str, float]:
    """The numbers of a `/usr/bin/time -v` report (wall clock converted to seconds)."""
    found: dict[str, float] = {}
    for key, pattern in _FIELDS.items():
        match = pattern.search(text)
        if match is None:
            continue
        raw = match.group(1)
        if key == "wall":
            seconds = 0.0
            for part in raw.split(":"):
                seconds = seconds * 60 + float(part)
            found["wall_s"] = seconds
        else:
            found[key] = float(raw)
    missing = {"user_s", "sys_s", "max_rss_kb"} - set(found)
    if missing:
        raise ValueError(f"not a /usr/bin/time -v report (missing {sorted(missing)})")
    return found


def run_timed(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 900.0,
    use_gnu_time: bool | None = None,
) -> Sample:
    """Run ``cmd`` to completion and measure it (wall time from our own clock)."""
    if use_gnu_time is None:
        use_gnu_time = gnu_time_available()
    full_env = dict(os.environ if env is None else env)
    with tempfile.TemporaryDirectory(prefix="tc-bench-") as tmp:
        out_path, err_path = Path(tmp, "stdout"), Path(tmp, "stderr")
        time_path = Path(tmp, "time")
        argv = list(cmd)
        if use_gnu_time:
            argv = [GNU_TIME, "-v", "-o", str(time_path), *argv]
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=out, stderr=err)
            timed_out = False
            deadline = started + timeout_s
            # Reap with wait4 ourselves: it hands back the child's own rusage.
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    timed_out = True
                    proc.kill()
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.005)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        returncode = proc.returncode
        if use_gnu_time and time_path.exists() and time_path.stat().st_size:
            report = time_path.read_text(encoding="utf-8", errors="replace")
            numbers = parse_gnu_time(report)
            exit_match = _FIELDS["exit"].search(report)
            if exit_match is not None:
                returncode = int(exit_match.group(1))
            elif "Command terminated by signal" in report:
                returncode = -1
            return Sample(
                wall_s=wall,
                user_s=numbers["user_s"],
                sys_s=numbers["sys_s"],
                max_rss_kb=int(numbers["max_rss_kb"]),
                returncode=returncode,
                stdout=stdout,
                stderr=stderr,
                timed_out=timed_out,
                method="/usr/bin/time -v",
            )
        return Sample(
            wall_s=wall,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            max_rss_kb=int(usage.ru_maxrss),  # kilobytes on Linux
            returncode=returncode,
            stdout=stdout,
            stderr=stderr,
            timed_out=timed_out,
            method="os.wait4 rusage",
        )


def median(values: Sequence[float]) -> float:
    """The median (0.0 for nothing measured)."""
    return float(statistics.median(values)) if values else 0.0


def process_peak_rss_kb(pid: int) -> int:
    """A live process's peak RSS so far (VmHWM), 0 when it cannot be read."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def which(name: str) -> str | None:
    """shutil.which, re-exported so callers need one import."""
    return shutil.which(name)
