from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main
from harness.installed import versions
from harness.reports import json as json_report

from .helpers import latest_results

pytestmark = pytest.mark.needs_feature


def test_run_writes_results_and_junit_and_exits_zero(tmp_path, capsys):
    rc = main(["run", "--scenario", "png", "--output-dir", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.out
    path = latest_results(tmp_path)
    info, results = json_report.load(path)
    assert info["versions"]["fastapi"] == versions()["fastapi"] and info["engines"] == ["asgi"]
    assert {r.scenario for r in results} == {"png"}
    assert {r.variant for r in results} >= {"def-ann-bytes-for-subclass", "page:/image/stream"}
    record = json.loads(path.read_text())["results"][0]
    assert set(record) >= {"scenario", "variant", "axes", "engine", "check", "claim", "outcome", "detail", "duration_s"}
    suite = ET.parse(path.parent / "junit.xml").getroot()
    testsuite = suite.find("testsuite")
    applies = [r for r in results if r.outcome.value != "n/a"]
    counted = {r.check for r in results if r.outcome.value == "n/a"}  # n/a: one counted testcase per check
    assert int(testsuite.get("tests")) == len(applies) + len(counted) == len(testsuite.findall("testcase"))
    assert len([c for c in testsuite.findall("testcase") if not c.get("classname").endswith(".counted")]) == len(applies)
    assert "png [asgi]" in out.out and "in " in out.out and " s" in out.out  # matrix and wall time
    assert "[  61/61] asgi png" in out.err  # progress: 56 points (48, and 8 declared through routers) and the page's 5


def test_selection_narrows_the_matrix(tmp_path, capsys):
    rc = main(["run", "--scenario", "story", "--check", "chunk-order,openapi", "--variant", "function=def",
               "--variant", "chunk=bytes", "--no-page", "--output-dir", str(tmp_path)])
    assert rc == 0
    _, results = json_report.load(latest_results(tmp_path))
    assert {r.check for r in results} == {"chunk-order", "openapi"}
    assert all(r.axes["function"] == "def" and r.axes["chunk"] == "bytes" for r in results)
    assert len(results) == 2 * (3 * 2 * 2 + 2 * 2)  # checks x (annotation x loop x response, and 2 x 2 through routers)


@pytest.mark.parametrize("args, words", [
    (["--scenario", "nope"], "unknown scenario 'nope'; scenarios are:"),
    (["--check", "nope"], "unknown check 'nope'; checks are: chunk-order"),
    (["--variant", "colour=red"], "unknown axis 'colour'"),
    (["--engine", "nope"], "unknown engine 'nope'; engines are: asgi"),
])
def test_bad_usage_exits_2_with_the_valid_names(args, words, capsys):
    assert main(["run", "--no-write", *args]) == 2
    assert words in capsys.readouterr().err


def test_a_broken_scenario_file_exits_1_and_the_others_still_run(tmp_path, capsys):
    (tmp_path / "fine.py").write_text("from harness import scenario\nfine = scenario('fine', chunks=[b'a', b'b'])\n")
    (tmp_path / "broken.py").write_text("from harness import scenario\nbroken = scenario('broken', chunks=[1])\n")
    rc = main(["run", "--scenarios-dir", str(tmp_path), "--no-builtin-scenarios", "--output-dir", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert rc == 1
    assert "broken.py:2: scenario field 'chunks'" in captured.err
    info, results = json_report.load(latest_results(tmp_path / "out"))
    assert {r.scenario for r in results} == {"fine"} and info["load_errors"]


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("story", "chunk-order", "#no-annotation", "annotation", "mismatched", "asgi"):
        assert word in out


@pytest.mark.skipif(shutil.which("stream-harness") is None and not (sys.prefix and
                    (__import__("pathlib").Path(sys.prefix) / "bin" / "stream-harness").exists()),
                    reason="console script not installed")
def test_console_script_runs(tmp_path):
    exe = shutil.which("stream-harness") or str(__import__("pathlib").Path(sys.prefix) / "bin" / "stream-harness")
    proc = subprocess.run([exe, "--scenario", "story", "--check", "content-type", "--no-write"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "story [asgi]" in proc.stdout


def test_list_prints_whole_plain_sentences_aligned_and_explains_claim_ids(capsys, monkeypatch):
    from harness.checks import registry
    from harness.claims import load_claims
    from harness.commands.list import first_paragraph

    monkeypatch.setenv("COLUMNS", "100")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "`" not in out  # plain text: no RST or Markdown code marks
    assert all(len(line) <= 100 for line in out.splitlines())
    flat = " ".join(out.split())
    for c in registry().values():  # each description whole, never cut mid-sentence
        text = first_paragraph(c.doc)
        assert text.endswith((".", ":", "!", "?", ")")) and " ".join(text.split()) in flat, c.name
    lines = out.splitlines()
    (row,) = [line for line in lines if line.startswith("  chunk-order ")]
    assert "C1" in row and "#a-streamingresponse-with-yield" in row
    for claim in load_claims():  # every id a check line shows is explained under "claims"
        assert any(line.split()[:2] == [claim.id, claim.anchor.split()[0]] for line in lines), claim.id
    scenarios = lines[1:lines.index("")]
    columns = {re.match(r"  \S+ +", line).end() for line in scenarios if not line.startswith("   ")}
    columns |= {len(line) - len(line.lstrip(" ")) for line in scenarios if line.startswith("   ")}
    assert len(columns) == 1  # every scenario's text starts in one column
