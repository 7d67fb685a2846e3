"""The gate end to end: real runs (command line, pytest plugin, pytest -n 2) judged against expectations.

A real ``fail`` without a mutant: the ``slow`` scenario's reads block 0.5 s each under a 0.2 s
deadline, so its ``def`` route cannot finish in time (``chunk-order`` fails with the deadline in
its detail). Load only makes it later, so the verdict does not depend on the machine's speed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.cli import main

from .helpers import latest_results
from harness.reports import json as json_report

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.needs_feature

SLOW = "from harness import scenario\nslow = scenario('slow', chunks=[b'a', b'b'], block_s=0.5, deadline_s=0.2, " \
       "checks=['chunk-order'])\n"
TWO = "from harness import scenario\ntwo = scenario('two', chunks=[b'a', b'b'])\n"
SLOW_FAILS = """\
[[expect]]
scenario = "slow"
variant = "def-*"
check = "chunk-order"
outcome = "fail"
reason = "its reads take longer than its deadline"
link = "https://example.invalid/slow"
"""
TWO_FAILS = """\
[[expect]]
scenario = "two"
check = "chunk-order"
outcome = "fail"
reason = "a stale entry: chunk-order passes on two"
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A scenarios folder, and the working directory with no expectations.toml unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "slow.py").write_text(SLOW)
    (tmp_path / "scenarios" / "two.py").write_text(TWO)
    return tmp_path


def _run(folder: Path, capsys, *extra: str) -> tuple[int, str]:
    rc = main(["run", "--scenarios-dir", str(folder / "scenarios"), "--no-builtin-scenarios", "--check", "chunk-order", "--no-page",
               "--variant", "def-ann-bytes-for-plain,async-ann-bytes-for-plain", "--output-dir",
               str(folder / "out"), *extra])
    return rc, capsys.readouterr().out


def test_an_unexpected_fail_fails_the_gate(folder, capsys):
    rc, out = _run(folder, capsys)
    assert rc == 1, out
    assert "FAIL slow / def-ann-bytes-for-plain / chunk-order [asgi]" in out and "0.2 s deadline" in out
    assert "gate FAILED (no expectations file): 1 unexpected, 0 known" in out


def test_an_expected_fail_passes_the_gate_and_results_carry_the_expectation(folder, capsys):
    (folder / "expectations.toml").write_text(SLOW_FAILS)  # the default file in the working directory
    rc, out = _run(folder, capsys)
    assert rc == 0, out
    assert "gate passed (expectations.toml, 1 entries): 0 unexpected, 1 known" in out
    assert "fail       chunk-order [asgi] x1  (expectations.toml:1) its reads take longer" in out
    assert "problem(s):" not in out  # a known fail is not listed as a problem
    info, results = json_report.load(latest_results(folder / "out"))
    assert info["expectations"] == "expectations.toml"
    (slow_def,) = [r for r in results if r.scenario == "slow" and r.variant.startswith("def-")]
    assert slow_def.outcome.value == "fail" and slow_def.expected == "fail"
    assert slow_def.expectation == {"reason": "its reads take longer than its deadline",
                                    "link": "https://example.invalid/slow", "intermittent": [],
                                    "source": "expectations.toml:1"}
    assert all(r.expected is None for r in results if r is not slow_def)
    # --no-expectations judges it again as unexpected
    rc, out = _run(folder, capsys, "--no-expectations")
    assert rc == 1 and "1 unexpected" in out


def test_a_stale_expectation_is_listed_and_fails_only_with_strict(folder, capsys):
    (folder / "mine.toml").write_text(SLOW_FAILS + "\n" + TWO_FAILS)
    rc, out = _run(folder, capsys, "--expectations", "mine.toml")
    assert rc == 0, out
    assert "2 stale" in out and "stale expectations: the recorded deviation is gone" in out
    assert "expected fail, got pass: chunk-order [asgi] x2  (mine.toml:9)" in out
    rc, out = _run(folder, capsys, "--expectations", "mine.toml", "--strict")
    assert rc == 1 and "gate FAILED" in out and "they fail the gate: --strict" in out


def _plugin_args(folder: Path) -> list[str]:
    return ["--stream-harness", f"--stream-scenarios-dir={folder}", "--stream-no-builtin-scenarios", str(folder),
            "--stream-no-page",
            "--stream-check=chunk-order", "--stream-variant=def-ann-bytes-for-plain,async-ann-bytes-for-plain",
            "-p", "no:cacheprovider"]


