"""The axes along which the page says a streaming route may be written, and their product.

A variant is one point of the product. Points that cannot exist (``async def`` with ``yield from``
is a SyntaxError) stay in the matrix with their reason, so a reader sees the whole space.
The 13 routes of the page, exactly as written there, are *reference* variants beside the product.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass

from .errors import UsageError

__all__ = ["Axis", "AXES", "FORM_AXES", "FORMS", "Variant", "all_variants", "form_variants", "every_variant",
           "page_variants", "variant_by_id", "VariantFilter", "url_key", "variant_by_url_key"]


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[str, ...]
    labels: tuple[str, ...]  # short form used in variant ids, same order as values
    help: str


AXES: tuple[Axis, ...] = (
    Axis("function", ("async", "def"), ("async", "def"), "`async def` or plain `def` path operation"),
    Axis("annotation", ("matching", "none", "mismatched"), ("ann", "noann", "misann"),
         "return annotation that matches the chunks, none, or one that contradicts them (C4)"),
    Axis("chunk", ("str", "bytes"), ("str", "bytes"), "the type of the yielded chunks"),
    Axis("loop", ("for", "yield-from"), ("for", "yieldfrom"), "`for ... yield` or `yield from`"),
    Axis("response", ("plain", "subclass"), ("plain", "subclass"),
         "`StreamingResponse` or a subclass with the scenario's `media_type`"),
    # The default value has no label, so a variant declared on the app keeps its id.
    Axis("declaration", ("app", "router", "nested"), ("", "router", "nested"),
         "declared on the app (`@app.get`), on an `APIRouter` included with a prefix, or on a router "
         "included into a router (`router`/`nested` on the `*-ann-bytes-for-*` variants only)"),
)
AXIS_BY_NAME = {a.name: a for a in AXES}

# include_router() copies the route: its path, response_class, status_code and dependencies. What it
# could lose is the route's, not the endpoint's, so the non-`app` declarations run on one annotation,
# one chunk type and one loop (every function and response kind): the default run stays fast.
DECLARED_THROUGH_ROUTERS = {"annotation": "matching", "chunk": "bytes", "loop": "for"}

# The form: how the yielded items become bytes. `raw` is the product above (Stream Data: chunks as
# they are); `jsonl` and `sse` are families of their own, on axes of their own (what is yielded is
# an item, not a chunk), so they never multiply the raw matrix.
FORMS = ("raw", "jsonl", "sse")
_FUNCTION = AXES[0]
_ITEM_ANNOTATION = Axis("annotation", ("model", "plain", "none"), ("model", "plain", "noann"),
                        "items declared as a Pydantic model (`AsyncIterable[Item]`), as a plain type "
                        "(`AsyncIterable[dict]`), or not at all (`jsonable_encoder`)")
_ITEM_LOOP = Axis("loop", ("for", "yield-from"), ("for", "yieldfrom"), "`for ... yield` or `yield from`")
_SSE_ITEM = Axis("item", ("data", "event", "raw"), ("data", "event", "raw"),
                 "SSE: plain items, `ServerSentEvent(data=..., event, id, retry, comment)`, or "
                 "`ServerSentEvent(raw_data=...)`")
_METHOD = Axis("method", ("get", "post"), ("get", "post"), "SSE: the path operation's HTTP method")
FORM_AXES: dict[str, tuple[Axis, ...]] = {
    "raw": AXES,
    "jsonl": (_FUNCTION, _ITEM_ANNOTATION, _ITEM_LOOP),
    "sse": (_FUNCTION, _ITEM_ANNOTATION, _SSE_ITEM, _ITEM_LOOP, _METHOD),
}


def _axis_of(form: str, name: str) -> Axis:
    return next(a for a in FORM_AXES[form] if a.name == name)


@dataclass(frozen=True)
class Variant:
    """One way of writing the route. ``page_path`` is set for the page's own reference routes."""

    axes: tuple[tuple[str, str], ...]
    page_path: str | None = None
    # What surrounds the route (a status code, a dependency, a background task ... see surround.py):
    # a context variant serves the checks on the route's surroundings, as a twin of its plain variant.
    context: str = ""
    form: str = "raw"  # the family: its axes are FORM_AXES[form]

    @property
    def axis(self) -> dict[str, str]:
        """The axis values, the form first (results carry it, so every report can show it)."""
        return {"form": self.form, **dict(self.axes)}

    @property
    def id(self) -> str:
        if self.page_path:
            return f"page:{self.page_path}" if self.form == "raw" else f"page:{self.form}:{self.page_path}"
        labels = (_axis_of(self.form, k).labels[_axis_of(self.form, k).values.index(v)] for k, v in self.axes)
        base = "-".join(label for label in labels if label)
        base = base if self.form == "raw" else f"{self.form}-{base}"
        return f"{base}~{self.context}" if self.context else base

    @property
    def is_page(self) -> bool:
        return self.page_path is not None

    @property
    def na_reason(self) -> str | None:
        """Why this point cannot exist in Python, if it cannot."""
        a = self.axis
        if a.get("function") == "async" and a.get("loop") == "yield-from":
            return "Python forbids `yield from` inside `async def` (SyntaxError): this point cannot be written"
        if a.get("declaration", "app") != "app" and any(a[k] != v for k, v in DECLARED_THROUGH_ROUTERS.items()):
            return ("declared through routers on the `*-ann-bytes-for-*` variants only: include_router() "
                    "copies the route (path, response_class, status_code, dependencies), not the endpoint, "
                    "so the endpoint's own axes are covered on the app")
        return None

    def replace(self, **changes: str) -> "Variant":
        return Variant(tuple((k, changes.get(k, v)) for k, v in self.axes), self.page_path, self.context, self.form)

    def with_context(self, context: str) -> "Variant":
        """This variant with ``context`` around its route (``""``: the plain route)."""
        return Variant(self.axes, self.page_path, context, self.form)

    def twins(self, axis: str) -> list["Variant"]:
        """The variants that differ from this one on ``axis`` only (of those its family plans)."""
        current = self.axis[axis]
        planned = {v.id for v in form_variants(self.form)} if self.form != "raw" else None
        twins = [self.replace(**{axis: v}) for v in _axis_of(self.form, axis).values if v != current]
        return [t for t in twins if planned is None or t.id in planned]


