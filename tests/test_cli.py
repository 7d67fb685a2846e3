from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.cli import main
from harness.versions import versions
from harness.reports import json as json_report

pytestmark = pytest.mark.needs_feature


def test_run_writes_results_and_junit_and_exits_zero(tmp_path, capsys):
    rc = main(["run", "--scenario", "png", "--output-dir", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.out
    folder = tmp_path / versions()["fastapi"]
    info, results = json_report.load(folder / "results.json")
    assert info["versions"]["fastapi"] == versions()["fastapi"] and info["engines"] == ["asgi"]
    assert {r.scenario for r in results} == {"png"}
    assert {r.variant for r in results} >= {"def-ann-bytes-for-subclass", "page:/image/stream"}
    record = json.loads((folder / "results.json").read_text())["results"][0]
    assert set(record) >= {"scenario", "variant", "axes", "engine", "check", "claim", "outcome", "detail", "duration_s"}
    suite = ET.parse(folder / "junit.xml").getroot()
    assert int(suite.find("testsuite").get("tests")) == len(results)
    assert "png [asgi]" in out.out and "in " in out.out and " s" in out.out  # matrix and wall time
    assert "[ 149/149] asgi png" in out.err  # progress: 144 points (48 x 3 declarations) and the page's 5


def test_selection_narrows_the_matrix(tmp_path, capsys):
    rc = main(["run", "--scenario", "story", "--check", "chunk-order,openapi", "--variant", "function=def",
               "--variant", "chunk=bytes", "--no-page", "--output-dir", str(tmp_path)])
    assert rc == 0
    _, results = json_report.load(tmp_path / versions()["fastapi"] / "results.json")
    assert {r.check for r in results} == {"chunk-order", "openapi"}
    assert all(r.axes["function"] == "def" and r.axes["chunk"] == "bytes" for r in results)
    assert len(results) == 2 * 3 * 2 * 2 * 3  # checks x annotation x loop x response x declaration


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
    rc = main(["run", "--scenarios-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert rc == 1
    assert "broken.py:2: scenario field 'chunks'" in captured.err
    info, results = json_report.load(tmp_path / "out" / versions()["fastapi"] / "results.json")
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
