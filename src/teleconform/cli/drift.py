"""``teleconform drift REPORT.json [-o PROFILE]``: write the sandbox profile(s) of a run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from teleconform._errors import EXIT_OK, UsageError
from teleconform.drift import drift_report, output_paths, write_profile


def drift_command(report_path: str, output: str | None) -> int:
    """`teleconform drift REPORT.json [-o PROFILE]`: exit 0 written; unreadable input or an
    unwritable output raises :class:`UsageError` (exit 2)."""
    try:
        report = json.loads(Path(report_path).read_text(encoding="utf-8"))
        if not isinstance(report, Mapping):
            raise ValueError("not a JSON object")
        drifts = drift_report(report)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"teleconform drift: cannot read {report_path}: {exc}") from exc
    except ValueError as exc:
        raise UsageError(
            f"teleconform drift: {report_path} is not a teleconform report: {exc}"
        ) from exc
    if not drifts:
        raise UsageError(f"teleconform drift: {report_path} has no server run to drift from")
    paths = output_paths(output, [d.api for d in drifts])
    for drift in drifts:
        path = paths[drift.api]
        try:
            write_profile(drift, path, Path(report_path).name)
        except OSError as exc:
            raise UsageError(f"teleconform drift: cannot write {path}: {exc}") from exc
        print(
            f"{drift.api}: wrote {path} ({len(drift.faults)} faults, "
            f"{len(drift.not_reproduced)} not reproduced)"
        )
        for choice in drift.choices:
            print(f"  fault {choice.fault}: {', '.join(choice.clauses)}")
        for item in drift.not_reproduced:
            print(f"  not reproduced {item['clause']}: {item['reason']}")
    return EXIT_OK
