from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from harness.outcomes import RunInfo
from harness.errors import UsageError
from harness.outcomes import Outcome, Result
from harness.reports import atomic_write, json as json_report, junit, terminal


def _result(outcome: Outcome, detail: str = "") -> Result:
    return Result("s", "def-ann-str-for-plain", {"function": "def"}, "asgi", "chunk-order", "#x", outcome, detail)


NASTY = "seen: b'\\x00' \x00\x1b[31mred\x1b[0m <script>alert(1)</script> & \ud800"


def test_junit_is_valid_xml_whatever_the_detail_holds(tmp_path):
    results = [_result(o, NASTY) for o in Outcome]
    junit.write(tmp_path / "j.xml", RunInfo(["asgi"], {}), results)
    root = ET.parse(tmp_path / "j.xml").getroot()
    suite = root.find("testsuite")
    assert suite.get("failures") == "1" and suite.get("errors") == "1" and suite.get("skipped") == "2"
    text = (tmp_path / "j.xml").read_bytes()
    assert b"\x00" not in text and b"\x1b" not in text and b"<script>" not in text


def test_results_round_trip_and_malformed_files_are_named(tmp_path):
    path = tmp_path / "r.json"
    results = [_result(Outcome.PASS), _result(Outcome.FAIL, NASTY.replace("\ud800", ""))]
    json_report.write(path, RunInfo(["asgi"], {"x": 1}), results)
    _, back = json_report.load(path)
    assert back == results
    data = json.loads(path.read_text())
    data["results"][1]["outcome"] = "maybe"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=r"r.json: results\[1\]"):
        json_report.load(path)
    path.write_text("{}")
    with pytest.raises(UsageError, match="field 'format_version'"):
        json_report.load(path)


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "f"
    atomic_write(path, b"old")
    with pytest.raises(TypeError):
        atomic_write(path, 12345)  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f"]  # no temporary file left behind


def test_terminal_matrix_and_problems():
    results = [_result(Outcome.PASS), _result(Outcome.FAIL, "Chunks differ\n  expected: b'a'")]
    results[1] = Result("s", "async-ann-str-for-plain", {}, "asgi", "chunk-order", "#x", Outcome.FAIL, "Chunks differ")
    matrix = terminal.render_matrix(results)
    assert "s [asgi]" in matrix and "def-ann-str-for-plain" in matrix and " F" in matrix
    problems = terminal.render_problems(results)
    assert "FAIL s / async-ann-str-for-plain / chunk-order" in problems and "Chunks differ" in problems


def test_a_results_file_without_its_run_header_is_named(tmp_path):
    from harness.errors import UsageError
    from harness.reports import json as json_report

    path = tmp_path / "results.json"
    path.write_text('{"format_version": 1, "results": []}')
    with pytest.raises(UsageError, match="results.json: field 'run': expected an object"):
        json_report.load(path)


def test_problems_show_control_characters_from_the_app_escaped():
    from harness.outcomes import Result
    from harness.reports.terminal import render_problems

    r = Result("story", "def-ann-str-for-plain", {}, "asgi", "chunk-order", "#c", Outcome.FAIL,
               detail="the app raised RuntimeError: \x1b[2J\x07boom")
    out = render_problems([r])
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J\\x07boom" in out
