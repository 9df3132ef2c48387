"""Record the toy API once per test that needs it; replay helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from teleconform.cassettes import Session, open_session
from teleconform.report._document import tool_info
from teleconform.runner import ApiRun, RunSettings, run_api
from teleconform.sandbox._server import ThreadedServer

from ._toy import CATALOGUE, CREDENTIALS, args, create_app, write_suites

TOOL = tool_info()


@dataclass
class Recording:
    folder: Path
    suites: Path
    run: ApiRun
    session: Session


def _run(
    session: Session,
    suites: Path,
    base_url: str,
    credentials: dict[str, str],
    upload_size: int = 65536,
    **kw: Any,
) -> ApiRun:
    return run_api(
        RunSettings(
            "hcw",
            base_url,
            credentials,
            seed=session.seed,
            budget=session.budget,
            catalogue=CATALOGUE,
            suites_root=suites,
            run_id=f"tc-{uuid.uuid4().hex[:10]}",
            state={"upload_size": upload_size, **session.state("hcw")},
            **kw,
        )
    )


@pytest.fixture
def record_toy(tmp_path: Path) -> Callable[..., Recording]:
    suites = write_suites(tmp_path)

    def record(
        *,
        faults: tuple[str, ...] = (),
        seed: int = 42,
        name: str = "cassettes",
        tool: dict[str, str] | None = None,
        overwrite: bool = False,
        upload_size: int = 65536,
    ) -> Recording:
        folder = tmp_path / name
        options = args(record=str(folder), overwrite=overwrite)
        session = open_session(options, ["hcw"], seed, tool or TOOL)
        with ThreadedServer(create_app(faults=faults)) as server:
            hook = session.recorder("hcw", server.base_url, CREDENTIALS)
            result = _run(
                session,
                suites,
                server.base_url,
                dict(CREDENTIALS),
                upload_size=upload_size,
                on_exchange=[hook],
            )
        session.finish()
        return Recording(folder, suites, result, session)

    return record


def replay_toy(folder: Path, suites: Path, tool: dict[str, str] | None = None) -> ApiRun:
    """Replay the toy cassettes in ``folder`` through the real replay session."""
    session = open_session(args(replay=True, cassettes=str(folder)), ["hcw"], 0, tool or TOOL)
    try:
        return _run(
            session,
            suites,
            session.base_url("hcw"),
            session.credentials("hcw"),
            mode="replay",
            client=session.client("hcw"),
            clock=session.clock("hcw"),
        )
    finally:
        session.finish()
