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

__all__ = ["Axis", "AXES", "Variant", "all_variants", "page_variants", "VariantFilter"]


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


@dataclass(frozen=True)
class Variant:
    """One way of writing the route. ``page_path`` is set for the page's own reference routes."""

    axes: tuple[tuple[str, str], ...]
    page_path: str | None = None
    # What surrounds the route (a status code, a dependency, a background task ... see surround.py):
    # a context variant serves the checks on the route's surroundings, as a twin of its plain variant.
    context: str = ""

    @property
    def axis(self) -> dict[str, str]:
        return dict(self.axes)

    @property
    def id(self) -> str:
        if self.page_path:
            return f"page:{self.page_path}"
        labels = (AXIS_BY_NAME[k].labels[AXIS_BY_NAME[k].values.index(v)] for k, v in self.axes)
        base = "-".join(label for label in labels if label)
        return f"{base}~{self.context}" if self.context else base

    @property
    def is_page(self) -> bool:
        return self.page_path is not None

    @property
    def na_reason(self) -> str | None:
        """Why this point cannot exist in Python, if it cannot."""
        a = self.axis
        if a["function"] == "async" and a["loop"] == "yield-from":
            return "Python forbids `yield from` inside `async def` (SyntaxError): this point cannot be written"
        if a.get("declaration", "app") != "app" and any(a[k] != v for k, v in DECLARED_THROUGH_ROUTERS.items()):
            return ("declared through routers on the `*-ann-bytes-for-*` variants only: include_router() "
                    "copies the route (path, response_class, status_code, dependencies), not the endpoint, "
                    "so the endpoint's own axes are covered on the app")
        return None

    def replace(self, **changes: str) -> "Variant":
        return Variant(tuple((k, changes.get(k, v)) for k, v in self.axes), self.page_path, self.context)

    def with_context(self, context: str) -> "Variant":
        """This variant with ``context`` around its route (``""``: the plain route)."""
        return Variant(self.axes, self.page_path, context)

    def twins(self, axis: str) -> list["Variant"]:
        """The variants that differ from this one on ``axis`` only."""
        current = self.axis[axis]
        return [self.replace(**{axis: v}) for v in AXIS_BY_NAME[axis].values if v != current]


def all_variants() -> list[Variant]:
    """The product of the axes in a stable order, the points Python forbids included (``n/a``). The
    ``declaration`` axis is defined on the ``*-ann-bytes-for-*`` points only (see
    ``DECLARED_THROUGH_ROUTERS``): its other values are not points of the matrix at all, so they
    cost no row, no result and no report space."""
    names = [a.name for a in AXES]
    points = [Variant(tuple(zip(names, combo))) for combo in itertools.product(*(a.values for a in AXES))]
    return [v for v in points if v.axis["declaration"] == "app"
            or all(v.axis[k] == value for k, value in DECLARED_THROUGH_ROUTERS.items())]


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


def page_variants(page_sample: str) -> list[Variant]:
    """The page's reference routes for one of its samples (``story`` or ``png``)."""
    return [v for s, v in PAGE_ROUTES.values() if s == page_sample]


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
        axis = AXIS_BY_NAME.get(name)
        if axis is None:
            raise UsageError(f"--variant {part!r}: unknown axis {name!r}; axes are: {', '.join(AXIS_BY_NAME)}")
        if value not in axis.values:
            raise UsageError(f"--variant {part!r}: axis {name!r} has no value {value!r}; "
                             f"values are: {', '.join(axis.values)}")
        self.by_axis.setdefault(name, set()).add(value)

    def __call__(self, variant: Variant) -> bool:
        axis = variant.axis
        if any(axis[name] not in values for name, values in self.by_axis.items()):
            return False
        return not self.globs or any(fnmatch.fnmatchcase(variant.id, g) for g in self.globs)
