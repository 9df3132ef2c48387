"""Schemathesis-driven property tests, reported as clause outcomes.

``run_property_tests(ctx, spec=..., auth=..., clause_map=...)`` covers every operation of an
OpenAPI spec with generated data and the built-in response checks, follows the spec's links
(create -> read/update/delete) with the created ids, probes authentication, and reports each
failure under the clause that claims it (:class:`ClauseMap`), one outcome per
(clause, operation, check) with its count.

Every request goes through ``ctx.request`` (the engine's client: evidence, rate limit,
recording). Generation is deterministic for a given ``ctx.seed``: one seeded Hypothesis run per
operation and mode, no example database, no shrinking, no error feedback, no learning cache.

Budgets (``ctx.budget``), generated cases per operation and mode, and the stateful part:

=========  ========  ========  ============================================  =============
budget     positive  negative  links followed                                auth probes
=========  ========  ========  ============================================  =============
quick      5         5         1 created resource per operation, 1+1 cases   1 per variant
standard   25        25        2 created resources, 2+2 cases per link        1 per variant
deep       100       100       5 created resources, 5+5 cases, chains of 5    2 per variant
                               + up to 50 coverage-phase cases per operation
=========  ========  ========  ============================================  =============

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
suite marks disruptive, excluded operations) are not counted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from schemathesis.core import NOT_SET
from schemathesis.transport.serialization import contains_binary

from ._http import TransportError
from ._properties_check import (
    AUTH_NOT_ENFORCED,
    CREATED_NOT_FOUND,
    DELETED_STILL_AVAILABLE,
    NO_RESPONSE,
    ClauseMap,
    Finding,
    Ledger,
    json_finding,
    validate,
)
from ._properties_gen import NEGATIVE, POSITIVE, coverage_cases, derived_seed, generate, mode_of
from ._properties_spec import (
    GeneratedCase,
    Link,
    LoadedSpec,
    Operation,
    Unresolved,
    evaluate,
    load_spec,
    pointer,
)
from ._properties_wire import Wire, make_contacts_safe, to_wire
from .suite import Context, NeedMissing

__all__ = [
    "BUDGETS",
    "Budget",
    "ClauseMap",
    "PropertyReport",
    "Resource",
    "default_invalid_auth",
    "file_part",
    "run_property_tests",
    "safe_email",
    "safe_phone",
]


@dataclass(frozen=True, slots=True)
class Budget:
    """How much generated testing one run does."""

    positive: int
    negative: int
    chains: int  # successful creations per operation whose links are followed
    link_cases: int  # cases per linked operation and mode
    depth: int  # longest chain of links followed
    auth_probes: int  # probed cases per operation and credential variant
    coverage: int  # coverage-phase cases per operation (0 = phase off)


BUDGETS: dict[str, Budget] = {
    "quick": Budget(
        positive=5, negative=5, chains=1, link_cases=1, depth=3, auth_probes=1, coverage=0
    ),
    "standard": Budget(
        positive=25, negative=25, chains=2, link_cases=2, depth=3, auth_probes=1, coverage=0
    ),
    "deep": Budget(
        positive=100, negative=100, chains=5, link_cases=5, depth=5, auth_probes=2, coverage=50
    ),
}


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource an operation creates: where its id is, and how the ledger cleans it up.

    ``cleanup`` is (method, path template with ``{id}``), e.g. ("DELETE", "/api/v1/invite/{id}").
    """

    operation: str
    kind: str
    id_pointer: str
    cleanup: tuple[str, str] | None = None


AuthHeaders = Callable[[Context], Mapping[str, str]]
Prepare = Callable[[Context, GeneratedCase, str], None]
Disruptive = Callable[[GeneratedCase], bool]
InvalidAuth = Callable[[Mapping[str, str]], list[dict[str, str]]]


