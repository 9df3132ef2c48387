"""The sandboxes' HTTP server (uvicorn in a thread) inside a teleconform process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from teleconform._logging import setup_log
from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.hcw import create_app


@pytest.fixture
def run_log(tmp_path: Path) -> Iterator[Path]:
    logger = logging.getLogger("teleconform")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield setup_log(tmp_path)
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            logger.addHandler(handler)
        logger.setLevel(saved[1])
        logger.propagate = saved[2]


def test_serving_a_sandbox_leaves_the_run_log_open(run_log: Path) -> None:
    """uvicorn's default logging set-up closes every handler of the process: a run against
    the sandboxes then lost its log (tracebacks of crashed checks included)."""
    with ThreadedServer(create_app()) as server:
        assert httpx.get(server.base_url + "/api/v1/config").status_code < 500
        logging.getLogger("teleconform").error("logged after the sandbox started")
    assert "logged after the sandbox started" in run_log.read_text()
