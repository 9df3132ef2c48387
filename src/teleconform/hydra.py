"""JSON-LD/Hydra collection semantics as API Platform writes them, for the Leah suites.

API Platform spells the Hydra terms with the ``hydra:`` prefix (2.x, 3.x, 4.x with
``hydra_prefix: true``) or without it (4.x default). This module detects the spelling, reports
documents that mix both, reads a collection page in either spelling, compares view links the
way a client must (URL-decoded, query parameters sorted, host ignored), and walks ``next`` links
across pages, detecting loops, repeated members and empty pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urljoin, urlsplit

__all__ = [
    "LINK_TERMS",
    "CollectionPage",
    "DialectReport",
    "HydraError",
    "LinkKey",
    "View",
    "Walk",
    "detect_dialect",
    "iri_path",
    "is_uuid",
    "link_key",
    "link_problems",
    "member_identity",
    "normalise",
    "page_number",
    "read_collection",
    "same_link",
    "uuid_of_iri",
    "walk",
]

Dialect = Literal["prefixed", "unprefixed"]
PREFIX = "hydra:"
COLLECTION_TERMS = ("member", "totalItems", "view", "search")
LINK_TERMS = ("first", "last", "next", "previous")
SEARCH_TERMS = ("template", "variableRepresentation", "mapping")
TYPE_TERMS = ("Collection", "PagedCollection", "PartialCollectionView", "IriTemplate")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


class HydraError(ValueError):
    """The document is not something a Hydra collection reader can work with."""


# -- dialect ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DialectReport:
    """Where a document uses each spelling (JSON pointers of keys and ``@type`` values)."""

    prefixed: tuple[str, ...]
    unprefixed: tuple[str, ...]

    @property
    def mixed(self) -> bool:
        return bool(self.prefixed and self.unprefixed)

    @property
    def dialect(self) -> Dialect | None:
        """The single spelling used, or None when mixed or when no Hydra term was found."""
        if self.mixed:
            return None
        if self.prefixed:
            return "prefixed"
        if self.unprefixed:
            return "unprefixed"
        return None

    def describe(self) -> str:
        """One line for a report."""
        if self.mixed:
            return (
                f"mixes prefixed ({', '.join(self.prefixed[:4])}) and unprefixed "
                f"({', '.join(self.unprefixed[:4])}) Hydra terms"
            )
        return f"uses the {self.dialect or 'no'} spelling"


def _scan(
    node: Mapping[str, Any],
    terms: Sequence[str],
    pointer: str,
    prefixed: list[str],
    unprefixed: list[str],
) -> None:
    for term in terms:
        if PREFIX + term in node:
            prefixed.append(f"{pointer}/{PREFIX}{term}")
        if term in node:
            unprefixed.append(f"{pointer}/{term}")
    kind = node.get("@type")
    if isinstance(kind, str):
        if kind.startswith(PREFIX) and kind[len(PREFIX) :] in TYPE_TERMS:
            prefixed.append(f"{pointer}/@type={kind}")
        elif kind in TYPE_TERMS:
            unprefixed.append(f"{pointer}/@type={kind}")


def _child(node: Mapping[str, Any], term: str) -> Mapping[str, Any] | None:
    for key in (PREFIX + term, term):
        value = node.get(key)
        if isinstance(value, Mapping):
            return value
    return None


def detect_dialect(doc: Mapping[str, Any]) -> DialectReport:
    """Which spelling a collection document uses for its Hydra keys and types.

    Looks at the collection's own keys and ``@type``, the view's and the search template's;
    the IriTemplateMapping entries inside search (``variable``, ``property``, ``required``)
    are unprefixed in both spellings and are not evidence. Members are resource nodes and
    are not inspected.
    """
    prefixed: list[str] = []
    unprefixed: list[str] = []
    _scan(doc, COLLECTION_TERMS, "", prefixed, unprefixed)
    for key in (PREFIX + "view", "view"):
        view = doc.get(key)
        if isinstance(view, Mapping):
            _scan(view, LINK_TERMS, f"/{key}", prefixed, unprefixed)
    for key in (PREFIX + "search", "search"):
        search = doc.get(key)
        if isinstance(search, Mapping):
            _scan(search, SEARCH_TERMS, f"/{key}", prefixed, unprefixed)
    return DialectReport(tuple(prefixed), tuple(unprefixed))


def _strip(value: str) -> str:
    return value[len(PREFIX) :] if value.startswith(PREFIX) else value


def _normalise_node(node: Mapping[str, Any], terms: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        name = _strip(key) if _strip(key) in terms else key
        if key == "@type" and isinstance(value, str) and _strip(value) in TYPE_TERMS:
            value = _strip(value)
        if name not in out or key == name:  # an unprefixed key wins over a prefixed duplicate
            out[name] = value
    return out


def normalise(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a collection document with the ``hydra:`` prefix removed from Hydra keys and
    types (collection, view, search); members are returned untouched."""
    out = _normalise_node(doc, COLLECTION_TERMS)
    if isinstance(out.get("view"), Mapping):
        out["view"] = _normalise_node(out["view"], LINK_TERMS)
    if isinstance(out.get("search"), Mapping):
        out["search"] = _normalise_node(out["search"], SEARCH_TERMS)
    return out


