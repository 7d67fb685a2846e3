"""Outputs that never clobber: a run gets a folder of its own, ``latest`` points to the newest, a
report reads published results and a user's runs apart and rewrites the published reports only
when asked (``harness/reports/store.py``, ``stream-harness report``)."""

from __future__ import annotations

import dataclasses
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.outcomes import Outcome, Result, RunInfo
from harness.reports import json as json_report
from harness.reports.merge import find_results
from harness.reports.store import LATEST, MARKER, RUNS, latest_run, results_in, run_id, write_run

from .report_data import load, real_run, save

pytestmark = pytest.mark.needs_feature


def _info(**selection) -> RunInfo:
    info = RunInfo(engines=["asgi"], selection={"scenarios": [], "checks": [], "variants": [], **selection})
    info.versions = {**info.versions, "fastapi": "0.150.0"}
    info.started = "2025-03-04T05:06:07+00:00"
    return info


def _result(outcome: Outcome = Outcome.PASS, scenario: str = "story") -> Result:
    return Result(scenario, "async-ann-str-for-plain", {}, "asgi", "chunk-order", "#a", outcome, "detail")


def test_two_runs_never_replace_each_other_and_latest_points_to_the_newest(tmp_path):
    wide = write_run(tmp_path, _info(), [_result(scenario="story"), _result(scenario="png")])
    narrow = write_run(tmp_path, _info(scenarios=["png"]), [_result(Outcome.FAIL, scenario="png")])
    same_second = write_run(tmp_path, _info(scenarios=["png"]), [_result(scenario="png")])
    assert [p.name for p in wide] == ["results.json", "junit.xml"]
    folders = [files[0].parent for files in (wide, narrow, same_second)]
    assert [f.name for f in folders] == ["20250304T050607Z", "20250304T050607Z-png", "20250304T050607Z-png-2"]
    assert all(f.parent == tmp_path / RUNS / "0.150.0" for f in folders)
    _, first = json_report.load(wide[0])
    assert {r.scenario for r in first} == {"story", "png"}  # the wide run is still whole
    assert latest_run(tmp_path / RUNS / "0.150.0") == folders[2]
    assert os.readlink(tmp_path / RUNS / "0.150.0" / LATEST) == folders[2].name  # relative: the folder can move
    assert not [p for p in (tmp_path / RUNS / "0.150.0").iterdir() if p.name.startswith(".")]  # no half-written run
    assert (tmp_path / RUNS / MARKER).is_file()


def test_the_run_id_names_the_selection():
    assert run_id(_info()) == "20250304T050607Z"
    info = _info(scenarios=["png", "story"], checks=["chunk-order"], app="main:app")
    info.engines = ["asgi", "uvicorn"]
    assert run_id(info) == "20250304T050607Z-png-story-chunk-order-uvicorn-app"
    info = _info(variants=["def-*-subclass/../x"])
    assert "/" not in run_id(info) and "*" not in run_id(info)


def test_a_run_writes_a_new_folder_each_time(tmp_path, capsys):
    args = ["run", "--scenario", "png", "--check", "content-type", "--no-page", "--output-dir", str(tmp_path)]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args + ["--variant", "function=def"]) == 0
    second = capsys.readouterr().out
    runs = sorted(p for p in (tmp_path / RUNS).glob("*/*") if p.name != LATEST)
    assert len(runs) == 2 and all((r / "results.json").is_file() and (r / "junit.xml").is_file() for r in runs)
    assert f"wrote {runs[0] / 'results.json'}" in first or f"wrote {runs[1] / 'results.json'}" in first
    latest = latest_run(runs[0].parent)
    assert f"wrote {latest / 'results.json'}" in second
    _, results = json_report.load(latest / "results.json")
    assert {r.axes["function"] for r in results} == {"def"}


def test_a_report_keeps_published_results_and_own_runs_apart(tmp_path):
    """Walking ``reports/`` reads the published results only; naming ``reports/runs`` reads the
    latest run of each version there, never every partial run."""
    root = tmp_path / "reports"
    base = load(real_run(tmp_path / "seed"))
    save(base, root / "0.150.0" / "results.json", fastapi="0.150.0")
    info, results = json_report.load(next((tmp_path / "seed").rglob("results.json")))
    run = RunInfo(**{**info, "versions": {**info["versions"], "fastapi": "0.150.0"}})
    write_run(root, run, results)
    newest = write_run(root, dataclasses.replace(run, started="2099-01-01T00:00:00+00:00"), results[:5])
    assert find_results([root]) == [root / "0.150.0" / "results.json"]
    assert find_results([root / RUNS]) == [newest[0]]
    assert find_results([root / RUNS / "0.150.0"]) == [newest[0]]
    assert results_in(newest[0].parent) == [newest[0]]  # one run, named: read as it is


def test_report_writes_beside_not_over_the_published_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = load(real_run(tmp_path / "seed"))
    save(base, Path("reports") / "0.150.0" / "results.json", fastapi="0.150.0")
    published = {name: Path("reports", name) for name in ("report.md", "report.html")}
    for p in published.values():
        p.write_text("published\n")
    assert main(["report"]) == 0
    captured = capsys.readouterr()
    assert all(p.read_text() == "published\n" for p in published.values())
    assert sorted(os.listdir("reports/merged")) == ["report.html", "report.md", "report.xml"]
    assert "[  1/1] reading reports/0.150.0/results.json" in captured.err  # progress, on stderr
    assert "writing reports/merged/report.html" in captured.err
    assert main(["report", "--publish", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert all(p.read_text().startswith(("# FastAPI", "<!DOCTYPE")) for p in published.values())
    assert not Path("reports/report.xml").exists()  # the published set is md and html
    assert main(["report", "--publish", "--output-dir", "x"]) == 2


def test_the_merged_junit_stays_small_whatever_the_number_of_results(tmp_path):
    """40 versions of a full story run: the JUnit file holds the problems and one counted testcase
    per check and engine, so it grows with versions x checks, not with results."""
    base = load(real_run(tmp_path / "seed"))
    n_results = len(base["results"])
    for minor in range(40):
        save(base, tmp_path / "in" / str(minor) / "results.json", fastapi=f"0.{100 + minor}.0")
    assert main(["report", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"), "--format", "junit",
                 "--quiet"]) == 0
    xml = tmp_path / "out" / "report.xml"
    cases = list(ET.parse(xml).getroot().iter("testcase"))
    checks = {r["check"] for r in base["results"]}
    problems = sum(r["outcome"] in ("fail", "error") for r in base["results"])
    assert len(cases) <= 40 * (len(checks) + problems)
    assert 40 * n_results > 10 * len(cases)
    assert xml.stat().st_size < 40 * (20_000 + 3_000 * problems)
