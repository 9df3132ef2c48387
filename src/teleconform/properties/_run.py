"""One property-test run: generate (or replay), send, judge, follow links, probe auth.

Private helper of :mod:`teleconform.properties` (which documents budgets and replay); imported
only when property tests run, since it loads schemathesis and Hypothesis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from schemathesis.core import NOT_SET
from schemathesis.transport.serialization import contains_binary

from teleconform.properties._check import (
    AUTH_NOT_ENFORCED,
    CREATED_NOT_FOUND,
    DELETED_STILL_AVAILABLE,
    NO_RESPONSE,
    Finding,
    Ledger,
    json_finding,
    validate,
)
from teleconform.properties._contacts import safe_contacts
from teleconform.properties._gen import (
    NEGATIVE,
    POSITIVE,
    coverage_cases,
    derived_seed,
    generate,
    mode_of,
)
from teleconform.properties._map import ClauseMap
from teleconform.properties._replay import recorded_case, recorded_wire
from teleconform.properties._spec import (
    GeneratedCase,
    Link,
    LoadedSpec,
    Operation,
    Unresolved,
    evaluate,
    pointer,
)
from teleconform.properties._types import (
    CASE_EXTENSION,
    Budget,
    Disruptive,
    InvalidAuth,
    Prepare,
    PropertyReport,
    Resource,
)
from teleconform.properties._wire import Wire, make_contacts_safe, to_wire
from teleconform.runner._http import TransportError
from teleconform.suite import Context

_METHOD_ORDER = {"GET": 0, "HEAD": 0, "PUT": 1, "PATCH": 1, "POST": 2, "DELETE": 3}
_MAX_TRANSPORT_ERRORS = 3
_PLACEHOLDER = "teleconform-placeholder"
# Kinds of described requests: a generated (or linked) case, an auth probe, the read-back
# after a successful delete.
CASE, PROBE, DELETED = "case", "probe", "deleted"


class PropertyRun:
    """The state of one ``run_property_tests`` call."""

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
        refusals: frozenset[str],
        lenient: frozenset[str] = frozenset(),
        budget: Budget,
        unfollowed: frozenset[str] = frozenset(),
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.map = clause_map
        self.resources = resources
        self.prepare = prepare
        self.disruptive = disruptive
        self.invalid_auth = invalid_auth
        self.exclude = exclude
        self.refusals = refusals
        self.lenient = lenient
        self.budget = budget
        self.unfollowed = unfollowed
        self.ledger = Ledger()
        self.report = PropertyReport()
        self.exercised: dict[str, httpx.Response | None] = {}
        self.auth: dict[str, str] = {}
        self.transport_errors = 0
        self.created: list[tuple[Operation, GeneratedCase, httpx.Response]] = []
        self.email, self.phone = safe_contacts()
        self._sent = 0  # number of the next described request
        self._description: dict[str, Any] | None = None
        self._answers: dict[int, httpx.Response] = {}  # replay: answers probes refer to

    # -- phases -------------------------------------------------------------------------
    def execute(self, auth: Mapping[str, str] | None) -> None:
        operations = [op for op in self.spec.operations if self._may_send(op)]
        self.report.operations = [op.label for op in operations]
        hooks = self.ctx.http.before_send
        hooks.append(self._describe_request)
        try:
            if self.ctx.mode == "replay":
                self._replay(operations, authenticated=auth is not None)
            elif auth is None:
                for operation in operations:
                    self._anonymous_probe(operation)
            else:
                self.auth = dict(auth)
                for operation in operations:
                    self._fuzz(operation)
                for operation, case, response in self.created:
                    self._follow(operation, case, response, depth=1)
        finally:
            hooks.remove(self._describe_request)
        self._conclude(authenticated=auth is not None)

    def _describe_request(self, request: httpx.Request) -> None:
        if self._description is not None:
            request.extensions[CASE_EXTENSION] = dict(self._description)

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
            operation, POSITIVE, self._positive_count(label), derived_seed(seed, label, POSITIVE)
        )
        chains = 0
        answers: list[tuple[httpx.Response, int] | None] = []
        for case in positives:
            answer = self._send_case(operation, case, POSITIVE)
            answers.append(answer)
            if (
                answer is not None
                and answer[0].is_success
                and chains < self.budget.chains
                and self.spec.links.get(label)
            ):
                self.created.append((operation, case, answer[0]))
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

    def _positive_count(self, label: str) -> int:
        """The budget's positive cases; on a live target, an operation creating what the API
        cannot remove (a resource without cleanup) gets only those its links need."""
        resource = self.resources.get(label)
        if self.ctx.mode == "live" and resource is not None and resource.cleanup is None:
            return min(self.budget.positive, max(1, self.budget.chains))
        return self.budget.positive

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

    # -- replay -----------------------------------------------------------------------------
    def _replay(self, operations: list[Operation], *, authenticated: bool) -> None:
        """Send the recorded requests of this clause group again and judge their answers."""
        self.report.replayed = True
        recorded = (self.ctx.state.get("replay_cases") or {}).get(self.ctx.http.label) or []
        described = [e for e in recorded if isinstance(e.get("case"), Mapping)]
        if recorded and not described:
            self.ctx.errors(
                self.map.default,
                f"the {self.ctx.http.label} cassette holds no property-case descriptions "
                "(recorded by an older teleconform): re-record it",
            )
            return
        if authenticated:
            for operation in operations:
                self.report.cases[operation.label] = {POSITIVE: 0, NEGATIVE: 0}
        seen: set[Any] = set()
        for entry in described:
            description = entry["case"]
            number = description.get("n")
            if number in seen:
                continue  # a retried request (429) is one request, sent again once
            seen.add(number)
            found = self.spec.operation(str(description.get("op")))
            if found is None:
                continue
            operation = found
            kind = description.get("kind")
            answer = self._send(operation, recorded_wire(entry), {}, dict(description))
            if answer is None:
                continue
            response = answer[0]
            if kind == DELETED:
                self._judge_deleted(operation, response)
                continue
            mode = str(description.get("mode", POSITIVE))
            case = recorded_case(
                operation,
                entry,
                description,
                credential_headers=self.spec.credential_headers,
                credential_params=self.spec.credential_params,
                placeholder=_PLACEHOLDER,
            )
            if kind == PROBE:
                before = self._answers.get(description.get("authenticated"))
                self._judge_probe(
                    operation, case, str(description.get("probe", "")), response, before
                )
            else:
                if isinstance(number, int):
                    self._answers[number] = response
                self._judge_case(
                    operation,
                    case,
                    mode,
                    response,
                    linked=bool(description.get("linked")),
                    available=bool(description.get("available")),
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
        self,
        operation: Operation,
        case: GeneratedCase,
        mode: str,
        *,
        linked: bool = False,
        read_back: bool = False,
    ) -> tuple[httpx.Response, int] | None:
        """Send one case; ``read_back``: a positive one is the first read of a created resource."""
        wire = self._wire(operation, case, mode)
        if wire is None:
            return None
        sent_mode = mode_of(case)
        meta = case.meta
        description = {
            "kind": CASE,
            "op": operation.label,
            "mode": sent_mode,
            "components": {
                location.value: info.mode.value for location, info in meta.components.items()
            }
            if meta is not None
            else {},
            "linked": linked,
            "available": read_back and sent_mode == POSITIVE,
        }
        answer = self._send(operation, wire, self.auth, description)
        if answer is None:
            return None
        self._judge_case(
            operation,
            case,
            sent_mode,
            answer[0],
            linked=linked,
            available=bool(description["available"]),
        )
        return answer

    def _judge_case(
        self,
        operation: Operation,
        case: GeneratedCase,
        mode: str,
        response: httpx.Response,
        *,
        linked: bool,
        available: bool,
    ) -> None:
        counts = self.report.cases.setdefault(operation.label, {POSITIVE: 0, NEGATIVE: 0})
        counts[mode] = counts.get(mode, 0) + 1
        if linked:
            self.report.link_steps += 1
        # generated data only: a linked case carries a real id or token
        refused_ok = operation.label in self.refusals and not linked
        findings = validate(
            case,
            response,
            self.map,
            refusal_accepted=refused_ok,
            violation_accepted=operation.label in self.lenient,
        )
        self._record(operation, findings, response)
        self._exercise(self.map.default, response)
        self._exercise(self.map.server_error, response)
        self._exercise(self.map.json_clause(operation.path), response)
        self._register(operation, response)
        if available:
            self._check_available(operation, response)

    def _send(
        self,
        operation: Operation,
        wire: Wire,
        headers: Mapping[str, str],
        description: dict[str, Any],
    ) -> tuple[httpx.Response, int] | None:
        number = self._sent
        self._sent += 1
        self._description = {"n": number, **description}
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
        finally:
            self._description = None
        self.transport_errors = 0
        self.report.requests += 1
        return response, number

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
        authenticated: tuple[httpx.Response, int] | None = None,
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
        for description, headers in variants:
            answer = self._send(
                operation,
                bare,
                headers,
                {
                    "kind": PROBE,
                    "op": operation.label,
                    "probe": description,
                    "authenticated": authenticated[1] if authenticated is not None else None,
                },
            )
            if answer is None:
                continue
            before = authenticated[0] if authenticated is not None else None
            self._judge_probe(operation, case, description, answer[0], before)

    def _judge_probe(
        self,
        operation: Operation,
        case: GeneratedCase,
        description: str,
        response: httpx.Response,
        authenticated: httpx.Response | None,
    ) -> None:
        clause = self.map.auth_clause(operation.path)
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
            if target is None or target.label in self.unfollowed or not self._may_send(target):
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
                    method = target.method.upper()
                    first_read = method == "GET" and index == 0 and read_back is None
                    answer = self._send_case(
                        target, linked, mode, linked=True, read_back=first_read
                    )
                    if answer is None or mode_of(linked) != POSITIVE:
                        continue
                    result = answer[0]
                    if first_read:
                        read_back = self._wire(target, linked, POSITIVE)
                        if self.spec.secured.get(target.label):
                            self._auth_probes(target, linked, authenticated=answer)
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
        answer = self._send(delete, read_back, self.auth, {"kind": DELETED, "op": delete.label})
        if answer is not None:
            self._judge_deleted(delete, answer[0])

    def _judge_deleted(self, delete: Operation, response: httpx.Response) -> None:
        if response.is_success:
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
        passed: set[str] = set()
        for clause, operation, check, count, message, responses in self.ledger.items():
            times = "once" if count == 1 else f"{count} times"
            ctx.fails(clause, f"{operation}: {check}: {message} ({times})", *responses)
            self.report.failures[f"{clause} {operation}: {check}"] = count
        for clause, operation, check, count, message, responses in self.ledger.items(advisory=True):
            times = "once" if count == 1 else f"{count} times"
            ctx.advises(clause, operation, check, f"{message} ({times})", *responses)
            self.report.advisories[f"{clause} {operation}: {check}"] = count
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
                if self.report.replayed:
                    message += " (recorded cases replayed)"
            ctx.passes(clause, message, *evidence)
            passed.add(clause)
        # every clause of the map gets a verdict from this run: one it could not judge is a
        # skip with the reason, never left undecided (the runner would call that an error)
        for clause in self.map.clauses():
            if clause in failed or clause in passed:
                continue
            if not authenticated:
                why = "without credentials the property tests only probe authentication"
            else:
                why = "no property-test request was judged against it"
            ctx.skips(clause, why)


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
