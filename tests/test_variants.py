from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.routes import endpoint_source
from harness.variants import AXES, PAGE_ROUTES, VariantFilter, all_variants

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "stream-data.fr.txt"


def test_the_product_keeps_every_point():
    variants = all_variants()
    assert len(variants) == 2 * 3 * 2 * 2 * 2 + 2 * 2 * 2  # the product on the app; 8 through routers
    assert len({v.id for v in variants}) == len(variants)
    na = [v for v in variants if v.na_reason and "SyntaxError" in v.na_reason]
    assert len(na) == 12 and all(v.axis["function"] == "async" and v.axis["loop"] == "yield-from" for v in na)


def test_routers_declare_the_representative_variants_only_and_say_why():
    """The declaration axis must not triple the run: through routers, every function and response kind of
    one annotation, chunk type and loop (the axis is defined there only; a point built off it says why)."""
    through = [v for v in all_variants() if v.axis["declaration"] != "app"]
    assert sorted(v.id for v in through) == sorted(f"{f}-ann-bytes-for-{r}-{d}" for f in ("async", "def")
                                                   for r in ("plain", "subclass") for d in ("router", "nested"))
    assert not any(v.na_reason for v in through)
    off = through[0].replace(chunk="str")
    assert "include_router()" in off.na_reason
    assert not any(v.axis["declaration"] != "app" for v in all_variants() if v.id.count("-") == 4)


def test_each_declaration_serves_the_route_where_it_says():
    from fastapi import FastAPI

    from harness.routes import declare, declared_path

    for vid, path in (("def-ann-bytes-for-plain", "/stream"), ("def-ann-bytes-for-plain-router", "/router/stream"),
                      ("def-ann-bytes-for-plain-nested", "/outer/inner/stream")):
        (v,) = [v for v in all_variants() if v.id == vid]
        app = FastAPI()
        assert declare(app, v, lambda: None) == declared_path(v) == path
        assert path in app.openapi()["paths"]


@pytest.mark.parametrize("v", all_variants(), ids=lambda v: v.id)
def test_na_points_are_exactly_the_ones_python_refuses(v):
    """The n/a rule is not our opinion: compiling the variant's source says the same."""
    try:
        compile(endpoint_source(v), v.id, "exec")
    except SyntaxError as exc:
        assert v.na_reason and "yield from" in str(exc)
    else:  # a point left out of the router declarations can be written: it is just not run
        assert v.na_reason is None or "declared through routers" in v.na_reason


def test_annotations_are_matching_none_and_mismatched():
    by_id = {v.id: endpoint_source(v) for v in all_variants()}
    assert "-> AsyncIterable[str]" in by_id["async-ann-str-for-plain"]
    assert "-> Iterable[bytes]" in by_id["def-ann-bytes-yieldfrom-subclass"]
    assert "-> AsyncIterable[bytes]" in by_id["async-misann-str-for-plain"]
    assert "-> Iterable[str]" in by_id["def-misann-bytes-for-plain"]
    assert "->" not in by_id["def-noann-str-for-plain"]
    assert "yield from chunks" in by_id["def-noann-str-yieldfrom-plain"]


def test_filter_by_axis_value_and_glob():
    f = VariantFilter(["function=def", "chunk=bytes,chunk=str", "*-subclass"])
    assert VariantFilter(["def-ann-str-for-plain,async-ann-str-for-plain"]).globs == [
        "def-ann-str-for-plain", "async-ann-str-for-plain"]
    # async-ann-bytes-* : 4 on the app, and the 2 `for` ones through a router and a nested router
    assert len([v for v in all_variants() if VariantFilter(["def-ann-str-for-plain,async-ann-bytes-*"])(v)]) == 1 + 4 + 4
    picked = [v.id for v in all_variants() if f(v)]
    assert picked and all(i.startswith("def-") and i.endswith("-subclass") for i in picked)
    assert len(picked) == 3 * 2 * 2


@pytest.mark.parametrize("expr, words", [("colour=red", "unknown axis 'colour'; axes are: function"),
                                          ("chunk=int", "has no value 'int'; values are: str, bytes")])
def test_filter_rejects_unknown_names_with_the_valid_ones(expr, words):
    with pytest.raises(UsageError, match=re.escape(words)):
        VariantFilter([expr])


@pytest.mark.skipif(not SPEC.exists(), reason="the spec folder is beside the repository")
def test_the_page_routes_are_the_pages_thirteen_paths():
    paths = set(re.findall(r'@app\.get\("(/(?:story|image)/[^"]+)"', SPEC.read_text("utf-8")))
    assert paths == set(PAGE_ROUTES)
    assert len(PAGE_ROUTES) == 13


def test_axes_have_labels_for_every_value():
    for axis in AXES:
        assert len(axis.values) == len(axis.labels) == len(set(axis.labels))
