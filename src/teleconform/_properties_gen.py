"""Deterministic case generation for the property tests.

Private helper of :mod:`teleconform.properties`. Every draw is a Hypothesis run seeded from
the run seed and the operation (so excluding one operation does not shift the others), with
the example database off, no shrinking, no deadline and no health checks: the same seed
gives the same cases, in the same order, in any process.
"""

from __future__ import annotations

import hashlib
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.config import GenerationConfig

from ._properties_spec import GeneratedCase, Operation

POSITIVE = "positive"
NEGATIVE = "negative"
_MODES = {POSITIVE: GenerationMode.POSITIVE, NEGATIVE: GenerationMode.NEGATIVE}


def derived_seed(seed: int, *parts: str) -> int:
    """A 64-bit seed for one draw, stable across processes (unlike ``hash()``)."""
    digest = hashlib.sha256(":".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _settings(count: int) -> settings:
    return settings(
        max_examples=count,
        database=None,
        derandomize=False,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )


def generate(
    operation: Operation,
    mode: str,
    count: int,
    seed: int,
    *,
    path_parameters: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
) -> list[GeneratedCase]:
    """Up to ``count`` cases for one operation in one mode (fewer when the inputs run out)."""
    if count <= 0:
        return []
    strategy = operation.as_strategy(
        generation_mode=_MODES[mode], path_parameters=path_parameters, query=query
    )
    drawn: list[GeneratedCase] = []

    @hypothesis.seed(seed)
    @_settings(count)
    @given(strategy)
    def draw(case: GeneratedCase) -> None:
        drawn.append(case)

    try:
        draw()
    except HypothesisException:
        # Unsatisfiable (e.g. nothing to negate) or a generation problem: take what was drawn.
        pass
    return drawn[:count]


def coverage_cases(operation: Operation, limit: int) -> list[GeneratedCase]:
    """Boundary and negative cases of schemathesis' coverage phase, declared method only."""
    schema = operation.schema
    config: GenerationConfig = schema.config.generation_for(operation=operation, phase="coverage")
    cases: list[GeneratedCase] = []
    for case in schema.iter_coverage_cases(
        operation, generation_modes=list(_MODES.values()), generation_config=config
    ):
        if case.method.upper() != operation.method.upper():
            continue
        cases.append(case)
        if len(cases) >= limit:
            break
    return cases


def mode_of(case: GeneratedCase) -> str:
    """positive/negative as the case stands now (schemathesis revalidates edited cases)."""
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative:
        return NEGATIVE
    return POSITIVE
