"""`teleconform sandbox --validate-requests`: judge the client, write its report on stop."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from teleconform.client._middleware import validating
from teleconform.client._report import (
    client_exit_status,
    client_report,
    now_rfc3339,
    write_client_report,
)
from teleconform.client._validator import ClientValidator


def validated(args: argparse.Namespace, app: Any) -> tuple[Any, Callable[[str], int]]:
    """The sandbox ``app`` behind a validator, and what to call with its URL once stopped.

    The returned callable writes the client report into ``--report-dir`` and returns the
    exit status `run` would give it (0, 1 a MUST client clause failed, 2 nothing verified).
    """
    from teleconform._errors import UsageError

    report_dir = Path(args.report_dir or "reports")
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"teleconform sandbox: cannot write --report-dir {report_dir}: {exc.strerror}"
        ) from exc
    credentials = dict(getattr(app.state, "credentials", {}))
    validator = ClientValidator(args.api, credentials=credentials)
    started_at = now_rfc3339()

    def finish(base_url: str) -> int:
        report = client_report([validator.run_json(base_url)], started_at=started_at)
        write_client_report(report, report_dir)
        for run in report["runs"]:
            for clause in run["clauses"]:
                if clause["verdict"] == "fail":
                    print(
                        f"  {clause['id']:<15} {clause['level']:<6} fail: {clause['reason'][:200]}",
                        file=sys.stderr,
                    )
        t = report["totals"]
        print(
            f"client report: {t['pass']} pass, {t['fail']} fail, {t['skip']} skip "
            f"({validator.exchanges} requests); reports in {report_dir}/",
            file=sys.stderr,
        )
        return client_exit_status(report, strict=bool(getattr(args, "strict", False)))

    return validating(app, validator), finish
