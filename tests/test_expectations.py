"""Expectations: loading (every mistake named with file and line), matching, and classifying."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest

from harness import expectations as expect
from harness.expectations import ExpectationError, Status
from harness.outcomes import Outcome, Result
from harness.reports import json as json_report

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
# a comment
[[expect]]
fastapi = ">=0.134,<0.140"
engine = "uvicorn*"
check = "closure-on-shutdown"
outcome = "non-strict"
reason = "closed only by a GC"
link = "https://example.invalid/1"

[[expect]]
variant = "def-*"
check = "chunk-order"
outcome = "fail"
intermittent = ["pass"]
reason = "def variants break here"
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expectations.toml"
    path.write_text(textwrap.dedent(text))
    return path


def _result(outcome: Outcome, *, engine="asgi", check="chunk-order", variant="def-ann-bytes-for-plain",
            scenario="story") -> Result:
    return Result(scenario, variant, {}, engine, check, "#x", outcome, "detail")


def test_a_good_file_loads_with_defaults_and_sources(tmp_path):
    path = _file(tmp_path, GOOD)
    first, second = expect.load(path)
    assert first.engine == "uvicorn*" and first.outcome is Outcome.NON_STRICT and first.source == f"{path}:2"
    assert second.engine == "*" and second.scenario == "*" and str(second.fastapi) == ""
    assert second.intermittent == (Outcome.PASS,) and second.source == f"{path}:10"


FIRST = '[[expect]]\ncheck = "openapi"\noutcome = "fail"\nreason = "fine"\n\n[[expect]]\n'  # 2nd entry: line 6


@pytest.mark.parametrize("entry, line, words", [
    ('check = "chunk-order"\noutcome = "fail"\nreason = "r"\ncolour = "red"\n', 10, "key 'colour': unknown key"),
    ('check = "chunk-order"\noutcome = "failed"\nreason = "r"\n', 8,
     "key 'outcome': expected one of pass, fail, non-strict, error, got 'failed'"),
    ('check = "chunk-order"\noutcome = "n/a"\nreason = "r"\n', 8, "that outcome is never judged"),
    ('fastapi = "0.134+"\ncheck = "chunk-order"\noutcome = "fail"\nreason = "r"\n', 7,
     "key 'fastapi': expected a version specifier such as '>=0.134,<0.140', got '0.134+'"),
    ('check = "chunk-ordre"\noutcome = "fail"\nreason = "r"\n', 7,
     "key 'check': 'chunk-ordre' matches no known name; checks are: "),
    ('engine = "unicorn"\ncheck = "chunk-order"\noutcome = "fail"\nreason = "r"\n', 7,
     "key 'engine': 'unicorn' matches no known name; engines are: asgi"),
    ('check = "chunk-order"\noutcome = "fail"\n', 6, "expectation 2: missing key 'reason'"),
    ('check = "chunk-order"\noutcome = "fail"\nreason = "  "\n', 9, "expected a non-empty reason"),
    ('check = "chunk-order"\noutcome = "fail"\nreason = "r"\nintermittent = "pass"\n', 10,
     "key 'intermittent': expected a list of outcomes"),
    ('check = ["chunk-order"]\noutcome = "fail"\nreason = "r"\n', 7, "key 'check': expected a string, got list"),
])
def test_a_malformed_entry_is_named_with_file_line_and_key(tmp_path, entry, line, words):
    path = tmp_path / "expectations.toml"
    path.write_text(FIRST + entry)
    with pytest.raises(ExpectationError) as info:
        expect.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: expectation 2"), message
    assert words in message, message


def test_invalid_toml_and_unknown_top_level_keys_name_the_line(tmp_path):
    path = _file(tmp_path, '[[expect]]\ncheck = "chunk-order"\noutcome = fail\n')
    with pytest.raises(ExpectationError, match=rf"{path}:3: not valid TOML"):
        expect.load(path)
    path = _file(tmp_path, '# x\nversion = 1\n')
    with pytest.raises(ExpectationError, match=rf"{path}:2: unknown top-level key 'version'"):
        expect.load(path)


def test_the_cli_exits_2_on_a_malformed_file_before_running_anything(tmp_path, capsys):
    from harness.cli import main

    path = _file(tmp_path, '[[expect]]\ncheck = "chunk-order"\noutcome = "fial"\nreason = "r"\n')
    assert main(["run", "--expectations", str(path), "--no-write"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: expectation 1, key 'outcome': expected one of" in err
    assert main(["run", "--expectations", str(tmp_path / "missing.toml"), "--no-write"]) == 2
    assert "missing.toml: no such expectations file" in capsys.readouterr().err


@pytest.mark.parametrize("version, matched", [
    ("0.133.1", False), ("0.134.0", True), ("0.139.2", True), ("0.140.0", False), ("0.165.0", False),
    ("0.135.0rc1", True),  # a pre-release inside the range matches (a checkout is judged like its line)
    ("not installed", False),
])
def test_version_ranges(tmp_path, version, matched):
    entries = expect.load(_file(tmp_path, GOOD))
    (r,) = expect.annotate([_result(Outcome.NON_STRICT, engine="uvicorn-httptools", check="closure-on-shutdown")],
                           entries, version)
    assert (r.expected == "non-strict") is matched
    assert (r.expectation or {}).get("reason", "") == ("closed only by a GC" if matched else "")


def test_the_last_matching_entry_wins(tmp_path):
    entries = expect.load(_file(tmp_path, GOOD + '\n[[expect]]\nvariant = "def-ann-*"\ncheck = "chunk-order"\n'
                                        'outcome = "error"\nreason = "narrower"\n'))
    wide, narrow = expect.annotate([_result(Outcome.FAIL, variant="def-noann-bytes-for-plain"),
                                    _result(Outcome.FAIL, variant="def-ann-bytes-for-plain")], entries, "0.165.0")
    assert (wide.expected, narrow.expected) == ("fail", "error")
    assert narrow.expectation["reason"] == "narrower" and narrow.expectation["source"].endswith(":17")


@pytest.mark.parametrize("outcome, expected, intermittent, status", [
    (Outcome.PASS, None, [], Status.OK),
    (Outcome.FAIL, None, [], Status.UNEXPECTED),
    (Outcome.ERROR, None, [], Status.UNEXPECTED),
    (Outcome.NON_STRICT, None, [], Status.UNRECORDED),
    (Outcome.FAIL, "fail", [], Status.KNOWN),
    (Outcome.NON_STRICT, "non-strict", [], Status.KNOWN),
    (Outcome.ERROR, "fail", [], Status.UNEXPECTED),       # expected fail, got error: worse, fails the gate
    (Outcome.FAIL, "non-strict", [], Status.UNEXPECTED),  # a recorded non-strict that now fails
    (Outcome.PASS, "fail", [], Status.STALE),
    (Outcome.NON_STRICT, "fail", [], Status.STALE),
    (Outcome.PASS, "non-strict", [], Status.STALE),
    (Outcome.NON_STRICT, "pass", [], Status.UNRECORDED),  # worse than recorded, but non-strict never fails alone
    (Outcome.PASS, "fail", ["pass"], Status.OK),          # a known intermittent
    (Outcome.NA, "fail", [], Status.OK),                  # points that do not exist are never judged
    (Outcome.UNSUPPORTED, "fail", [], Status.OK),
    (Outcome.INFORMATIONAL, "pass", [], Status.OK),
])
def test_classify(outcome, expected, intermittent, status):
    r = Result("s", "v", {}, "asgi", "chunk-order", "#x", outcome, "", expected=expected,
               expectation={"reason": "r", "link": "", "intermittent": intermittent, "source": "f:1"} if expected
               else None)
    assert expect.classify(r) is status


def test_the_gate_fails_only_on_unexpected_and_with_strict_on_stale_and_unrecorded():
    def results(*pairs):
        return [Result("s", "v", {}, "asgi", "c", "#x", o, "", expected=e,
                       expectation={"intermittent": []} if e else None) for o, e in pairs]

    assert expect.gate(results((Outcome.FAIL, "fail"), (Outcome.NON_STRICT, "non-strict"))).passed
    assert expect.gate(results((Outcome.FAIL, "fail"), (Outcome.NON_STRICT, "non-strict")), strict=True).passed
    assert not expect.gate(results((Outcome.FAIL, None))).passed
    stale = results((Outcome.PASS, "fail"))
    assert expect.gate(stale).passed and not expect.gate(stale, strict=True).passed
    unrecorded = results((Outcome.NON_STRICT, None))
    assert expect.gate(unrecorded).passed and not expect.gate(unrecorded, strict=True).passed


def test_results_files_without_the_expectation_fields_still_load(tmp_path):
    """A results.json written before expectations existed (format_version 1, no `expected`) loads."""
    old = {"format_version": 1, "run": {"engines": ["asgi"]}, "counts": {},
           "results": [{"scenario": "s", "variant": "v", "axes": {}, "engine": "asgi", "check": "chunk-order",
                        "claim": "#x", "outcome": "fail", "detail": "d", "duration_s": 0.1, "extra": {}}]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(old))
    _, (r,) = json_report.load(path)
    assert r.expected is None and r.expectation is None and expect.classify(r) is Status.UNEXPECTED


def test_the_shipped_expectations_file_loads():
    from harness.checks import registry

    entries = expect.load(REPO / "expectations.toml")
    assert {e.check for e in entries} <= set(registry()) and len(entries) >= 5
    assert all(e.reason and e.link for e in entries)
    assert all(str(e.fastapi) for e in entries)  # every deviation says which releases it was seen on


def test_junit_writes_a_recorded_fail_as_skipped_with_its_reason(tmp_path):
    import xml.etree.ElementTree as ET

    from harness.outcomes import RunInfo
    from harness.reports import junit

    known = Result("story", "v", {}, "asgi", "chunk-order", "#x", Outcome.FAIL, "d", expected="fail",
                   expectation={"reason": "granian kills the worker", "intermittent": []})
    junit.write(tmp_path / "j.xml", RunInfo(["asgi"], {}), [known, _result(Outcome.FAIL)])
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert suite.find("testcase/skipped").get("message") == "expected fail: granian kills the worker"


def test_a_scenario_declaration_counts_unless_a_file_entry_matches(tmp_path):
    """A scenario's own ``expect`` is the same record as a file entry; the session judges by both,
    the file's entries last, so a file entry wins."""
    from harness.scenarios import expect as declare, scenario

    sc = scenario("declares", chunks=[b"a"], expect=[declare("framing", "fail", reason="payload merges")])
    (own,) = sc.expectations
    assert isinstance(own, expect.Expectation) and own.scenario == "declares" and "test_expectations.py:" in own.source
    declared = Result("declares", "def-ann-bytes-for-plain", {}, "granian", "framing", "#x", Outcome.FAIL, "d")
    (r,) = expect.annotate([declared], [own], "0.165.0")
    assert r.expected == "fail" and r.expectation["reason"] == "payload merges" and expect.classify(r) is Status.KNOWN
    entries = expect.load(_file(tmp_path, '[[expect]]\ncheck = "framing"\noutcome = "pass"\nreason = "file wins"\n'))
    (r,) = expect.annotate([declared], [own] + entries, "0.165.0")
    assert r.expected == "pass" and expect.classify(r) is Status.UNEXPECTED
    (other,) = expect.annotate([dataclasses.replace(declared, scenario="story")], [own], "0.165.0")
    assert other.expected is None  # scoped to the scenario that declares it


def test_one_judge_for_the_gate_the_reports_and_junit():
    """An expected ``fail`` with ``error`` recorded as intermittent, coming out ``error``: known for
    the gate, for every report (their reason) and for JUnit alike."""
    from harness.reports.junit import _known

    known = Result("story", "v", {}, "granian", "closure-on-shutdown", "#x", Outcome.ERROR, "d", expected="fail",
                   expectation={"reason": "granian kills the worker", "intermittent": ["error"], "source": "e.toml:3"})
    assert expect.classify(known) is Status.KNOWN and expect.gate([known]).passed
    assert expect.known_reason(known) == "granian kills the worker" and _known(known)
    assert expect.known_reason(_result(Outcome.FAIL)) is None
