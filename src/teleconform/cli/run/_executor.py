"""`run`, step 3: the executor the options call for."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from teleconform.cli.run._console import Printer
from teleconform.runner._executor import Executor, SequentialExecutor, ThreadExecutor


def pick_executor(
    args: argparse.Namespace, session: Any, report_dir: Path, printer: Printer
) -> Executor:
    """``--workers N``: xdist processes, or threads when recording or replaying (the recorder
    and the replay live in this process); one worker: one API after the other."""
    if args.workers > 1 and session is None:
        from teleconform.runner._xdist import XdistExecutor

        return XdistExecutor(args.workers, report_dir, printer)
    if args.workers > 1:
        return ThreadExecutor(args.workers)
    return SequentialExecutor()