# -- reading a page -----------------------------------------------------------------------------
def _link_value(value: Any) -> str | None:
    """A link as an IRI string (Hydra allows a node object with @id)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("@id"), str):
        return str(value["@id"])
    return None


@dataclass(frozen=True, slots=True)
class View:
    """A PartialCollectionView: its @id and paging links (None when absent)."""

    id: str | None
    type: str | None
    first: str | None = None
    last: str | None = None
    next: str | None = None
    previous: str | None = None

    def links(self) -> dict[str, str]:
        """The paging links present, by term."""
        found = {
            "first": self.first,
            "last": self.last,
            "next": self.next,
            "previous": self.previous,
        }
        return {term: link for term, link in found.items() if link is not None}


@dataclass(frozen=True, slots=True)
class CollectionPage:
    """One page of a Hydra collection, read in whichever spelling it used."""

    url: str | None
    raw: Mapping[str, Any]
    # @context, @id and @type as written (the type keeps its hydra: prefix, if any)
    context: Any
    id: Any
    type: Any
    members: list[Any]
    members_shape: Literal["array", "object", "missing", "invalid"]
    total_items: Any
    has_total_items: bool
    view: View | None
    search: Mapping[str, Any] | None
    dialect: DialectReport

    @property
    def total(self) -> int | None:
        """totalItems when it is an integer >= 0, else None."""
        value = self.total_items
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        return None

    def member_ids(self) -> list[str]:
        return [member_identity(m) for m in self.members]


def read_collection(doc: Any, url: str | None = None) -> CollectionPage:
    """Read a collection page; tolerant (shape problems are reported, not raised) so that
    one defect does not hide the others. Raises HydraError only for a non-object document."""
    if not isinstance(doc, Mapping):
        raise HydraError(f"a collection must be a JSON object, got {type(doc).__name__}")
    report = detect_dialect(doc)
    norm = normalise(doc)
    raw_members = norm.get("member")
    members: list[Any]
    shape: Literal["array", "object", "missing", "invalid"]
    if isinstance(raw_members, list):
        members, shape = list(raw_members), "array"
    elif isinstance(raw_members, Mapping):
        members, shape = list(raw_members.values()), "object"
    elif "member" in norm:
        members, shape = [], "invalid"
    else:
        members, shape = [], "missing"
    view = None
    raw_view = norm.get("view")
    if isinstance(raw_view, Mapping):
        view = View(
            id=_link_value(raw_view.get("@id")),
            type=raw_view.get("@type") if isinstance(raw_view.get("@type"), str) else None,
            **{term: _link_value(raw_view.get(term)) for term in LINK_TERMS},
        )
    search = norm.get("search")
    return CollectionPage(
        url=url,
        raw=doc,
        context=norm.get("@context"),
        id=norm.get("@id"),
        type=doc.get("@type"),
        members=members,
        members_shape=shape,
        total_items=norm.get("totalItems"),
        has_total_items="totalItems" in norm,
        view=view,
        search=search if isinstance(search, Mapping) else None,
        dialect=report,
    )


def member_identity(member: Any) -> str:
    """A member's @id, or its canonical JSON when it has none (to spot repeats anyway)."""
    if isinstance(member, Mapping) and isinstance(member.get("@id"), str):
        return str(member["@id"])
    if isinstance(member, str):
        return member
    return json.dumps(member, sort_keys=True, default=str)


