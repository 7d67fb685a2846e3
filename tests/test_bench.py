"""The benchmark report and regression check, on a small real benchmark run generated here.

A few apps of the per-chunk workload are run through pytest-benchmark in a subprocess (seconds, not
the suite: ``tox -e bench`` runs that), then ``bench-report`` and ``bench-check`` read its JSON.
"""

from __future__ import annotations

import json
import subprocess
import time
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.bench.apps import build_app
from harness.bench.drive import FirstByte, InProcess
from harness.bench.sources import FileChunks, MemoryChunks, SlowChunks, WholeFile, write_payload_file
from harness.cli import main
from harness.installed import versions

pytestmark = pytest.mark.needs_feature
ROOT = Path(__file__).resolve().parent.parent
KEYS = ("raw", "starlette", "async-noann-bytes-for-plain", "def-noann-bytes-for-plain")


@pytest.fixture(scope="module")
def run_json(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench") / "run.json"
    select = " or ".join(f"[{k}]" for k in KEYS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_overhead.py", "-p", "no:cacheprovider", "-o", "addopts=",
         "-q", "-k", select, "--benchmark-min-rounds=3", "--benchmark-max-time=0.05", f"--benchmark-json={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def _edit(src: Path, dst: Path, edit) -> Path:
    data = json.loads(src.read_text())
    edit(data)
    dst.write_text(json.dumps(data))
    return dst


def _bench(data: dict, key: str) -> dict:
    return next(b for b in data["benchmarks"] if b["extra_info"]["key"] == key)


def test_run_json_records_what_the_report_needs(run_json):
    data = json.loads(run_json.read_text())
    assert data["stream_harness"]["versions"]["fastapi"] == versions()["fastapi"]
    assert {b["extra_info"]["key"] for b in data["benchmarks"]} == set(KEYS)
    for b in data["benchmarks"]:
        assert b["extra_info"]["workload"] == "chunk-overhead" and b["extra_info"]["chunks"] == 1000
        assert b["stats"]["rounds"] >= 3
        assert 0 < b["extra_info"]["raw_min_s"] < b["stats"]["min"] * 20  # raw timed beside the app


def test_bench_report_writes_markdown_and_readable_svg(run_json, tmp_path, capsys):
    assert main(["bench-report", str(run_json), "--output-dir", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text()
    assert "](chunk-overhead-asgi.svg)" in md and "## Stability" in md
    for key in KEYS:
        assert f"| `{key}`" in md
    assert "| `raw`, raw ASGI app sending the chunks: the limit | **1.00x**" in md
    svg = ET.parse(tmp_path / "chunk-overhead-asgi.svg").getroot()
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert any("lower is better" in (t or "") for t in texts)
    assert f"FastAPI {versions()['fastapi']}" in texts  # the legend
    assert set(KEYS) <= set(texts)  # every app is labelled on the plot
    assert len([r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.find("{*}title") is not None]) == 4


def test_two_versions_are_compared_side_by_side(run_json, tmp_path):
    # an older version than any installed one (CI also runs this under FastAPI 0.134.0 and 0.133.1)
    other = _edit(run_json, tmp_path / "old.json", lambda d: d["stream_harness"]["versions"].update(fastapi="0.99.0"))
    assert main(["bench-report", str(run_json), str(other), "--output-dir", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"| app | FastAPI 0.99.0 | FastAPI {versions()['fastapi']} |" in md


def test_report_escapes_names_from_the_json(run_json, tmp_path):
    hostile = _edit(run_json, tmp_path / "hostile.json",
                    lambda d: _bench(d, "starlette")["extra_info"].update(key="<b>&x|y</b>"))
    assert main(["bench-report", str(hostile), "--output-dir", str(tmp_path / "out")]) == 0
    svg_text = (tmp_path / "out" / "chunk-overhead-asgi.svg").read_text()
    assert "<b>" not in svg_text and "&lt;b&gt;&amp;x|y&lt;/b&gt;" in svg_text
    ET.parse(tmp_path / "out" / "chunk-overhead-asgi.svg")  # still well-formed
    assert "`<b>&x\\|y</b>`" in (tmp_path / "out" / "report.md").read_text()  # a code span shows HTML as text


def test_bench_check_passes_a_run_against_itself(run_json, capsys):
    assert main(["bench-check", str(run_json), "--baseline", str(run_json)]) == 0
    assert "no regression: 3 apps within their thresholds" in capsys.readouterr().out


def test_bench_check_fails_a_slower_variant_by_ratio_not_time(run_json, tmp_path, capsys):
    def slower(d):  # the def variant takes 1.6x as long; everything else, raw included, unchanged
        for stat in ("min", "max", "mean", "median", "q1", "q3"):
            _bench(d, "def-noann-bytes-for-plain")["stats"][stat] *= 1.6
    regressed = _edit(run_json, tmp_path / "slow.json", slower)
    assert main(["bench-check", str(regressed), "--baseline", str(run_json)]) == 1
    out = capsys.readouterr().out
    regressed_lines = [line.split() for line in out.splitlines() if line.strip().startswith("REGRESSED")]
    assert [line[1:4] for line in regressed_lines] == [["chunk-overhead", "[asgi]", "def-noann-bytes-for-plain"]]
    assert "1 of 3 apps regressed past their threshold" in out

    def machine_twice_as_slow(d):  # every app and every raw timing: the ratios do not move
        for b in d["benchmarks"]:
            for stat in ("min", "max", "mean", "median", "q1", "q3"):
                b["stats"][stat] *= 2.0
            b["extra_info"]["raw_min_s"] *= 2.0
    slower_machine = _edit(run_json, tmp_path / "machine.json", machine_twice_as_slow)
    assert main(["bench-check", str(slower_machine), "--baseline", str(run_json)]) == 0
    # an explicit threshold above the change passes the slower variant
    assert main(["bench-check", str(regressed), "--baseline", str(run_json), "--threshold", "1.7"]) == 0


def test_bench_check_takes_the_best_of_several_runs(run_json, tmp_path, capsys):
    """Disturbed runs beside an undisturbed one raise no alarm; when every run is slower, it does."""
    def slower(d):
        for stat in ("min", "max", "mean", "median", "q1", "q3"):
            _bench(d, "def-noann-bytes-for-plain")["stats"][stat] *= 2.0
    disturbed = _edit(run_json, tmp_path / "disturbed.json", slower)
    assert main(["bench-check", str(disturbed), str(run_json), str(disturbed), "--baseline", str(run_json)]) == 0
    assert main(["bench-check", str(disturbed), str(disturbed), "--baseline", str(run_json),
                 "--baseline", str(disturbed)]) == 1
    assert "REGRESSED" in capsys.readouterr().out


def _as_red_run(d: dict, slowest: float) -> None:
    """The chunk-overhead run relabelled as the red-run workload, its slowest app at ``slowest`` x raw."""
    raw = _bench(d, "raw")
    for b in d["benchmarks"]:
        b["extra_info"]["workload"] = "red-run"
        b["extra_info"]["raw_min_s"] = raw["stats"]["min"]
        if b is not raw:
            for stat in ("min", "max", "mean", "median", "q1", "q3"):
                b["stats"][stat] = raw["stats"][stat] * (slowest if b["extra_info"]["key"] == KEYS[-1] else 1.1)


def test_bench_check_flags_a_red_run_over_its_ceiling_whatever_the_baseline(run_json, tmp_path, capsys):
    """Issue 14's goal is absolute: a red run over 1.5x green fails even against a baseline as slow."""
    slow_red = _edit(run_json, tmp_path / "slow-red.json", lambda d: _as_red_run(d, 1.8))
    assert main(["bench-check", str(slow_red), "--baseline", str(slow_red)]) == 1
    out = capsys.readouterr().out
    over = [line.split() for line in out.splitlines() if line.strip().startswith("OVER")]
    assert [line[1:5] for line in over] == [["red-run", "[asgi]", KEYS[-1], "1.80x"]]
    assert "1 app(s) over their workload's ceiling" in out
    fast_red = _edit(run_json, tmp_path / "fast-red.json", lambda d: _as_red_run(d, 1.3))
    assert main(["bench-check", str(fast_red), "--baseline", str(fast_red)]) == 0
    assert "OVER" not in capsys.readouterr().out


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("stream_harness"), "field 'stream_harness': expected dict, got missing"),
    (lambda d: d["benchmarks"][1]["stats"].update(median="fast"), "field benchmarks[1].stats.'median'"),
])
def test_bad_json_names_the_file_and_field(run_json, tmp_path, capsys, edit, message):
    bad = _edit(run_json, tmp_path / "bad.json", edit)
    assert main(["bench-report", str(bad), "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and message in err


def test_bench_check_usage_errors(run_json, tmp_path, capsys):
    assert main(["bench-check", str(tmp_path / "none.json"), "--baseline", str(run_json)]) == 2
    assert "none.json: cannot read" in capsys.readouterr().err
    assert main(["bench-check", str(run_json), "--baseline", str(run_json), "--threshold", "0.9"]) == 2


def test_sources_stream_the_same_bytes_through_every_form(tmp_path):
    path = write_payload_file(tmp_path / "p.bin", 200_000)
    driver = InProcess()
    try:
        raw = driver.request(build_app("raw", FileChunks(str(path))), checked=True)
        assert raw.bytes == 200_000 and raw.chunks == 4
        for key in ("def-noann-str-yieldfrom-plain", "async-ann-str-for-subclass", "starlette"):
            driver.request(build_app(key, FileChunks(str(path))), checked=True).expect(key, 200_000, 4, raw.crc)
        whole = driver.request(build_app("def-noann-bytes-for-plain", WholeFile(str(path))), checked=True)
        whole.expect("whole", 200_000, 1, raw.crc)
        mem = driver.request(build_app("async-misann-str-for-plain", MemoryChunks()))
        mem.expect("memory", 16_000, 1000)
    finally:
        driver.close()


def test_first_byte_arrives_before_a_slow_producer_ends():
    """The in-process TTFB driver sees the first chunk, not the end: 1 of 20 chunks of 10 ms each."""
    driver, app = FirstByte(), build_app("def-noann-bytes-for-plain", SlowChunks(count=20, delay_s=0.01))
    try:
        got, future = driver.first_byte(app)
        assert got.bytes == 16 and not got.ended  # the other 19 chunks (190 ms of producing) are still to come
        driver.finish(future)
        got.expect("slow", 320, 20)
    finally:
        driver.close()


def test_first_byte_of_a_buffering_app_waits_for_the_whole_stream():
    """The negative control of the TTFB workload: an app that collects the chunks before sending sees
    its first byte only after every chunk was produced, so the measurement can tell the two apart."""
    source = SlowChunks(count=20, delay_s=0.01)

    async def buffering(scope, receive, send):
        with source("bytes") as chunks:
            body = b"".join(chunks)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    driver = FirstByte()
    try:
        t0 = time.perf_counter()
        got, future = driver.first_byte(buffering)
        elapsed = time.perf_counter() - t0
        driver.finish(future)
        assert got.bytes == 320 and got.ended and elapsed >= 20 * 0.01
    finally:
        driver.close()