def test_in_pytest_an_expected_fail_is_xfail_and_a_stale_entry_fails_with_strict(pytester):
    folder = pytester.mkdir("mine")
    (folder / "slow.py").write_text(SLOW)
    (folder / "two.py").write_text(TWO)
    result = pytester.runpytest(*_plugin_args(folder))
    result.assert_outcomes(passed=3, failed=1)  # no expectations: the slow def route fails
    pytester.makefile(".toml", expectations=SLOW_FAILS + "\n" + TWO_FAILS)  # at the rootdir: the default
    result = pytester.runpytest(*_plugin_args(folder))
    result.assert_outcomes(passed=3, xfailed=1)
    result.stdout.fnmatch_lines(["*stream-harness gate*", "gate passed (*expectations.toml, 2 entries): "
                                 "0 unexpected, 1 known, 2 stale*", "*expected fail, got pass: chunk-order*"])
    result = pytester.runpytest(*_plugin_args(folder), "--stream-strict")
    result.assert_outcomes(passed=1, failed=2, xfailed=1)
    result.stdout.fnmatch_lines(["*stale (--stream-strict): pass, recorded fail at *expectations.toml:9*"])


def test_pytest_n_2_distributes_items_and_writes_one_merged_results_file(pytester):
    """Two xdist workers, each with its own uvicorn on its own ports: every item runs once, on both
    workers, and the controller writes one results file holding every worker's results."""
    folder = pytester.mkdir("mine")
    (folder / "two.py").write_text(TWO)
    (folder / "three.py").write_text(TWO.replace("two", "three"))
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "-n", "2", "-v", "--stream-harness", f"--stream-scenarios-dir={folder}", "--stream-no-builtin-scenarios",
        str(folder), "--stream-no-page",
        "--stream-check=chunk-order,framing", "--stream-engine=asgi,uvicorn",
        "--stream-variant=def-ann-bytes-for-plain,async-ann-bytes-for-plain", f"--stream-output-dir={out}",
        "-p", "no:cacheprovider", timeout=300)
    # 2 scenarios x 2 variants x 2 engines x 2 checks; framing is n/a in-process (skipped)
    outcomes = result.parseoutcomes()  # n/a points are counted apart from genuine skips
    assert outcomes["passed"] == 12 and outcomes["inapplicable"] == 4 and "skipped" not in outcomes
    workers = set(re.findall(r"\[(gw\d+)\]", result.stdout.str()))
    assert workers == {"gw0", "gw1"}, result.stdout.str()
    data = json.loads(latest_results(out).read_text())
    keys = [(r["scenario"], r["variant"], r["engine"], r["check"]) for r in data["results"]]
    assert len(keys) == 16 and len(set(keys)) == 16
    assert {k[2] for k in keys} == {"asgi", "uvicorn"} and data["counts"]["pass"] == 12
    assert data["counts"]["n/a"] == 4 and data["run"]["engines"] == ["asgi", "uvicorn"]


class _FlakyBuilder:
    """A route that breaks chunk order on its first ``failures`` builds, then is the stock route:
    the shape of a timing flake, made deterministic."""

    def __init__(self, failures: int) -> None:
        self.left = failures

    def __call__(self, *args, **kwargs):
        from harness.routes import build_route

        from . import mutants
        if self.left:
            self.left -= 1
            return mutants.reorders_chunks(*args, **kwargs)
        return build_route(*args, **kwargs)


@pytest.mark.parametrize("failures, flaky", [(1, True), (5, False)])
def test_retry_unexpected_lists_a_flake_and_keeps_a_steady_failure(failures, flaky):
    from harness.options import GateOptions, Selection
    from harness.reports.gate import render_gate
    from harness.session import flaky as flaky_results, open_session

    session = open_session(Selection(scenarios=["story"], checks=["chunk-order"], variants=["def-ann-str-for-plain"],
                                     include_page=False), GateOptions(no_expectations=True, retries=2))
    session.builder = _FlakyBuilder(failures)
    results, _ = session.run()
    verdict = session.verdict(results)
    (r,) = results
    if flaky:
        assert r.outcome.value == "pass" and verdict.passed
        assert [a["outcome"] for a in r.extra["retries"]] == ["fail"]
        text = render_gate(verdict, None, 0, flaky_results(results))
        assert "flaky: 1 result(s)" in text and "story / def-ann-str-for-plain / chunk-order [asgi]: fail then pass" in text
    else:
        assert r.outcome.value == "fail" and not verdict.passed and r.extra["attempts"] == 3
        assert not flaky_results(results)
