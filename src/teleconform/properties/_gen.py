"""Deterministic case generation for the property tests.

Private helper of :mod:`teleconform.properties`. Every draw is a Hypothesis run seeded from
the run seed and the operation (so excluding one operation does not shift the others), with
the example database off, no shrinking, no deadline and no health checks: the same seed
gives the same cases, in the same order, in any process that has the same local modules loaded
(Hypothesis mixes literals of non-site-packages modules into its draws, so e.g. a sandbox run
of an editable install and a live run may differ). A replay does not generate: it sends the
recorded cases (teleconform.properties).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import unittest
from collections import OrderedDict
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import HypothesisException
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode
from schemathesis.config import GenerationConfig
from schemathesis.core import NOT_SET

from teleconform.properties._spec import GeneratedCase, Operation

POSITIVE = "positive"
NEGATIVE = "negative"
_MODES = {POSITIVE: GenerationMode.POSITIVE, NEGATIVE: GenerationMode.NEGATIVE}


_CACHE_SIZE = 512
_CACHE: OrderedDict[tuple[Any, ...], list[GeneratedCase]] = OrderedDict()
_LOCK = threading.Lock()
# Schema keywords that leave a string input unrestricted: any non-empty string is valid, so
# nothing can be negated on the wire for it (an empty path segment cannot be sent).
_INERT_KEYWORDS = frozenset({"type", "minLength", "description", "title", "example", "examples"})


def clear_cache() -> None:
    """Forget generated cases (tests use it to prove runs do not depend on the cache)."""
    with _LOCK:
        _CACHE.clear()


def derived_seed(seed: int, *parts: str) -> int:
    """A 64-bit seed for one draw, stable across processes (unlike ``hash()``)."""
    digest = hashlib.sha256(":".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


class _PrivateStorage:
    """Hypothesis caches per-module literals under its home directory, ``./.hypothesis`` by
    default, even with ``database=None``; a run must not leave that in the user's working
    directory. While any draw is running, the home directory is a private temporary one
    (removed at exit); afterwards the previous one is restored, so the host's own
    Hypothesis tests in a pytest session keep theirs."""

    _NAME = "__hypothesis_home_directory"  # hypothesis.configuration's module global

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: Any = None
        self._dir: str | None = None

    def __enter__(self) -> None:
        from hypothesis import configuration

        with self._lock:
            if self._users == 0:
                if self._dir is None:
                    import atexit
                    import shutil
                    import tempfile

                    self._dir = tempfile.mkdtemp(prefix="teleconform-hypothesis-")
                    atexit.register(shutil.rmtree, self._dir, True)
                self._saved = getattr(configuration, self._NAME, None)
                configuration.set_hypothesis_home_dir(self._dir)
            self._users += 1

    def __exit__(self, *exc: object) -> None:
        from hypothesis import configuration

        with self._lock:
            self._users -= 1
            if self._users == 0:
                configuration.set_hypothesis_home_dir(self._saved)


_STORAGE = _PrivateStorage()


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
    headers: dict[str, Any] | None = None,
    body: Any = NOT_SET,
) -> list[GeneratedCase]:
    """Up to ``count`` cases for one operation in one mode (fewer when the inputs run out).

    Explicit ``path_parameters``, ``query``, ``headers`` and ``body`` are used as given (never
    negated); the rest is generated.
    """
    if count <= 0:
        return []
    if mode == NEGATIVE and not negatable(
        operation, path_fixed=path_parameters is not None, body_fixed=body is not NOT_SET
    ):
        return []
    key = (
        operation.schema.location,
        operation.label,
        mode,
        count,
        seed,
        _canonical((path_parameters, query, headers, None if body is NOT_SET else body)),
    )
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return [_clone(case) for case in cached]
    drawn = _draw(operation, mode, count, seed, path_parameters, query, headers, body)
    with _LOCK:
        _CACHE[key] = [_clone(case) for case in drawn]
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return drawn


def _draw(
    operation: Operation,
    mode: str,
    count: int,
    seed: int,
    path_parameters: dict[str, Any] | None,
    query: dict[str, Any] | None,
    headers: dict[str, Any] | None,
    body: Any,
) -> list[GeneratedCase]:
    strategy = operation.as_strategy(
        generation_mode=_MODES[mode],
        path_parameters=path_parameters,
        query=query,
        headers=headers,
        body=body,
    )
    drawn: list[GeneratedCase] = []

    @hypothesis.seed(seed)
    @_settings(count)
    @given(strategy)
    def draw(case: GeneratedCase) -> None:
        drawn.append(case)

    try:
        with _STORAGE:
            draw()
    except (HypothesisException, unittest.SkipTest):
        # Unsatisfiable (e.g. nothing to negate) or a generation problem: take what was drawn.
        pass
    return drawn[:count]


def negatable(operation: Operation, *, path_fixed: bool = False, body_fixed: bool = False) -> bool:
    """Whether negative generation can produce anything for the generated inputs.

    Hypothesis otherwise spends hundreds of rejected draws (about half a second) proving
    that, e.g., a free-form string path id has no invalid wire value.
    """
    if operation.body and not body_fixed:
        return True
    if list(operation.query) or list(operation.cookies):
        return True
    if any("x-original-security-type" not in p.definition for p in operation.headers):
        return True
    if path_fixed:
        return False
    for parameter in operation.path_parameters:
        schema = parameter.definition.get("schema") or {}
        inert = (
            schema.get("type") == "string"
            and set(schema) <= _INERT_KEYWORDS
            and int(schema.get("minLength", 0)) <= 1
        )
        if not inert:
            return True
    return False


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _clone(case: GeneratedCase) -> GeneratedCase:
    body = case.body if case.body is NOT_SET else copy.deepcopy(case.body)
    return Case(
        case.operation,
        case.method,
        case.path,
        id=case.id,
        path_parameters=copy.deepcopy(case.path_parameters),
        headers=CaseInsensitiveDict(case.headers),
        cookies=copy.deepcopy(case.cookies),
        query=copy.deepcopy(case.query),
        body=body,
        media_type=case.media_type,
        multipart_content_types=copy.deepcopy(case.multipart_content_types),
        meta=copy.deepcopy(case._meta),
    )


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
