"""`stream-harness report`: merging results files across FastAPI versions, shards and engines, on
files written by a real run of the harness (and edited copies standing in for other versions)."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import UsageError
from harness.outcomes import Outcome
from harness.reports import html, markdown
from harness.reports.merge import _fallback_version_key, merge, version_key

from .report_data import NASTY, all_unsupported, first, load, real_run, regress, save


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """The results of one real run (as data, to copy and edit)."""
    return load(real_run(tmp_path_factory.mktemp("run")))


@pytest.fixture
def releases(tmp_path, base) -> Path:
    """Three 'releases' (folder names that sort wrongly as text): before the feature, the real
    run, and a release where one chunk-order result regressed to fail, on two engines."""
    root = tmp_path / "in"
    save(base, root / "0.99.0" / "results.json", fastapi="0.99.0", edit=all_unsupported)
    save(base, root / "0.134.0" / "results.json", fastapi="0.134.0")
    save(base, root / "0.140.0" / "results.json", fastapi="0.140.0", edit=regress("chunk-order"))
    save(base, root / "0.140.0-uvicorn" / "results.json", fastapi="0.140.0", engine="uvicorn")
    return root


def test_versions_are_ordered_as_versions_not_text():
    names = ["0.99.0", "not installed", "0.134.0", "0.134.1", "0.134.1rc1", "0.100.0"]
    assert sorted(names, key=version_key) == ["0.99.0", "0.100.0", "0.134.0", "0.134.1rc1", "0.134.1", "not installed"]
    # without packaging: the numeric release only (a pre-release sorts by its text after its release)
    assert sorted(names, key=_fallback_version_key) == ["0.99.0", "0.100.0", "0.134.0", "0.134.1", "0.134.1rc1",
                                                        "not installed"]


def test_merge_finds_versions_and_detects_where_each_check_changed(releases, base):
    merged = merge([releases])
    assert merged.versions == ["0.99.0", "0.134.0", "0.140.0"]
    assert merged.engines == ["asgi", "uvicorn"]
    assert len(merged.results["0.140.0"]) == 2 * len(base["results"])  # two engines, one version
    assert not merged.conflicts and merged.duplicates == 0

    cells = merged.cells()
    real = {}
    for r in base["results"]:
        real.setdefault(r["check"], []).append(Outcome(r["outcome"]))
    for check, outcomes in real.items():
        cell = cells[("0.134.0", "asgi", check)]
        assert cell.total == len(outcomes)
        assert cell.worst is max(outcomes, key=lambda o: o.severity)
        assert cells[("0.99.0", "asgi", check)].counts == {Outcome.UNSUPPORTED: len(outcomes)}

    changes = merged.changes()
    # 0.134.0: every check whose real outcomes are not all `unsupported` changed from `unsupported`
    at_feature = {c.check for c in changes if c.version == "0.134.0"}
    assert at_feature == {check for check, outs in real.items() if set(outs) != {Outcome.UNSUPPORTED}}
    assert all(c.previous == "0.99.0" and c.before is Outcome.UNSUPPORTED for c in changes if c.version == "0.134.0")
    # 0.140.0: exactly the one regressed result, on asgi (uvicorn has no earlier version to differ from)
    (late,) = [c for c in changes if c.version == "0.140.0"]
    regressed = first(base["results"], "chunk-order", ("pass", "non-strict", "n/a", "informational", "unsupported"))
    assert (late.engine, late.check, late.previous, late.after) == ("asgi", "chunk-order", "0.134.0", Outcome.FAIL)
    assert late.transitions == ((Outcome(regressed["outcome"]), Outcome.FAIL, 1),)
    assert late.describe().startswith(f"changed in 0.140.0: {cells[('0.134.0', 'asgi', 'chunk-order')].worst.value} -> fail")
    # problems: the regression, newest first, plus whatever the real run failed (in both copies of it)
    real_problems = sum(Outcome(r["outcome"]).is_problem for r in base["results"])
    assert len(merged.problems()) == 1 + 3 * real_problems
    assert merged.problems()[0][0] == "0.140.0"


def test_shards_of_one_version_merge_into_their_union(tmp_path, base):
    results = base["results"]
    half = len(results) // 2
    save(base, tmp_path / "job1" / "results.json", edit=lambda rs: rs.__delitem__(slice(half, None)))
    save(base, tmp_path / "job2" / "results.json", edit=lambda rs: rs.__delitem__(slice(0, half)))
    # a third job re-ran 10 results of the first shard with the same outcomes (details may differ)
    def overlap(rs):
        del rs[10:]
        for r in rs:
            r["detail"] += " (re-run)"
    save(base, tmp_path / "job3" / "results.json", edit=overlap)
    merged = merge([tmp_path])
    (version,) = merged.versions
    assert len(merged.runs[version]) == 3
    assert len(merged.results[version]) == len(results)
    assert merged.duplicates == 10 and merged.conflicts == []
    assert {(r["engine"], r["scenario"], r["variant"], r["check"]) for r in results} == set(merged.results[version])


def test_a_conflicting_duplicate_is_reported_and_the_worse_is_shown(tmp_path, base):
    a = save(base, tmp_path / "a" / "results.json")
    b = save(base, tmp_path / "b" / "results.json", edit=regress("openapi", "openapi differs"))
    merged = merge([tmp_path])
    (conflict,) = merged.conflicts
    assert conflict.first.check == "openapi" and conflict.second.outcome is Outcome.FAIL
    assert (conflict.first_from, conflict.second_from) == (a.resolve(), b.resolve())
    (version,) = merged.versions
    assert merged.cells()[(version, "asgi", "openapi")].worst is Outcome.FAIL
    md = markdown.render(merged, "t")
    assert "## Conflicting records (1)" in md and "**fail** in" in md

    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b"), "--output-dir", str(out)]) == 0
    root = ET.parse(out / "report.xml").getroot()
    errors = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert any("conflicting records" in c.get("name") for c in errors)


def test_report_command_writes_three_files_and_says_where(releases, tmp_path, capsys, base):
    out = tmp_path / "out"
    assert main(["report", str(releases), "--output-dir", str(out), "--title", "Nightly <matrix>"]) == 0
    printed = capsys.readouterr().out
    for name in ("report.md", "report.html", "report.xml"):
        assert str(out / name) in printed
    assert sorted(os.listdir(out)) == ["report.html", "report.md", "report.xml"]  # no temporary files left
    assert "FastAPI 0.99.0, 0.134.0, 0.140.0" in printed

    root = ET.parse(out / "report.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"fastapi-0.99.0.asgi", "fastapi-0.134.0.asgi", "fastapi-0.140.0.asgi",
                           "fastapi-0.140.0.uvicorn"}
    # small whatever the number of results: every problem in full, the rest one counted testcase per check
    checks = {r["check"] for r in base["results"]}
    for s in suites.values():
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases)
        counted = [c for c in cases if c.get("classname").endswith(".counted")]
        assert {c.get("name") for c in counted} <= checks
        listed = [c for c in cases if c not in counted]
        assert all(c.find("failure") is not None or c.find("error") is not None or
                   c.find("skipped[@type='expected']") is not None for c in listed)
        total = sum(int(p.get("value")) for c in counted for p in c.find("properties") if p.get("name") == "results")
        assert total + len(listed) == len(base["results"])  # every result is listed or counted, once
    v99 = suites["fastapi-0.99.0.asgi"]
    assert int(v99.get("tests")) == int(v99.get("skipped")) == len(checks)  # all unsupported -> counted, skipped
    (regressed,) = [c for c in suites["fastapi-0.140.0.asgi"].findall("testcase") if c.find("failure") is not None]
    assert regressed.get("name") == "chunk-order" and "second line" in regressed.find("failure").text
    props = {p.get("name"): p.get("value") for p in suites["fastapi-0.140.0.asgi"].find("properties")}
    assert props["fastapi"] == "0.140.0"

    md = (out / "report.md").read_text("utf-8")
    assert md.startswith("# Nightly &lt;matrix&gt;\n\n**Gate FAILED**: 1 unexpected fail/error result(s) in FastAPI 0.140.0;")
    assert "- **chunk\\-order** \\[asgi\\]: changed in 0.140.0" not in md  # '-' is escaped only at the start
    assert "- **chunk-order** \\[asgi\\]: changed in 0.140.0:" in md
    assert "| chunk-order | asgi | " in md

    # only the formats asked for
    only = tmp_path / "only"
    assert main(["report", str(releases), "--output-dir", str(only), "--format", "md"]) == 0
    assert os.listdir(only) == ["report.md"]


def test_markdown_escapes_details(releases):
    md = markdown.render(merge([releases]), "t")
    (row,) = [line for line in md.splitlines() if "second line" in line and line.startswith("| 0.140.0 | asgi")]
    assert "<script>" not in md and "</script>" not in md and "<img" not in md and "\x1b" not in md
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "\\`tick\\` \\*star\\* &amp; \\\\x1b[31m ⏎ second line" in row.replace("\\[", "[")
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # the detail's '|' does not split the row's 6 cells


def test_html_embeds_the_data_so_no_detail_can_end_the_script_block(releases):
    page = html.render(merge([releases]), "A <b>title</b>")
    assert page.count("</script>") == 2  # the data block and the page's script: nothing else ends one
    assert "<script>alert" not in page and "<img" not in page
    assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in page
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    assert NASTY in data["strings"]
    assert data["title"] == "A <b>title</b>"
    # no external asset: everything is inline
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["results"][3].__setitem__("outcome", "maybe"), r"results\[3\]"),
    (lambda d: d["run"]["versions"].pop("fastapi"), r"field 'run.versions.fastapi': expected the FastAPI version"),
    (lambda d: d["results"][0].__setitem__("detail", 12), r"field 'results\[0\].detail': expected a string"),
    (lambda d: d["run"].__setitem__("engines", "asgi"), r"field 'run.engines': expected a list"),
    (lambda d: d.__setitem__("format_version", 9), r"field 'format_version': expected 1"),
])
def test_a_malformed_file_is_named_with_its_field_and_exits_2(tmp_path, base, capsys, edit, message):
    data = json.loads(json.dumps(base))
    edit(data)
    bad = tmp_path / "0.1.0" / "results.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=message):
        merge([tmp_path])
    assert main(["report", str(tmp_path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(bad.resolve()) in err and re.search(message, err)
    assert not (tmp_path / "out").exists()  # nothing written from bad input


def test_bad_paths_and_formats_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.json").write_text("{not json")
    for argv, message in [
        (["report", str(tmp_path / "nope")], "no such file or folder"),
        (["report", str(tmp_path / "empty")], "no results.json found"),
        (["report", str(tmp_path / "junk.json")], "junk.json: not a readable results file"),
        (["report", str(tmp_path / "junk.json"), "--format", "md,pdf"], "--format 'md,pdf': expected"),
    ]:
        assert main(argv + ["--output-dir", str(tmp_path / "out")]) == 2
        assert message in capsys.readouterr().err


def test_report_files_get_the_usual_mode_not_mkstemps_0600(releases, tmp_path):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        assert main(["report", str(releases), "--output-dir", str(out)]) == 0
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in out.iterdir()} == {"0o644"}  # a web server can serve them


def test_shards_from_different_environments_are_flagged(tmp_path, base):
    save(base, tmp_path / "a" / "results.json")
    other = json.loads(json.dumps(base))
    other["run"]["versions"]["starlette"] = "0.0.1-other"
    save(other, tmp_path / "b" / "results.json")
    merged = merge([tmp_path])
    (version,) = merged.versions
    assert merged.mixed_packages(version) == {"starlette": [base["run"]["versions"]["starlette"], "0.0.1-other"]}
    assert "mixed starlette: " in markdown.render(merged, "t")
    assert '"mixed":{"starlette":' in html.render(merged, "t")


def test_a_change_below_the_worst_outcome_is_still_listed(tmp_path, base):
    def set_check(outcomes):
        def edit(results):
            mine = [r for r in results if r["check"] == "openapi"]
            for r, o in zip(mine, outcomes + ["pass"] * len(mine)):
                r["outcome"] = o
        return edit
    save(base, tmp_path / "1" / "results.json", fastapi="1.0.0", edit=set_check([]))
    save(base, tmp_path / "2" / "results.json", fastapi="1.1.0", edit=set_check(["n/a", "n/a"]))
    (change,) = [c for c in merge([tmp_path]).changes() if c.check == "openapi"]
    assert (change.before, change.after) == (Outcome.PASS, Outcome.PASS)
    assert change.transitions == ((Outcome.PASS, Outcome.NA, 2),)
    assert change.describe() == "changed in 1.1.0: still pass at worst (since 1.0.0; results: pass -> n/a x2)"


def test_expected_problems_are_marked_in_the_reports(tmp_path, base):
    def declared_fail(results):
        regress("openapi", "known")(results)
        r = next(r for r in results if r["detail"] == "known")
        r.update(expected="fail", expectation={"reason": "a known <deviation>", "intermittent": []})
    save(base, tmp_path / "1" / "results.json", edit=declared_fail)
    merged = merge([tmp_path])
    md = markdown.render(merged, "t")
    assert "of them expected)" in md and "❌ fail (expected: a known &lt;deviation&gt;) | known |" in md
    data = html.page_data(merged, "t")
    (row,) = [r for r in data["results"] if data["strings"][r[6]] == "known"]
    assert data["strings"][row[7]] == "a known <deviation>"
    assert all(r[7] == -1 for r in data["results"] if r is not row)


def test_gzipped_results_files_are_found_and_read_like_plain_ones(releases, tmp_path):
    """Published results are committed gzipped (reports/<version>/results.json.gz)."""
    import gzip
    import shutil

    packed = tmp_path / "packed"
    shutil.copytree(releases, packed)
    for plain in packed.rglob("results.json"):
        plain.with_suffix(".json.gz").write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
    assert merge([packed]).versions == merge([releases]).versions
    assert len(merge([packed]).results["0.140.0"]) == len(merge([releases]).results["0.140.0"])
    broken = packed / "broken" / "results.json.gz"
    broken.parent.mkdir()
    broken.write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(UsageError, match="broken/results.json.gz: not a readable results file"):
        merge([packed])
