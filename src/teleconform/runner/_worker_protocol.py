"""What the pytest plugin and a `teleconform run --workers` controller exchange.

The controller puts the run's settings in ``workerinput[RUN_SPEC]``; a worker's clause items
send back ``user_properties`` named below. Both sides import these names from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from teleconform.runner._settings import RunSettings

PROPERTY = "teleconform-clause"  # a clause's report entry
UNIT_PROPERTY = "teleconform-unit"  # requests sent, created, cleanup failures of a unit
REFUSED_PROPERTY = "teleconform-refused"  # a unit's preflight: unreachable or refused
RUN_SPEC = "teleconform_run"  # workerinput key set by a `teleconform run --workers` controller
RATE_FILE = "teleconform_rate_file"  # workerinput key: the session's shared rate-limit file


def clause_of_nodeid(nodeid: str) -> str | None:
    """The clause id of a clause item's node id (with or without xdist's ``@group``)."""
    head, sep, tail = nodeid.rpartition("::")
    if not sep or not head.endswith("teleconform"):
        return None
    return tail.split("@", 1)[0]


def make_run_spec(
    apis: Mapping[str, RunSettings], control_dir: str, report_dir: str
) -> dict[str, Any]:
    """``workerinput[RUN_SPEC]``: each API's settings (``RunSettings.to_wire``), the control
    folder (rate file, worker pids, stop file) and where the workers log."""
    return {
        "control_dir": control_dir,
        "report_dir": report_dir,
        "apis": {api: settings.to_wire() for api, settings in apis.items()},
    }


def spec_settings(spec: Mapping[str, Any], api: str, **local: Any) -> RunSettings:
    """An API's settings from a run spec, with this worker's ``local`` fields."""
    return RunSettings.from_wire(spec["apis"][api], **local)


def spec_seed(spec: Mapping[str, Any]) -> int:
    """The run's seed (every API of a run has the same)."""
    return int(next(iter(spec["apis"].values()))["seed"])


def spec_rate_limit(spec: Mapping[str, Any], api: str) -> float | None:
    """The run-wide live requests per second (None: no limit)."""
    return RunSettings.wire_rate_limit(spec["apis"][api])
