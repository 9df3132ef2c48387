"""How the Leah sandbox writes JSON-LD, Hydra collections and errors, API Platform style.

A ``Dialect`` combines three choices the profiles vary: the Hydra spelling (``prefixed``: API
Platform 2.x/3.x, what Leah's documentation shows, null values kept; unprefixed: the 4.x
default, null values skipped), the error format (legacy ``hydra:Error`` /
``ConstraintViolationList`` in application/ld+json, or RFC 7807 application/problem+json with
the JSON-LD keys) and the JSON escaping (PHP's ``\\/`` and HTML escapes, or plain JSON).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus

from starlette.responses import Response

LD_JSON = "application/ld+json; charset=utf-8"
PROBLEM_JSON = "application/problem+json; charset=utf-8"
PLAIN_JSON = "application/json"
PHP_INT_MAX = 2**63 - 1
HYDRA_ERROR_LINK = '<http://www.w3.org/ns/hydra/error>; rel="http://www.w3.org/ns/json-ld#error"'

# Symfony constraint codes, so violation lists look like the real thing.
NOT_BLANK = "c1051bb4-d103-4f74-8988-acbcafc7fdc3"
INVALID_EMAIL = "bd79c0ab-ddba-46cc-a703-a7a4b08de310"
INVALID_PHONE = "ca23f4ca-38f4-4325-9bcc-eb570a4abe7f"
GREATER_THAN = "778b7ae0-84d3-481a-9dec-35fdb64b1d78"
NO_SUCH_CHOICE = "8e179f1b-97aa-4560-a02f-2a8b42e49df7"
TOO_LARGE = "df8637af-d466-48c6-a59d-e7126250a654"
INVALID_MIME = "744f00bc-4389-4c74-92de-9a43cde55534"
TOO_MANY = "756b1212-697c-468d-a9ad-50dd783bb169"
LOCKED = "7911c98d-b845-4da0-94b7-a8dac36bc55a"


def encode(data: Any, *, escape: bool = True) -> bytes:
    """JSON as API Platform's encoder writes it: escaped slashes and HTML characters
    (``escape=False``: plain JSON, as most other encoders write it).

    The replaced characters can only occur inside JSON strings, so the substitutions are safe.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if not escape:
        return text.encode("utf-8")
    for raw, escaped in (
        ("/", "\\/"),
        ("<", "\\u003C"),
        (">", "\\u003E"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
    ):
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


def jsonld(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None, *, escape: bool = True
) -> Response:
    """A JSON-LD response."""
    return Response(
        encode(data, escape=escape),
        status_code=status,
        headers={"content-type": LD_JSON, **(headers or {})},
    )


@dataclass(frozen=True, slots=True)
class Dialect:
    """Spelling of Hydra keys, format of errors, JSON escaping."""

    prefixed: bool
    problem_errors: bool | None = None  # None: as the spelling's API Platform version does
    escape: bool = True

    @property
    def problem(self) -> bool:
        """Whether errors are RFC 7807 application/problem+json."""
        return (not self.prefixed) if self.problem_errors is None else self.problem_errors

    def encode(self, data: Any) -> bytes:
        return encode(data, escape=self.escape)

    def key(self, term: str) -> str:
        return f"hydra:{term}" if self.prefixed else term

    def strip_nulls(
        self, data: dict[str, Any], *, merge_patch_resource: bool = False
    ) -> dict[str, Any]:
        """2.x keeps nulls except on merge-patch resources; 3.0+ always skips them."""
        if self.prefixed and not merge_patch_resource:
            return data
        return {k: v for k, v in data.items() if v is not None}


def error_response(
    dialect: Dialect, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A generic API Platform error (400, 404, 405, 406, 415, 500...)."""
    h = dialect.key
    if not dialect.problem:
        body: dict[str, Any] = {
            "@context": "/api/contexts/Error",
            "@type": h("Error"),
            h("title"): "An error occurred",
            h("description"): message,
        }
        return Response(
            dialect.encode(body),
            status_code=status,
            headers={"content-type": LD_JSON, **(headers or {})},
        )
    body = {
        "@context": "/api/contexts/Error",
        "@id": f"/api/errors/{status}",
        "@type": h("Error"),
        "title": "An error occurred",
        "detail": message,
        "status": status,
        "type": f"/errors/{status}",
        "description": message,
    }
    if dialect.prefixed:  # 3.4 RFC 7807 mode: no @context, both spellings of the text
        del body["@context"]
        body.update({"hydra:title": "An error occurred", "hydra:description": message})
    return Response(
        dialect.encode(body),
        status_code=status,
        headers={"content-type": PROBLEM_JSON, "link": HYDRA_ERROR_LINK, **(headers or {})},
    )


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    message: str
    code: str


def violations_response(dialect: Dialect, violations: Sequence[Violation]) -> Response:
    """422 with the constraint violation list."""
    description = "\n".join(f"{v.path}: {v.message}" for v in violations)
    items = [{"propertyPath": v.path, "message": v.message, "code": v.code} for v in violations]
    h = dialect.key
    if not dialect.problem:
        body: dict[str, Any] = {
            "@context": "/api/contexts/ConstraintViolationList",
            "@type": "ConstraintViolationList",
            h("title"): "An error occurred",
            h("description"): description,
            "violations": items,
        }
        return Response(dialect.encode(body), status_code=422, headers={"content-type": LD_JSON})
    code = violations[0].code if violations else NOT_BLANK
    body = {
        "@context": "/api/contexts/ConstraintViolation",
        "@id": f"/api/validation_errors/{code}",
        "@type": "ConstraintViolation",
        "status": 422,
        "violations": items,
        "detail": description,
        "description": description,
        "title": "An error occurred",
        "type": f"/validation_errors/{code}",
    }
    if dialect.prefixed:
        # 3.2-3.4 in RFC 7807 mode: the old type name, no @context, both spellings of the text
        del body["@context"]
        body["@type"] = "ConstraintViolationList"
        body.update({"hydra:title": "An error occurred", "hydra:description": description})
    return Response(
        dialect.encode(body),
        status_code=422,
        headers={"content-type": PROBLEM_JSON, "link": HYDRA_ERROR_LINK},
    )


# -- query strings ------------------------------------------------------------------------------
def parse_query(raw: str) -> list[tuple[str, str]]:
    """Query parameters in order, names and values decoded (dots kept, as API Platform does)."""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def php_int(value: str) -> int:
    """PHP's (since 7.1) (int) cast of a string: its leading number or 0, capped to 64 bits.

    A leading float, exponent included, is truncated ("1.5" is 1, "6.4e+16" is 64000000000000000).
    """
    match = re.match(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)", value)
    if not match:
        return 0
    text = match.group(1)
    if re.fullmatch(r"[+-]?\d+", text):
        number = int(text)
    else:
        try:
            as_float = float(text)
        except OverflowError:  # pragma: no cover - float() gives inf rather than raising
            as_float = math.inf
        if math.isnan(as_float):
            return 0
        if math.isinf(as_float):
            return PHP_INT_MAX if as_float > 0 else -PHP_INT_MAX - 1
        number = int(as_float)
    return max(-PHP_INT_MAX - 1, min(PHP_INT_MAX, number))


def _array_name(name: str) -> str:
    """Numeric array indexes collapse to [] (IriHelper does the same)."""
    return re.sub(r"\[\d+\]$", "[]", name)


def build_query(pairs: Iterable[tuple[str, str]], page: int | None) -> str:
    """Re-encode like http_build_query(RFC 3986) with the page parameter moved last."""
    kept: list[tuple[str, str]] = []
    scalars: dict[str, int] = {}
    for name, value in pairs:
        if name == "page":
            continue
        name = _array_name(name)
        if not name.endswith("[]"):
            if name in scalars:  # PHP keeps the last value of a repeated scalar parameter
                kept[scalars[name]] = (name, value)
                continue
            scalars[name] = len(kept)
        kept.append((name, value))
    if page is not None:
        kept.append(("page", str(page)))
    return "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in kept)


def query_values(pairs: Sequence[tuple[str, str]], name: str) -> list[str] | None:
    """Values of filter ``name`` given as ``name=v`` (last wins) or ``name[]=v``; None if absent."""
    scalar = [v for n, v in pairs if n == name]
    array = [v for n, v in pairs if _array_name(n) == f"{name}[]"]
    if not scalar and not array:
        return None
    return ([scalar[-1]] if scalar else []) + array


class PaginationError(ValueError):
    """Bad page/itemsPerPage (API Platform answers 400)."""


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    limit: int
    last: int
    offset: int


# The sandbox's bounds (specs/leah.openapi.yaml documents the same maxima): pages beyond
# MAX_PAGE get API Platform's overflow answer, and client page sizes are capped like
# API Platform's maximum_items_per_page, except that a larger size is refused, not lowered.
MAX_PAGE = 1_000_000
MAX_ITEMS_PER_PAGE = 1000
_ITEMS_PER_PAGE = re.compile(r"\s*\+?\d+\s*")


def paginate(
    pairs: Sequence[tuple[str, str]],
    total: int,
    default_size: int,
    *,
    client_items_per_page: bool = True,
    lenient_items_per_page: bool = False,
) -> Page:
    """The page requested, validated the way API Platform's Pagination does.

    ``page`` is read with PHP's integer cast. ``itemsPerPage`` is ignored unless
    ``client_items_per_page`` (API Platform's ``pagination_client_items_per_page``, off by
    default); when read, it must be a whole number of at most MAX_ITEMS_PER_PAGE, or, with
    ``lenient_items_per_page``, a malformed value is ignored and a larger one capped (what
    ``maximum_items_per_page`` does).
    """
    page_values = [v for n, v in pairs if n == "page"]
    number = php_int(page_values[-1]) if page_values else 1
    if number < 1:
        raise PaginationError("Page should not be less than 1")
    limit_values = [v for n, v in pairs if n == "itemsPerPage"] if client_items_per_page else []
    if lenient_items_per_page and limit_values:
        if not _ITEMS_PER_PAGE.fullmatch(limit_values[-1]):
            limit_values = []
    limit = php_int(limit_values[-1]) if limit_values else default_size
    if lenient_items_per_page:
        limit = min(limit, MAX_ITEMS_PER_PAGE)
    if limit < 0:
        raise PaginationError("Limit should not be less than 0")
    if limit_values and (
        not _ITEMS_PER_PAGE.fullmatch(limit_values[-1]) or limit > MAX_ITEMS_PER_PAGE
    ):
        raise PaginationError(
            f"Items per page should be a whole number from 0 to {MAX_ITEMS_PER_PAGE}"
        )
    if limit == 0 and number > 1:
        raise PaginationError("Page should not be greater than 1 if limit is equal to 0")
    if number > MAX_PAGE or (limit and (number - 1) * limit > PHP_INT_MAX):
        raise PaginationError("Page parameter is too large.")
    last = 1 if limit == 0 else max(1, math.ceil(total / limit))
    return Page(number, limit, last, (number - 1) * limit)


@dataclass(frozen=True, slots=True)
class SearchVariable:
    variable: str
    property: str


def collection_body(
    dialect: Dialect,
    *,
    short_name: str,
    path: str,
    members: list[Any],
    total: int,
    page: Page,
    pairs: Sequence[tuple[str, str]],
    search: Sequence[SearchVariable],
    link_pairs: Sequence[tuple[str, str]] | None = None,
    last_override: int | None = None,
    trailing_empty: bool = False,
) -> dict[str, Any]:
    """A Hydra collection page as API Platform's CollectionNormalizer and its decorators write it.

    ``trailing_empty``: the last page (the caller passes it when that page is full) still gets
    a ``next`` to one empty page (API Platform before PR #3967). ``link_pairs`` and
    ``last_override`` exist for faults (links that lose filters, a wrong last page).
    """
    h = dialect.key
    body: dict[str, Any] = {
        "@context": f"/api/contexts/{short_name}",
        "@id": path,
        "@type": h("Collection"),
        h("member"): members,
        h("totalItems"): total,
    }
    paginated = page.last > 1
    extra = [n for n, _ in pairs if n not in ("page", "pagination")]
    if paginated or extra:
        view: dict[str, Any] = {
            "@id": _iri(path, build_query(pairs, page.number if paginated else None)),
            "@type": h("PartialCollectionView"),
        }
        if paginated:
            links = link_pairs if link_pairs is not None else pairs
            last = last_override if last_override is not None else page.last
            view[h("first")] = _iri(path, build_query(links, 1))
            view[h("last")] = _iri(path, build_query(links, last))
            if page.number > 1:
                view[h("previous")] = _iri(path, build_query(links, page.number - 1))
            if page.number < page.last or (trailing_empty and page.number == page.last):
                view[h("next")] = _iri(path, build_query(links, page.number + 1))
        body[h("view")] = view
    variables = ",".join(s.variable for s in search)
    body[h("search")] = {
        "@type": h("IriTemplate"),
        h("template"): f"{path}{{?{variables}}}",
        h("variableRepresentation"): "BasicRepresentation",
        h("mapping"): [
            {
                "@type": "IriTemplateMapping",
                "variable": s.variable,
                "property": s.property,
                "required": False,
            }
            for s in search
        ],
    }
    return body


def _iri(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path