def all_variants() -> list[Variant]:
    """The product of the axes in a stable order, the points Python forbids included (``n/a``). The
    ``declaration`` axis is defined on the ``*-ann-bytes-for-*`` points only (see
    ``DECLARED_THROUGH_ROUTERS``): its other values are not points of the matrix at all, so they
    cost no row, no result and no report space."""
    names = [a.name for a in AXES]
    points = [Variant(tuple(zip(names, combo))) for combo in itertools.product(*(a.values for a in AXES))]
    return [v for v in points if v.axis["declaration"] == "app"
            or all(v.axis[k] == value for k, value in DECLARED_THROUGH_ROUTERS.items())]


def _sse_planned(axis: dict[str, str]) -> bool:
    """SSE over POST is planned on one point per item kind (async, model, for): the method changes how
    the request arrives, not how items are encoded, so the whole product again would only cost time."""
    return axis["method"] == "get" or (axis["function"], axis["annotation"], axis["loop"]) == ("async", "model", "for")


def form_variants(form: str) -> list[Variant]:
    """The product of a form's own axes (n/a points kept, unplanned points left out), stable order."""
    if form == "raw":
        return all_variants()
    names = [a.name for a in FORM_AXES[form]]
    points = [Variant(tuple(zip(names, combo)), form=form)
              for combo in itertools.product(*(a.values for a in FORM_AXES[form]))]
    return [v for v in points if form != "sse" or _sse_planned(dict(v.axes))]


def every_variant() -> list[Variant]:
    """Every generated and reference variant of every form."""
    return ([v for f in FORMS for v in form_variants(f)] + [v for _, v in PAGE_ROUTES.values()]
            + [v for _, v in FORM_PAGE_ROUTES.values()])


def variant_by_id(vid: str) -> Variant | None:
    return _BY_ID().get(vid)


def _BY_ID() -> dict[str, Variant]:  # noqa: N802 - a cached table
    if not _ID_CACHE:
        _ID_CACHE.update({v.id: v for v in every_variant()})
    return _ID_CACHE


_ID_CACHE: dict[str, Variant] = {}


def _page(path: str, function: str, annotation: str, chunk: str, loop: str, response: str) -> Variant:
    return Variant((("function", function), ("annotation", annotation), ("chunk", chunk), ("loop", loop),
                    ("response", response), ("declaration", "app")), page_path=path)


# The page's 13 routes and where each sits on the axes; `scenario` says which page sample serves it.
PAGE_ROUTES: dict[str, tuple[str, Variant]] = {
    v.page_path: (scenario, v)
    for scenario, v in [
        ("story", _page("/story/stream", "async", "matching", "str", "for", "plain")),
        ("story", _page("/story/stream-no-async", "def", "matching", "str", "for", "plain")),
        ("story", _page("/story/stream-no-annotation", "async", "none", "str", "for", "plain")),
        ("story", _page("/story/stream-no-async-no-annotation", "def", "none", "str", "for", "plain")),
        ("story", _page("/story/stream-bytes", "async", "matching", "bytes", "for", "plain")),
        ("story", _page("/story/stream-no-async-bytes", "def", "matching", "bytes", "for", "plain")),
        ("story", _page("/story/stream-no-annotation-bytes", "async", "none", "bytes", "for", "plain")),
        ("story", _page("/story/stream-no-async-no-annotation-bytes", "def", "none", "bytes", "for", "plain")),
        ("png", _page("/image/stream", "async", "matching", "bytes", "for", "subclass")),
        ("png", _page("/image/stream-no-async", "def", "matching", "bytes", "for", "subclass")),
        ("png", _page("/image/stream-no-async-yield-from", "def", "matching", "bytes", "yield-from", "subclass")),
        ("png", _page("/image/stream-no-annotation", "async", "none", "bytes", "for", "subclass")),
        ("png", _page("/image/stream-no-async-no-annotation", "def", "none", "bytes", "for", "subclass")),
    ]
}


