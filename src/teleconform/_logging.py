"""The run log: full details (tracebacks) go to a file, never to the terminal."""

from __future__ import annotations

import errno
import logging
import os
import tempfile
import traceback
from pathlib import Path

_current: Path | None = None


def setup_log(report_dir: Path, *, append: bool = False) -> Path:
    """Send teleconform's log records to ``report_dir/teleconform.log`` (created on the
    first record).

    ``append``: a worker process of the same run adds to the controller's log.
    """
    global _current
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "teleconform.log"
    if not os.access(report_dir, os.W_OK):  # the file itself is only opened when needed
        raise PermissionError(errno.EACCES, "Permission denied", str(report_dir))
    if not append:
        path.unlink(missing_ok=True)  # a previous run's log must not pass for this one's
    # delay: the file appears with the first record, so a quiet run leaves no empty log
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=True)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    logger = logging.getLogger("teleconform")
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    _current = path
    return path


def log_path() -> Path:
    return _current or Path(tempfile.gettempdir()) / "teleconform-crash.log"


def write_crash(exc: BaseException) -> Path | None:
    """Write a crash's traceback to the log file; returns where it went."""
    text = "".join(traceback.format_exception(exc))
    path = log_path()
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("internal error:\n" + text)
    except OSError:
        return None
    return path
