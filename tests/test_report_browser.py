"""report.html in a real browser: Debian's chromium, headless, driven by playwright (no browser
download: ``executable_path`` is the system's chromium). The page is opened from disk as a person
would open it; the matrix must be drawn, the filters must hide what they filter out, and a detail
holding ``</script><script>alert(1)</script>`` and an ``<img onerror>`` must show as text, with no
script of the app's running."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.cli import main

from .report_data import NASTY, first, load, real_run, regress, save

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium; "
                                                          ".ci/run installs it when it can)")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, dict]:
    """report.html over two 'releases' x two engines, one chunk-order result regressed with NASTY."""
    tmp = tmp_path_factory.mktemp("browser")
    base = load(real_run(tmp / "run"))
    def declare_first(results):  # a known deviation: its expectation's reason is shown beside it
        results[0].update(outcome="non-strict", expected="non-strict", expectation={"reason": "known <b>why</b>"})
    save(base, tmp / "in" / "0.134.0" / "results.json", fastapi="0.134.0", edit=declare_first)
    save(base, tmp / "in" / "0.140.0" / "results.json", fastapi="0.140.0", edit=regress("chunk-order"))
    save(base, tmp / "in" / "0.140.0-uv" / "results.json", fastapi="0.140.0", engine="uvicorn")
    assert main(["report", str(tmp / "in"), "--output-dir", str(tmp / "out"), "--format", "html"]) == 0
    return tmp / "out" / "report.html", base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright  # in the test extra: missing is a failure, not a skip

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, report):
    path, _ = report
    pg = browser.new_page()
    pg.set_default_timeout(10_000)
    dialogs, errors = [], []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(path.as_uri())
    pg.wait_for_selector("#matrix td.cell")
    yield pg
    assert dialogs == [], f"a script from a detail ran: {dialogs}"
    assert errors == [], f"the page's script failed: {errors}"
    assert pg.evaluate("window.__pwned") is None
    pg.close()


def visible_rows(pg) -> list[tuple[str, str]]:
    return [tuple(x) for x in pg.eval_on_selector_all(
        "#matrix tbody tr", "rows => rows.filter(r => r.offsetParent !== null)"
                            ".map(r => [r.dataset.engine, r.dataset.check])")]


def cell(pg, engine: str, check: str, version: str):
    return pg.locator(f'#matrix tr[data-engine="{engine}"][data-check="{check}"] td[data-version="{version}"]')


def informative(base: dict) -> list[str]:
    """The checks with some result other than n/a: the rows shown by default."""
    some = {r["check"] for r in base["results"] if r["outcome"] != "n/a"}
    return [c for c in dict.fromkeys(r["check"] for r in base["results"]) if c in some]


def test_the_matrix_is_drawn_with_an_outcome_per_cell(page, report):
    _, base = report
    checks = informative(base)
    assert visible_rows(page) == [("asgi", c) for c in checks] + [("uvicorn", c) for c in checks]
    headers = page.eval_on_selector_all("#matrix thead th", "ths => ths.map(t => t.textContent)")
    assert headers == ["check", "engine", "0.134.0", "0.140.0"]
    regressed = cell(page, "asgi", "chunk-order", "0.140.0")
    assert regressed.get_attribute("data-outcome") == "fail"
    n = sum(r["check"] == "chunk-order" for r in base["results"])
    assert regressed.inner_text() == f"fail 1/{n}"
    assert "o-fail" in regressed.get_attribute("class")
    # the colour is really applied (the inline stylesheet loaded from a file:// page)
    assert regressed.evaluate("td => getComputedStyle(td).backgroundColor") == "rgb(249, 196, 196)"
    assert page.locator('#matrix tr[data-engine="uvicorn"] td.empty').count() == len(checks)  # no uvicorn in 0.134.0
    assert page.locator("#changes li", has_text="changed in 0.140.0").count() == 1


def test_filters_hide_the_other_engines_and_outcomes(page, report):
    _, base = report
    page.select_option("#f-engine", "uvicorn")
    assert {e for e, _ in visible_rows(page)} == {"uvicorn"}
    page.select_option("#f-engine", "")
    page.select_option("#f-outcome", "fail")
    fails = {(r["engine"], r["check"]) for r in base["results"] if r["outcome"] == "fail"}
    expected = fails | {("uvicorn", c) for _, c in fails} | {("asgi", "chunk-order")}
    assert set(visible_rows(page)) == expected
    outcomes = page.eval_on_selector_all("#matrix td.cell", "tds => tds.map(t => t.dataset.outcome)")
    assert outcomes and set(outcomes) == {"fail"}
    page.select_option("#f-engine", "asgi")
    assert set(visible_rows(page)) == {k for k in expected if k[0] == "asgi"}
    page.click("#f-reset")
    assert len(visible_rows(page)) == 2 * len(informative(base))
    page.check("#f-na")  # the rows that are all n/a, on request
    assert len(visible_rows(page)) == 2 * len({r["check"] for r in base["results"]})
    assert "row(s) that are all n/a not shown" not in page.inner_text("#status")


def test_drill_down_shows_details_as_text(page, report):
    _, base = report
    cell(page, "asgi", "chunk-order", "0.140.0").click()
    drill = page.locator("#drill")
    assert drill.is_visible()
    assert page.locator("#drill-title").inner_text() == "chunk-order [asgi] on FastAPI 0.140.0"
    rows = page.locator("#drill-table tbody tr")
    assert rows.count() == sum(r["check"] == "chunk-order" for r in base["results"])
    worst = rows.first  # worst first: the regression
    assert worst.get_attribute("data-outcome") == "fail"
    assert worst.locator("pre.detail").evaluate("p => p.textContent") == NASTY
    assert worst.locator("pre.detail").inner_text().startswith("Chunks differ </script><script>alert(1)</script> <img")
    assert page.locator("#drill img, #drill script").count() == 0  # shown as text, not markup
    assert page.locator("script").count() == 2  # the data block and the page's own script
    regressed = first(base["results"], "chunk-order", ("pass", "non-strict", "n/a", "informational", "unsupported"))
    assert worst.locator("td").nth(1).inner_text() == regressed["variant"]
    # the drill-down follows the filters too
    page.select_option("#f-outcome", "fail")
    assert page.locator("#drill-table tbody tr").count() == 1


def test_drill_down_shows_an_expectations_reason(page, report):
    _, base = report
    r0 = base["results"][0]
    cell(page, "asgi", r0["check"], "0.134.0").click()
    (reason,) = page.locator("#drill div.expected").all_inner_texts()
    assert reason == "expected: known <b>why</b>"
    assert page.locator("#drill b").count() == 0


def test_the_page_opens_on_the_verdict(page, report):
    _, base = report
    first = page.evaluate("document.querySelector('h1').nextElementSibling.nextElementSibling.id")
    assert first == "verdict"  # right under the title (after the noscript note)
    head = page.inner_text("#verdict-head")
    assert head == "Gate FAILED: 1 unexpected fail/error result(s) in FastAPI 0.140.0"
    (item,) = page.locator("#unexpected li").all_inner_texts()
    assert item.startswith("fail FastAPI 0.140.0 [asgi] story / ") and "/ chunk-order: Chunks differ </script>" in item
    assert page.locator("#verdict #changes li", has_text="changed in 0.140.0").count() == 1
    box = page.locator("#verdict").bounding_box()
    assert box["y"] + box["height"] < page.viewport_size["height"]  # above the fold
    assert "failed" in page.get_attribute("#verdict", "class")


@pytest.fixture(scope="module")
def releases_report(tmp_path_factory) -> Path:
    """Five releases: three identical neighbours, one regression, one identical to the regression."""
    tmp = tmp_path_factory.mktemp("collapse")
    base = load(real_run(tmp / "run"))
    for v in ("0.134.0", "0.135.0", "0.136.0"):
        save(base, tmp / "in" / v / "results.json", fastapi=v)
    for v in ("0.140.0", "0.141.0"):
        save(base, tmp / "in" / v / "results.json", fastapi=v, edit=regress("chunk-order"))
    assert main(["report", str(tmp / "in"), "--output-dir", str(tmp / "out"), "--format", "html", "--quiet"]) == 0
    return tmp / "out" / "report.html"


def _headers(pg) -> list[str]:
    return pg.eval_on_selector_all("#matrix thead th", "ths => ths.map(t => t.dataset.group || t.dataset.version "
                                                       "|| t.textContent)")


def test_identical_neighbouring_releases_share_a_column_that_expands_on_click(browser, releases_report):
    pg = browser.new_page()
    pg.goto(releases_report.as_uri())
    pg.wait_for_selector("#matrix td.cell")
    assert _headers(pg) == ["check", "engine", "0.134.0 - 0.136.0", "0.140.0 - 0.141.0"]
    assert pg.locator("#matrix thead th small").first.inner_text() == "identical (3)"
    pg.click("#matrix thead th button.group >> nth=0")
    assert _headers(pg) == ["check", "engine", "0.134.0", "0.135.0", "0.136.0", "0.140.0 - 0.141.0"]
    pg.click("#matrix thead th button.collapse")
    assert _headers(pg) == ["check", "engine", "0.134.0 - 0.136.0", "0.140.0 - 0.141.0"]
    cell(pg, "asgi", "chunk-order", "0.140.0").click()  # a shared column's cell opens its first release
    assert pg.inner_text("#drill-title") == "chunk-order [asgi] on FastAPI 0.140.0"
    assert "the same counts in FastAPI 0.140.0 - 0.141.0" in pg.inner_text("#drill-note")
    pg.close()


def test_at_a_phones_width_the_verdict_needs_no_sideways_scroll(browser, report, tmp_path):
    path, _ = report
    pg = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    pg.goto(path.as_uri())
    pg.wait_for_selector("#matrix td.cell")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself never scrolls sideways
    box = pg.locator("#verdict").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] < 200
    assert pg.evaluate("getComputedStyle(document.querySelector('#matrix').parentElement).overflowX") == "auto"
    shot = tmp_path / "phone.png"
    pg.screenshot(path=str(shot))
    assert shot.stat().st_size > 5000  # drawn, not blank
    pg.close()