def _form_page(form: str, path: str, function: str, annotation: str, **more: str) -> Variant:
    axes = [("function", function), ("annotation", annotation)]
    if form == "sse":
        axes.append(("item", more.get("item", "data")))
    axes.append(("loop", "for"))
    if form == "sse":
        axes.append(("method", more.get("method", "get")))
    return Variant(tuple(axes), page_path=path, form=form)


# The sibling pages' samples, as written there (`forms/samples.py` serves them); keyed by variant id.
FORM_PAGE_ROUTES: dict[str, tuple[str, Variant]] = {
    v.id: (sample, v)
    for sample, v in [
        ("items", _form_page("jsonl", "/items/stream", "async", "model")),
        ("items", _form_page("jsonl", "/items/stream-no-async", "def", "model")),
        ("items", _form_page("jsonl", "/items/stream-no-annotation", "async", "none")),
        ("items", _form_page("jsonl", "/items/stream-no-async-no-annotation", "def", "none")),
        ("items", _form_page("sse", "/items/stream", "async", "model")),
        ("items", _form_page("sse", "/items/stream-no-async", "def", "model")),
        ("items", _form_page("sse", "/items/stream-no-annotation", "async", "none")),
        ("items", _form_page("sse", "/items/stream-no-async-no-annotation", "def", "none")),
        ("priced-items", _form_page("sse", "/items/stream-events", "async", "model", item="event")),
        ("logs", _form_page("sse", "/logs/stream", "async", "model", item="raw")),
        ("priced-items", _form_page("sse", "/items/stream-resume", "async", "model", item="event")),
        ("chat", _form_page("sse", "/chat/stream", "async", "model", item="event", method="post")),
    ]
}


def page_variants(page_sample: str) -> list[Variant]:
    """The page's reference routes for one of its samples (``story``, ``png``; ``items``, ``priced-items``,
    ``logs``, ``chat`` for the sibling pages)."""
    return ([v for s, v in PAGE_ROUTES.values() if s == page_sample]
            + [v for s, v in FORM_PAGE_ROUTES.values() if s == page_sample])


# A page variant's id holds its path ("page:sse:/items/stream"): in a URL it is a key without "/" (the
# Stream Data page's routes page-0 .. page-12, the sibling pages' page-<form>-<n>), the same in a server
# process and in a team's app.
_URL_KEYS = {**{v.id: f"page-{i}" for i, (_, v) in enumerate(PAGE_ROUTES.values())},
             **{v.id: f"page-{v.form}-{i}" for i, (_, v) in enumerate(FORM_PAGE_ROUTES.values())}}
_BY_URL_KEY = {key: vid for vid, key in _URL_KEYS.items()}


def url_key(variant_id: str) -> str:
    """The variant's id as one URL path segment (generated ids already are)."""
    return _URL_KEYS.get(variant_id, variant_id)


def variant_by_url_key(key: str) -> Variant | None:
    """The variant :func:`url_key` named ``key`` (a generated or a reference variant of any form)."""
    return variant_by_id(_BY_URL_KEY.get(key, key))


# every axis of every form, with the values any form gives it (for --variant and scenario selections)
_ALL_VALUES: dict[str, tuple[str, ...]] = {}
for _axes in FORM_AXES.values():
    for _a in _axes:
        _ALL_VALUES[_a.name] = tuple(dict.fromkeys(_ALL_VALUES.get(_a.name, ()) + _a.values))
_ALL_VALUES["form"] = FORMS


class VariantFilter:
    """Selection by axis value (``chunk=bytes``) or by id glob (``def-*-subclass``, ``page:*``).

    Values of one axis are alternatives, and so are globs; different axes (and the globs) must all hold.
    """

    def __init__(self, exprs: list[str] | None) -> None:
        self.by_axis: dict[str, set[str]] = {}
        self.globs: list[str] = []
        for expr in exprs or []:
            for part in filter(None, (p.strip() for p in expr.split(","))):
                self._add(part)

    def _add(self, part: str) -> None:
        if "=" not in part:
            self.globs.append(part)
            return
        name, value = (s.strip() for s in part.split("=", 1))
        values = _ALL_VALUES.get(name)
        if values is None:
            raise UsageError(f"--variant {part!r}: unknown axis {name!r}; axes are: {', '.join(_ALL_VALUES)}")
        if value not in values:
            raise UsageError(f"--variant {part!r}: axis {name!r} has no value {value!r}; "
                             f"values are: {', '.join(values)}")
        self.by_axis.setdefault(name, set()).add(value)

    def __call__(self, variant: Variant) -> bool:
        axis = variant.axis  # an axis the variant's form does not have: not selected by a value of it
        if any(axis.get(name) not in values for name, values in self.by_axis.items()):
            return False
        return not self.globs or any(fnmatch.fnmatchcase(variant.id, g) for g in self.globs)
