"""Schemathesis-driven property tests, reported as clause outcomes.

``run_property_tests(ctx, spec=..., auth=..., clause_map=...)`` covers every operation of an
OpenAPI spec with generated data and the built-in response checks, follows the spec's links
(create -> read/update/delete) with the created ids, probes authentication, and reports each
failure under the clause that claims it (:class:`ClauseMap`), one outcome per
(clause, operation, check) with its count. Findings that only say a server took or refused an
input other than the schema guessed (schemathesis' positive_data_acceptance,
negative_data_rejection, missing_required_header) are advisories of the default clause
(``ctx.advises``), never a verdict; every clause of the map gets a verdict (a skip with the
reason when nothing was judged against it).

Every request goes through ``ctx.request`` (the engine's client: evidence, rate limit,
recording). Generation is deterministic for a given ``ctx.seed`` (and the same loaded modules:
Hypothesis also draws literals from the local, non-site-packages code): one seeded Hypothesis
run per operation and mode, no example database, no shrinking, no error feedback, no learning
cache. Each request carries a description (request extension ``CASE_EXTENSION``: number, kind,
operation, mode and per-location modes, never values) that a recording keeps; in
``ctx.mode == "replay"`` nothing is generated: the recorded requests of the running clause group
are sent again as recorded, in order, and today's checks judge the recorded answers (the
recorded mode decides positive/negative, the case's values are read back from the request).

schemathesis and Hypothesis are imported only when property tests run, so loading the suites
(and running other clauses) does not pay for them.

Budgets (``ctx.budget``), generated cases per operation and mode, and the stateful part:

=========  ========  ========  ============================================  =============
budget     positive  negative  links followed                                auth probes
=========  ========  ========  ============================================  =============
quick      5         5         1 created resource per operation, 1+1 cases   1 per variant
standard   25        25        2 created resources, 2+2 cases per link        1 per variant
deep       100       100       5 created resources, 5+5 cases, chains of 5    2 per variant
=========  ========  ========  ============================================  =============

schemathesis' coverage phase stays off in every budget for now: its "missing required header"
cases reach the wire with the run's credentials added, and its boundary cases include paging
combinations API Platform legitimately refuses (``page>1&itemsPerPage=0``), so it reported
false failures on conformant servers.

Stated minimum (measured as ``cases`` on the default clause, e.g. HCW-GEN-04): every operation
that may be sent gets at least the budget's positive and negative counts (quick: 5 + 5,
standard: 25 + 25, deep: 100 + 100), counted by what each case is when sent (a negative case
whose only invalid value was contact data replaced by the safe one counts as positive, and
more cases are drawn to make up the number). Exceptions, where the inputs run out first: an
operation without parameters or body has one distinct positive request and nothing to
negate; an operation whose only inputs are free-form strings in the path (e.g. an invite id)
has no invalid wire value, so no negative case; enumerations give as many cases as their
combinations. Credentials are never generated (they are fixed, then added or withheld by us).
Operations that may not be sent (writes on a live target without ``--allow-writes``, cases a
suite marks disruptive, excluded operations) are not counted. On a live target, an operation
whose creations the API cannot remove (a ``Resource`` without cleanup, e.g. a Leah transfer)
gets only as many positive cases as its links need (the budget's created resources), since
each one stays on someone's production.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from teleconform.properties._contacts import safe_email, safe_phone
from teleconform.properties._map import ClauseMap
from teleconform.properties._types import (
    BUDGETS,
    CASE_EXTENSION,
    AuthHeaders,
    Budget,
    Disruptive,
    InvalidAuth,
    Prepare,
    PropertyReport,
    Resource,
)
from teleconform.suite import Context, NeedMissing

__all__ = [
    "BUDGETS",
    "CASE_EXTENSION",
    "Budget",
    "ClauseMap",
    "Disruptive",
    "InvalidAuth",
    "Prepare",
    "PropertyReport",
    "Resource",
    "default_invalid_auth",
    "file_part",
    "run_property_tests",
    "safe_email",
    "safe_phone",
]


def default_invalid_auth(headers: Mapping[str, str]) -> list[dict[str, str]]:
    """One invalid variant of the credentials: each value replaced, a Bearer prefix kept."""
    invalid: dict[str, str] = {}
    for name, value in headers.items():
        prefix = "Bearer " if value.startswith("Bearer ") else ""
        invalid[name] = prefix + "teleconform-invalid-credential"
    return [invalid] if invalid else []


def run_property_tests(
    ctx: Context,
    *,
    spec: str | Path,
    auth: AuthHeaders,
    clause_map: ClauseMap,
    resources: Iterable[Resource] = (),
    prepare: Prepare | None = None,
    disruptive: Disruptive | None = None,
    invalid_auth: InvalidAuth = default_invalid_auth,
    exclude: Collection[str] = (),
    refusals: Mapping[str, str] | None = None,
    lenient: Mapping[str, str] | None = None,
    budget: Budget | None = None,
    unfollowed: Collection[str] = (),
) -> PropertyReport:
    """Run the property tests of one spec against ``ctx``'s target and report clause outcomes.

    Args:
        ctx: the check context (target, seed, budget, writes/disruptive permissions, mode).
        spec: a file name under specs/ (e.g. "hcw-athome.openapi.yaml") or a path.
        auth: returns the headers that authenticate a request (called once; a missing need
            leaves only the unauthenticated probes).
        clause_map: which clause claims which failure.
        resources: what create operations make (registered with ``ctx.created``).
        prepare: suite hook fixing generated cases up (e.g. a real doctor e-mail, a future
            date); called with the mode ("positive"/"negative") after contact data was made safe.
        disruptive: marks cases known to crash or disturb servers; they are sent only with
            ``ctx.disruptive_allowed``.
        invalid_auth: the invalid credential variants sent by the auth probes.
        exclude: operation labels ("POST /api/v1/login-local") never sent.
        refusals: operation label -> why its schema-valid generated data is rightly refused
            (random credentials, tokens or ids): a 4xx to a generated case (not to one along a
            link, which carries real values) is then not "Schema-valid request rejected". The
            spec should document 4XX for each.
        lenient: operation label -> why a server rightly accepts schema-violating data
            there (the API documents no validation): a 2xx to a negative case is then not
            "Schema-violating request accepted"; 5xx and response checks still apply.
        budget: overrides the budget named by ``ctx.budget``.
        unfollowed: operation labels never reached through links (their generated cases are
            still sent): along a link they would create what no test needs and the API cannot
            remove (a temporary patient account, a consultation).
    """
    from teleconform.properties._run import PropertyRun
    from teleconform.properties._spec import load_spec

    run = PropertyRun(
        ctx,
        load_spec(_spec_path(spec)),
        clause_map=clause_map,
        resources={r.operation: r for r in resources},
        prepare=prepare,
        disruptive=disruptive,
        invalid_auth=invalid_auth,
        exclude=frozenset(exclude),
        refusals=frozenset(refusals or ()),
        lenient=frozenset(lenient or ()),
        budget=budget or BUDGETS.get(ctx.budget, BUDGETS["standard"]),
        unfollowed=frozenset(unfollowed),
    )
    try:
        headers: Mapping[str, str] | None = dict(auth(ctx))
    except NeedMissing:
        headers = None
    run.execute(headers)
    return run.report


def _spec_path(spec: str | Path) -> Path:
    path = Path(spec)
    if path.is_absolute() or path.exists():
        return path
    from teleconform._resources import spec_path

    return spec_path(str(spec))


def file_part(data: bytes) -> Any:
    """A file value for a generated multipart body (named and typed like generated ones)."""
    from schemathesis.transport.serialization import Binary

    return Binary(data)
