"""Hydra collections of the Leah sandbox: query parsing, pagination, the collection body.

Pages are validated and linked the way API Platform's Pagination and CollectionNormalizer do;
the faults that break a collection (wrong totals, looping or lost links...) are applied here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_plus

from starlette.responses import Response

from teleconform.sandbox.leah._auth import authenticate
from teleconform.sandbox.leah._context import Ctx, Dialect
from teleconform.sandbox.leah._render import Reject, error, jsonld
from teleconform.sandbox.leah._validation import negotiate

PHP_INT_MAX = 2**63 - 1


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


def collection(
    ctx: Ctx,
    pairs: Sequence[tuple[str, str]],
    *,
    short_name: str,
    path: str,
    items: list[dict[str, Any]],
    search: Sequence[SearchVariable],
) -> dict[str, Any]:
    """One page of a Hydra collection of ``items``, with this request's faults."""
    try:
        page = paginate(
            pairs,
            len(items),
            ctx.page_size,
            client_items_per_page=ctx.reading("items_per_page") == "honoured",
            lenient_items_per_page=ctx.reading("malformed_items_per_page") == "ignored",
        )
    except PaginationError as exc:
        raise error(ctx, 400, str(exc)) from exc
    start, end = page.offset, page.offset + page.limit
    if ctx.on("duplicate-member-across-pages") and page.number > 1:
        start -= 1  # an overlapping window: the previous page's last row comes again
    members = items[start:end] if page.limit else []
    total = len(items)
    if ctx.on("total-items-off-by-one"):
        total += 1
    if ctx.on("total-items-page-count"):
        total = len(members)
    link_pairs = None
    if ctx.on("next-drops-filter"):
        link_pairs = [(n, v) for n, v in pairs if n in ("page", "itemsPerPage", "pagination")]
    last_override = None
    if ctx.on("last-link-wrong"):
        last_override = max(1, math.ceil(len(items) / ctx.page_size))
    elif ctx.on("last-unreachable"):
        last_override = page.last + 2
    full_last = bool(page.limit) and len(items) == page.last * page.limit
    body = collection_body(
        ctx.dialect,
        short_name=short_name,
        path=path,
        members=members,
        total=total,
        page=page,
        pairs=pairs,
        search=search,
        link_pairs=link_pairs,
        last_override=last_override,
        trailing_empty=bool(ctx.reading("trailing_empty_page")) and full_last,
    )
    return _collection_faults(ctx, body, page.number, page.offset, page.last, path)


def _collection_faults(
    ctx: Ctx,
    body: dict[str, Any],
    number: int,
    offset: int,
    last: int,
    path: str,
) -> dict[str, Any]:
    h = ctx.dialect.key
    view = body.get(h("view"))
    if ctx.on("next-link-loops") and view is not None and last > 1 and number >= last:
        view[h("next")] = view[h("first")]
    if view is not None and h("next") in view:
        if ctx.on("next-link-self"):
            view[h("next")] = view["@id"]
        elif ctx.on("next-other-collection"):
            elsewhere = (
                "/api/offices" if path == "/api/healthcare_workers" else "/api/healthcare_workers"
            )
            view[h("next")] = elsewhere + view[h("next")].removeprefix(path)
    if ctx.on("member-not-array") and number > 1:
        body[h("member")] = {str(offset + i): m for i, m in enumerate(body[h("member")])}
    if ctx.on("total-items-missing"):
        del body[h("totalItems")]
    elif ctx.on("total-items-string"):
        body[h("totalItems")] = str(body[h("totalItems")])
    if ctx.on("collection-context-no-prefix"):
        body["@context"] = body["@context"].removeprefix("/api")
    if ctx.on("collection-absolute-wrong-id"):
        base = f"{ctx.request.url.scheme}://{ctx.request.url.netloc}"
        body["@id"] = base + path.removeprefix("/api")
    if ctx.on("collection-type-paged"):
        body["@type"] = h("PagedCollection")
    if ctx.on("mixed-hydra-prefix"):
        # One serializer decorator still writes the other spelling.
        other = (lambda t: t) if ctx.dialect.prefixed else (lambda t: f"hydra:{t}")
        body = {
            (other(k.removeprefix("hydra:")) if k in (h("totalItems"), h("view")) else k): v
            for k, v in body.items()
        }
    return body


def list_response(ctx: Ctx, build: Callable[[], dict[str, Any]]) -> Response:
    """A collection answer: key and Accept checked, the body built by ``build``."""
    try:
        authenticate(ctx)
    except Reject:
        if not ctx.on("unauthorized-with-data"):
            raise
        return jsonld(ctx, build(), status=401)
    negotiate(ctx)
    return jsonld(ctx, build())