@dataclass(slots=True)
class PropertyReport:
    """What one property-test run did (also reported through ctx outcomes and measurements)."""

    operations: list[str] = field(default_factory=list)
    cases: dict[str, dict[str, int]] = field(default_factory=dict)
    auth_probes: int = 0
    link_steps: int = 0
    requests: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


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
    budget: Budget | None = None,
) -> PropertyReport:
    """Run the property tests of one spec against ``ctx``'s target and report clause outcomes.

    Args:
        ctx: the check context (target, seed, budget, writes/disruptive permissions).
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
        budget: overrides the budget named by ``ctx.budget``.
    """
    run = _Run(
        ctx,
        load_spec(_spec_path(spec)),
        clause_map=clause_map,
        resources={r.operation: r for r in resources},
        prepare=prepare,
        disruptive=disruptive,
        invalid_auth=invalid_auth,
        exclude=frozenset(exclude),
        budget=budget or BUDGETS.get(ctx.budget, BUDGETS["standard"]),
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
    from ._resources import spec_path

    return spec_path(str(spec))


_METHOD_ORDER = {"GET": 0, "HEAD": 0, "PUT": 1, "PATCH": 1, "POST": 2, "DELETE": 3}
_MAX_TRANSPORT_ERRORS = 3
_PLACEHOLDER = "teleconform-placeholder"


class _Run:
    def __init__(
        self,
        ctx: Context,
        spec: LoadedSpec,
        *,
        clause_map: ClauseMap,
        resources: dict[str, Resource],
        prepare: Prepare | None,
        disruptive: Disruptive | None,
        invalid_auth: InvalidAuth,
        exclude: frozenset[str],
        budget: Budget,
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.map = clause_map
        self.resources = resources
        self.prepare = prepare
        self.disruptive = disruptive
        self.invalid_auth = invalid_auth
        self.exclude = exclude
        self.budget = budget
        self.ledger = Ledger()
        self.report = PropertyReport()
        self.exercised: dict[str, httpx.Response | None] = {}
        self.auth: dict[str, str] = {}
        self.transport_errors = 0
        self.created: list[tuple[Operation, GeneratedCase, httpx.Response]] = []
        self.email, self.phone = _safe_contacts()

    # -- phases -------------------------------------------------------------------------
    def execute(self, auth: Mapping[str, str] | None) -> None:
        operations = [op for op in self.spec.operations if self._may_send(op)]
        self.report.operations = [op.label for op in operations]
        if auth is None:
            for operation in operations:
                self._anonymous_probe(operation)
        else:
            self.auth = dict(auth)
            for operation in operations:
                self._fuzz(operation)
            for operation, case, response in self.created:
                self._follow(operation, case, response, depth=1)
        self._conclude(authenticated=auth is not None)

    def _may_send(self, operation: Operation) -> bool:
        if operation.label in self.exclude:
            self.report.skipped[operation.label] = "excluded by the suite"
            return False
        if operation.method.upper() != "GET" and not self.ctx.writes_allowed:
            self.report.skipped[operation.label] = "writes not allowed"
            return False
        return True

    def _fuzz(self, operation: Operation) -> None:
        label = operation.label
        self.report.cases[label] = {POSITIVE: 0, NEGATIVE: 0}
        seed = self.ctx.seed
        positives = self._generate(
            operation, POSITIVE, self.budget.positive, derived_seed(seed, label, POSITIVE)
        )
        chains = 0
        answers: list[httpx.Response | None] = []
        for case in positives:
            response = self._send_case(operation, case, POSITIVE)
            answers.append(response)
            if (
                response is not None
                and response.is_success
                and chains < self.budget.chains
                and self.spec.links.get(label)
            ):
                self.created.append((operation, case, response))
                chains += 1
        if self.spec.secured.get(label):
            probed = list(zip(positives, answers, strict=True))[: self.budget.auth_probes]
            for case, answer in probed:
                self._auth_probes(operation, case, authenticated=answer)
        negatives = self._generate(
            operation, NEGATIVE, self.budget.negative, derived_seed(seed, label, NEGATIVE)
        )
        for case in negatives:
            self._send_case(operation, case, NEGATIVE)
        self._top_up(operation, NEGATIVE, self.budget.negative, bool(negatives))
        if self.budget.coverage:
            for case in coverage_cases(operation, self.budget.coverage):
                self._send_case(operation, case, mode_of(case))

    def _top_up(self, operation: Operation, mode: str, wanted: int, generated: bool) -> None:
        """Send more cases when edits (safe contact data) relabelled some of this mode."""
        counts = self.report.cases[operation.label]
        for attempt in range(2):
            missing = wanted - counts[mode]
            if missing <= 0 or not generated:
                return
            extra = self._generate(
                operation,
                mode,
                missing * 2,
                derived_seed(self.ctx.seed, operation.label, mode, "more", str(attempt)),
            )
            for case in extra:
                if counts[mode] >= wanted:
                    return
                self._send_case(operation, case, mode)

    def _anonymous_probe(self, operation: Operation) -> None:
        if not self.spec.secured.get(operation.label):
            return
        label = operation.label
        seed = derived_seed(self.ctx.seed, label, "anonymous")
        cases = self._generate(operation, POSITIVE, 1, seed)
        for case in cases:
            self._auth_probes(operation, case, invalid=False)

    def _generate(
        self,
        operation: Operation,
        mode: str,
        count: int,
        seed: int,
        *,
        path_parameters: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = NOT_SET,
    ) -> list[GeneratedCase]:
        # Credentials are fixed placeholders (left out on the wire), so that no case is
        # "negative" only because of a mangled credential: the auth probes cover those.
        headers = {name: _PLACEHOLDER for name in self.spec.credential_headers}
        if "authorization" in headers:
            headers["authorization"] = f"Bearer {_PLACEHOLDER}"
        fixed_query = {name: _PLACEHOLDER for name in self.spec.credential_params}
        fixed_query.update(query or {})
        return generate(
            operation,
            mode,
            count,
            seed,
            path_parameters=path_parameters,
            query=fixed_query or None,
            headers=headers or None,
            body=body,
        )

    # -- one request --------------------------------------------------------------------
    def _wire(self, operation: Operation, case: GeneratedCase, mode: str) -> Wire | None:
        if mode == POSITIVE and contains_binary(case.body):
            # schemathesis cannot re-validate file parts and would relabel an edited positive
            # case negative; the edits below keep positive cases valid
            case.freeze_metadata()
        make_contacts_safe(case, self.email, self.phone)
        if self.prepare is not None:
            # an edit may turn a negative case positive (e.g. the only invalid value was an
            # address now replaced): the hook sees the mode the case has now, twice at most
            for _ in range(2):
                current = mode_of(case)
                self.prepare(self.ctx, case, current)
                if mode_of(case) == current:
                    break
        if self.disruptive is not None and not self.ctx.disruptive_allowed:
            if self.disruptive(case):
                return None
        try:
            return to_wire(
                case,
                self.ctx.base_url,
                credential_headers=self.spec.credential_headers,
                credential_params=self.spec.credential_params,
            )
        except (ValueError, TypeError, UnicodeError):
            return None

    def _send_case(
        self, operation: Operation, case: GeneratedCase, mode: str, *, linked: bool = False
    ) -> httpx.Response | None:
        wire = self._wire(operation, case, mode)
        if wire is None:
            return None
        response = self._send(operation, wire, self.auth)
        if response is None:
            return None
        counts = self.report.cases.setdefault(operation.label, {POSITIVE: 0, NEGATIVE: 0})
        counts[mode_of(case)] += 1
        if linked:
            self.report.link_steps += 1
        self._record(operation, validate(case, response, self.map), response)
        self._exercise(self.map.default, response)
        self._exercise(self.map.server_error, response)
        self._exercise(self.map.json_clause(operation.path), response)
        self._register(operation, response)
        return response

    def _send(
        self, operation: Operation, wire: Wire, headers: Mapping[str, str]
    ) -> httpx.Response | None:
        try:
            response = self.ctx.request(wire.method, wire.url, **wire.kwargs(headers))
        except TransportError as exc:
            if isinstance(exc.cause, httpx.LocalProtocolError | httpx.InvalidURL):
                return None  # our side could not encode the generated request
            if isinstance(exc.cause, httpx.ConnectError):
                raise
            self.transport_errors += 1
            clause = self.map.server_error or self.map.default
            self._record(operation, [Finding(clause, NO_RESPONSE, str(exc.cause))], None)
            self._exercise(clause, None)
            if self.transport_errors >= _MAX_TRANSPORT_ERRORS:
                raise
            return None
        self.transport_errors = 0
        self.report.requests += 1
        return response

    def _record(
        self, operation: Operation, findings: list[Finding], response: httpx.Response | None
    ) -> None:
        for finding in findings:
            self.ledger.add(operation.label, finding, response)

    def _exercise(self, clause: str | None, response: httpx.Response | None) -> None:
        if clause and self.exercised.get(clause) is None:
            self.exercised[clause] = response

    def _register(self, operation: Operation, response: httpx.Response) -> None:
        resource = self.resources.get(operation.label)
        if resource is None or not response.is_success:
            return
        try:
            ident = pointer(response.json(), resource.id_pointer)
        except (ValueError, Unresolved):
            return
        if not isinstance(ident, str | int) or isinstance(ident, bool):
            return
        cleanup = None
        if resource.cleanup is not None:
            method, template = resource.cleanup
            cleanup = (method, template.format(id=ident))
        self.ctx.created(resource.kind, str(ident), cleanup)

    # -- authentication probes ------------------------------------------------------------
    def _auth_probes(
        self,
        operation: Operation,
        case: GeneratedCase,
        *,
        invalid: bool = True,
        authenticated: httpx.Response | None = None,
    ) -> None:
        wire = self._wire(operation, case, POSITIVE)
        if wire is None:
            return
        # Only the credential headers are withheld or spoiled; others the auth hook adds
        # (e.g. Accept) stay, so that a refusal is about the credential.
        credentials = {
            k: v for k, v in self.auth.items() if k.lower() in self.spec.credential_headers
        } or dict(self.auth)
        kept = {k: v for k, v in self.auth.items() if k not in credentials}
        bare = wire.without(self.auth)
        variants: list[tuple[str, dict[str, str]]] = [("without credentials", kept)]
        if invalid and credentials:
            variants += [
                ("with an invalid credential", {**kept, **headers})
                for headers in self.invalid_auth(credentials)
            ]
        clause = self.map.auth_clause(operation.path)
        for description, headers in variants:
            response = self._send(operation, bare, headers)
            if response is None:
                continue
            self.report.auth_probes += 1
            self._exercise(clause, response)
            findings = []
            if response.is_success:
                findings.append(
                    Finding(clause, AUTH_NOT_ENFORCED, f"{response.status_code} {description}")
                )
            elif authenticated is not None and _leaks(authenticated, response):
                message = f"{response.status_code} {description}, but the body carries the data"
                findings.append(Finding(clause, AUTH_NOT_ENFORCED, message))
            if response.status_code >= 500:
                findings.extend(validate(case, response, self.map)[:1])
            json_failure = json_finding(response, self.map.json_clause(operation.path))
            if json_failure is not None:
                findings.append(json_failure)
                self._exercise(json_failure.clause, response)
            self._record(operation, findings, response)
            self._register(operation, response)

    # -- links ----------------------------------------------------------------------------
    def _follow(
        self, operation: Operation, case: GeneratedCase, response: httpx.Response, depth: int
    ) -> None:
        links = [
            link
            for link in self.spec.links.get(operation.label, [])
            if _status_matches(link.status, response.status_code)
        ]
        if not links:
            return
        try:
            body = response.json()
        except ValueError:
            return
        context = {
            "response_body": body,
            "response_headers": {k.lower(): v for k, v in response.headers.items()},
            "request_path": dict(case.path_parameters or {}),
            "request_query": dict(case.query or {}),
            "request_body": case.body if isinstance(case.body, dict | list) else None,
        }
        read_back: Wire | None = None
        for link in sorted(links, key=lambda item: _method_rank(item.target)):
            target = self.spec.operation(link.target)
            if target is None or not self._may_send(target):
                continue
            values = _link_values(link, target, context)
            if values is None:
                continue
            path_parameters, query, body = values
            seed = self.ctx.seed
            for mode in (NEGATIVE, POSITIVE):
                cases = self._generate(
                    target,
                    mode,
                    self.budget.link_cases,
                    derived_seed(seed, "link", operation.label, link.name, mode, str(depth)),
                    path_parameters=path_parameters or None,
                    query=query,
                    body=body,
                )
                for index, linked in enumerate(cases):
                    result = self._send_case(target, linked, mode, linked=True)
                    if result is None or mode_of(linked) != POSITIVE:
                        continue
                    method = target.method.upper()
                    if method == "GET" and index == 0 and read_back is None:
                        read_back = self._wire(target, linked, POSITIVE)
                        self._check_available(target, result)
                        if self.spec.secured.get(target.label):
                            self._auth_probes(target, linked, authenticated=result)
                    if method == "DELETE" and result.is_success and read_back is not None:
                        self._check_deleted(target, read_back)
                    if result.is_success and depth < self.budget.depth:
                        self._follow(target, linked, result, depth + 1)

    def _check_available(self, target: Operation, response: httpx.Response) -> None:
        if response.status_code in (404, 410):
            finding = Finding(
                self.map.default,
                CREATED_NOT_FOUND,
                f"{response.status_code} right after the resource was created",
            )
            self._record(target, [finding], response)

    def _check_deleted(self, delete: Operation, read_back: Wire) -> None:
        response = self._send(delete, read_back, self.auth)
        if response is not None and response.is_success:
            finding = Finding(
                self.map.default,
                DELETED_STILL_AVAILABLE,
                f"reading it back answered {response.status_code} after a successful delete",
            )
            self._record(delete, [finding], response)

    # -- outcomes -------------------------------------------------------------------------
    def _conclude(self, *, authenticated: bool) -> None:
        ctx = self.ctx
        total = sum(sum(counts.values()) for counts in self.report.cases.values())
        operations = len([label for label, c in self.report.cases.items() if sum(c.values())])
        failed = self.ledger.failed_clauses()
        for clause, operation, check, count, message, responses in self.ledger.items():
            times = "once" if count == 1 else f"{count} times"
            ctx.fails(clause, f"{operation}: {check}: {message} ({times})", *responses)
            self.report.failures[f"{clause} {operation}: {check}"] = count
        if authenticated and total:
            ctx.measure(self.map.default, "cases", self.report.cases)
            ctx.measure(
                self.map.default,
                "budget",
                {
                    "name": ctx.budget,
                    "positive": self.budget.positive,
                    "negative": self.budget.negative,
                },
            )
        for clause, sample in self.exercised.items():
            if clause in failed:
                continue
            if not authenticated and clause not in (self.map.auth, self.map.non_json):
                continue
            evidence = (sample,) if sample is not None else ()
            if clause == self.map.auth:
                message = (
                    f"{self.report.auth_probes} probes without or with invalid credentials refused"
                )
            else:
                message = (
                    f"{total} cases over {operations} operations, "
                    f"{self.report.link_steps} of them along links"
                )
            ctx.passes(clause, message, *evidence)


def _leaks(authenticated: httpx.Response, refused: httpx.Response) -> bool:
    """Whether a refusal carries what the authenticated answer served (non-empty parts)."""
    if not authenticated.is_success or not refused.content:
        return False
    try:
        served, body = authenticated.json(), refused.json()
    except ValueError:
        return False
    if served == body and served not in ({}, [], None):
        return True
    if not isinstance(served, dict) or not isinstance(body, dict):
        return False
    return any(
        isinstance(value, dict | list) and value and body.get(key) == value
        for key, value in served.items()
    )


def _status_matches(declared: str, status: int) -> bool:
    if declared == "default":
        return 200 <= status < 300
    if declared.upper().endswith("XX"):
        return declared[0] == str(status)[0]
    return declared == str(status)


def _method_rank(label: str) -> int:
    return _METHOD_ORDER.get(label.split(" ", 1)[0], 2)


def _link_values(
    link: Link, target: Operation, context: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], Any] | None:
    path_names = {p.name for p in target.path_parameters}
    query_names = {p.name for p in target.query}
    path_parameters: dict[str, Any] = {}
    query: dict[str, Any] = {}
    for name, expression in link.parameters:
        try:
            value = evaluate(expression, **context)
        except Unresolved:
            return None
        location, _, bare = name.rpartition(".")
        if location == "query" or (not location and bare in query_names and bare not in path_names):
            query[bare] = value
        else:
            path_parameters[bare] = value
    if not path_names <= set(path_parameters):
        return None
    body: Any = NOT_SET
    if link.request_body is not None:
        try:
            body = evaluate(link.request_body, **context)
        except Unresolved:
            return None
    return path_parameters, query, body


def file_part(data: bytes) -> Any:
    """A file value for a generated multipart body (named and typed like generated ones)."""
    from schemathesis.transport.serialization import Binary

    return Binary(data)


def safe_email() -> str:
    """The e-mail address generated contact data is replaced with (TELECONFORM_SAFE_EMAIL)."""
    return _safe_contacts()[0]


def safe_phone() -> str:
    """The phone number generated contact data is replaced with (TELECONFORM_SAFE_PHONE)."""
    return _safe_contacts()[1]


def _safe_contacts() -> tuple[str, str]:
    import os

    from ._needs import ConfigError, safe_contacts

    try:
        return safe_contacts(os.environ)
    except ConfigError:
        from ._needs import DEFAULT_SAFE_EMAIL, DEFAULT_SAFE_PHONE

        return DEFAULT_SAFE_EMAIL, DEFAULT_SAFE_PHONE