# -- links --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LinkKey:
    """A link reduced to what identifies the page: path and sorted, decoded query parameters."""

    path: str
    params: tuple[tuple[str, str], ...]

    def without(self, *names: str) -> tuple[tuple[str, str], ...]:
        return tuple(p for p in self.params if p[0] not in names)


def iri_path(iri: str) -> str:
    """The path of an IRI (an absolute URL loses scheme and host)."""
    return urlsplit(iri).path


def link_key(link: str, base: str | None = None) -> LinkKey:
    """Path and sorted decoded query parameters of ``link`` (resolved against ``base``)."""
    resolved = urljoin(base, link) if base else link
    parts = urlsplit(resolved)
    params = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return LinkKey(parts.path, params)


def same_link(a: str, b: str, base: str | None = None) -> bool:
    """Whether two links name the same page (encoding, parameter order and host ignored)."""
    return link_key(a, base) == link_key(b, base)


def page_number(link: str, page_param: str = "page") -> int | None:
    """The page parameter of a link as an integer, or None."""
    values = [v for k, v in link_key(link).params if k == page_param]
    if len(values) != 1 or not values[0].isdigit():
        return None
    return int(values[0])


def link_problems(
    view: View, collection_path: str, params: Iterable[tuple[str, str]], *, page_param: str = "page"
) -> list[str]:
    """Why the view's paging links are not links of the same collection with the same query
    parameters (all but the page parameter), compared decoded and sorted."""
    expected = tuple(sorted((k, v) for k, v in params if k != page_param))
    problems = []
    for term, link in view.links().items():
        key = link_key(link)
        if key.path != collection_path:
            problems.append(f"{term} link {link!r} leaves the collection {collection_path}")
            continue
        got = key.without(page_param)
        if got != expected:
            problems.append(
                f"{term} link {link!r} has parameters {dict(got)} instead of {dict(expected)}"
            )
        if page_number(link, page_param) is None:
            problems.append(f"{term} link {link!r} has no usable {page_param} parameter")
    return problems


# -- UUID IRIs ----------------------------------------------------------------------------------
def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in the canonical 8-4-4-4-12 hex form."""
    return bool(UUID_RE.match(value))


def uuid_of_iri(iri: Any, collection: str, *, allow_absolute: bool = True) -> str | None:
    """The UUID ending an IRI ``/api/<collection>/<uuid>`` (or that URL's path), else None."""
    if not isinstance(iri, str):
        return None
    path = iri_path(iri) if allow_absolute else iri
    if not allow_absolute and "://" in iri:
        return None
    prefix = f"/api/{collection}/"
    if not path.startswith(prefix):
        return None
    ident = path[len(prefix) :]
    return ident if is_uuid(ident) else None


# -- walking ------------------------------------------------------------------------------------
@dataclass(slots=True)
class Walk:
    """What following ``next`` from a first page found."""

    pages: list[CollectionPage] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    distinct: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, int]] = field(default_factory=list)
    loop: str | None = None
    truncated: bool = False
    empty_pages: list[int] = field(default_factory=list)
    trailing_empty: bool = False
    last_link: str | None = None
    ended_at_last: bool | None = None
    left_collection: str | None = None

    @property
    def paginated(self) -> bool:
        """Whether the walk saw more than one page."""
        return len(self.pages) > 1

    @property
    def spans_pages(self) -> bool:
        """Whether the collection claims more than one page, judged from its links as well as
        from the pages reached: a ``next`` link (even one leading nowhere new: to the page
        itself, around a cycle, into another collection) or a ``last`` link naming another
        page than the first make it paginated."""
        if self.paginated or self.loop or self.left_collection or self.truncated:
            return True
        first = self.pages[0] if self.pages else None
        if first is None or first.view is None:
            return False
        if first.view.next is not None:
            return True
        last = first.view.last
        return last is not None and not _is_at(first, self.urls[0], urljoin(self.urls[0], last))

    @property
    def complete(self) -> bool:
        """Whether the walk went from the first page to a natural end (no loop, no link out
        of the collection, not cut short): its members can be counted."""
        return not (self.loop or self.left_collection or self.truncated)

    def problems(self) -> list[str]:
        """Every pagination defect found, one sentence each."""
        found = []
        if self.loop:
            found.append(f"next links loop back to an already visited page ({self.loop})")
        if self.left_collection:
            found.append(
                f"a next link leads out of the collection ({self.left_collection}); "
                "the walk stopped there"
            )
        if self.truncated:
            found.append(f"still a next link after {len(self.pages)} pages (walk stopped)")
        for member, index in self.duplicates[:5]:
            found.append(f"member {member} appears again on page {index + 1} of the walk")
        if len(self.duplicates) > 5:
            found.append(f"(+{len(self.duplicates) - 5} more repeated members)")
        for index in self.empty_pages:
            found.append(f"page {index + 1} of the walk is empty but not the trailing page")
        if self.ended_at_last is False:
            found.append(
                f"the walk did not end at the last link {self.last_link!r} "
                f"(ended at {self._final_url()!r})"
            )
        return found

    def _final_url(self) -> str | None:
        non_empty = [i for i, p in enumerate(self.pages) if p.members]
        index = non_empty[-1] if non_empty else len(self.pages) - 1
        return self.urls[index] if index >= 0 and self.urls else None


