from __future__ import annotations

import pytest

from harness.checks import registry

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.needs_feature


def _scenario_dir(pytester):
    folder = pytester.mkdir("mine")
    (folder / "two.py").write_text("from harness import scenario\ntwo = scenario('two', chunks=[b'a', b'b'])\n")
    return folder


def test_items_per_variant_and_check_with_readable_ids(pytester):
    folder = _scenario_dir(pytester)
    result = pytester.runpytest("--stream-harness", f"--stream-scenarios-dir={folder}",
                                "--stream-no-builtin-scenarios", str(folder),
                                "--collect-only", "-q")
    lines = [line for line in result.outlines if "::" in line]
    assert "mine/two.py::def-ann-bytes-for-plain::chunk-order" in lines
    assert len(lines) == 56 * len(registry())  # 48 points, and 8 declared through routers


def test_k_selects_and_n_a_points_are_counted_apart_from_genuine_skips(pytester):
    folder = _scenario_dir(pytester)
    pytester.makepyfile(test_browser="""
        import pytest
        def test_needs_chromium():
            pytest.skip("no chromium on this machine")
        """)
    result = pytester.runpytest("--stream-harness", f"--stream-scenarios-dir={folder}",
                                "--stream-no-builtin-scenarios", str(folder),
                                "--stream-variant=declaration=app", "test_browser.py",
                                "-k", "def-ann and chunk-order or needs_chromium")
    outcomes = result.parseoutcomes()  # bytes: 4 pass; str: n/a (a binary scenario); one genuine skip
    assert (outcomes["passed"], outcomes["inapplicable"], outcomes["skipped"]) == (4, 4, 1), outcomes


def test_inert_without_the_switch(pytester):
    folder = _scenario_dir(pytester)
    result = pytester.runpytest(str(folder), "-p", "no:cacheprovider")
    assert result.ret == 5  # nothing collected: the plugin stays out of other projects' runs


def test_a_broken_scenario_file_is_a_failing_item(pytester):
    folder = _scenario_dir(pytester)
    (folder / "bad.py").write_text("x = 1 / 0\n")
    result = pytester.runpytest("--stream-harness", f"--stream-scenarios-dir={folder}",
                                "--stream-no-builtin-scenarios", str(folder),
                                "--stream-check=openapi", "--stream-variant=def-ann-bytes-for-plain")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*bad.py:1: the file failed to import: ZeroDivisionError*"])