def _is_at(page: CollectionPage, url: str, link: str) -> bool:
    if same_link(url, link, base=url):
        return True
    return bool(page.view and page.view.id and same_link(page.view.id, link, base=url))


def walk(fetch: Callable[[str], Any], start: str, *, max_pages: int = 50) -> Walk:
    """Follow ``next`` from ``start`` (a URL or path ``fetch`` understands).

    ``fetch`` returns the parsed JSON of one page (it may raise to abort the walk). Stops at
    a page without ``next``, on a loop (a page visited twice, compared as ``link_key``), at a
    ``next`` link into another path (``left_collection``; it is not fetched), or after
    ``max_pages`` pages. One empty page at the end, after a non-empty one, is allowed
    (older API Platform versions gave a full last page a ``next``); any other empty page is
    reported. ``ended_at_last`` tells whether the walk ended at the first page's ``last``
    link: its last non-empty page, or the allowed trailing empty page, is that link (None
    when there is no such link).
    """
    result = Walk()
    seen_pages: set[LinkKey] = set()
    seen_members: set[str] = set()
    url: str | None = start
    collection_path = link_key(start).path
    while url is not None:
        if link_key(url).path != collection_path:
            result.left_collection = url
            break
        key = link_key(url)
        if key in seen_pages:
            result.loop = url
            break
        if len(result.pages) >= max_pages:
            result.truncated = True
            break
        seen_pages.add(key)
        page = read_collection(fetch(url), url)
        index = len(result.pages)
        result.pages.append(page)
        result.urls.append(url)
        if page.view is not None and page.view.id is not None:
            # The first page is often fetched without ?page=1 but names itself with it.
            seen_pages.add(link_key(page.view.id, base=url))
        for ident in page.member_ids():
            if ident in seen_members:
                result.duplicates.append((ident, index))
            else:
                seen_members.add(ident)
                result.distinct.append(ident)
        next_link = page.view.next if page.view else None
        if not page.members and index > 0:
            trailing = next_link is None and bool(result.pages[index - 1].members)
            if trailing and not result.trailing_empty:
                result.trailing_empty = True
            else:
                result.empty_pages.append(index)
        url = urljoin(url, next_link) if next_link is not None else None
    first = result.pages[0] if result.pages else None
    if first is not None and first.view is not None and first.view.last is not None:
        result.last_link = first.view.last
        last = urljoin(result.urls[0], first.view.last)
        non_empty = [i for i, p in enumerate(result.pages) if p.members] or [0]
        # The last non-empty page, or the trailing empty page if ``last`` names that one.
        ends = {non_empty[-1], len(result.pages) - 1 if result.trailing_empty else non_empty[-1]}
        result.ended_at_last = any(_is_at(result.pages[i], result.urls[i], last) for i in ends)
    return result
