"""The session: one chain from selection to files, whatever the front end.

Each test here failed before the session owned the run: a retry through the app ran bare, the
pytest plugin wrote another header and no bare twins, an ``n/a`` bare vs ``fail`` through the app
went unattributed, and every normal request fetched ``/openapi.json`` whether a check read it or not.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.options import GateOptions, Selection
from harness.outcomes import BARE, Outcome, Result
from harness.scenarios import builtin_dir
from harness.session import open_session

from .helpers import latest_results

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.needs_feature
pytest_plugins = ["pytester"]


def _run_cli(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "cli"
    assert main(["run", "--output-dir", str(out), "--no-expectations", *args]) in (0, 1)
    return json.loads(latest_results(out).read_text())


def test_a_retry_through_the_app_runs_through_the_app_and_is_marked(tmp_path, monkeypatch):
    """A buffering stack fails incremental-delivery every time: the retry must measure it through
    the app again (it passed bare before, and was then reported as a flake of the app's)."""
    monkeypatch.syspath_prepend(str(ROOT))
    data = _run_cli(tmp_path, "--app", "examples.apps.buffering:app", "--scenario", "story",
                    "--check", "incremental-delivery", "--variant", "def-noann-bytes-for-plain",
                    "--no-page", "--retry-unexpected", "1")
    (through,) = [r for r in data["results"] if r["app"] != BARE]
    (bare,) = [r for r in data["results"] if r["app"] == BARE]
    assert through["outcome"] == "fail" and bare["outcome"] == "pass"
    assert through["extra"]["attempts"] == 2 and "retries" not in through["extra"]
    assert through["extra"]["attributed_to"] == "app"
    assert "retries" not in bare["extra"] and "attempts" not in bare["extra"]  # nothing to retry bare


_TIME = re.compile(r"\d+(?:\.\d+)? ?(?:ms|µs|s)\b")


def _comparable(data: dict) -> dict:
    """A results file without what differs from run to run: times (fields, and figures in details)."""
    run = {k: v for k, v in data["run"].items() if k not in ("started", "wall_time_s", "engine_times", "timing")}
    results = []
    for r in data["results"]:
        extra = {k: v for k, v in r["extra"].items() if k != "request_s"}
        results.append({**r, "duration_s": 0, "extra": extra, "detail": _TIME.sub("<time>", r["detail"])})
    return {**data, "run": run, "results": results}


@pytest.mark.parametrize("app", [None, "examples.apps.clean:app"])
def test_the_command_and_the_pytest_plugin_write_the_same_results_and_header(tmp_path, pytester, monkeypatch, app):
    selection = ["--scenario", "png", "--check", "chunk-order,content-type,openapi,closure-on-disconnect",
                 "--variant", "def-ann-*"]
    extra = ["--app", app, "--app-dir", str(ROOT)] if app else []
    monkeypatch.chdir(pytester.path)  # the same root for both: no expectations.toml there
    cli = _run_cli(tmp_path, *selection, *extra)
    plugin_args = [a.replace("--", "--stream-", 1) if a.startswith("--") else a for a in selection + extra]
    result = pytester.runpytest("-p", "no:cacheprovider", "--stream-harness", "--stream-no-expectations",
                                *plugin_args, "--stream-output-dir", str(tmp_path / "plugin"),
                                str(builtin_dir() / "png.py"))  # installed or in this checkout
    assert result.ret in (0, 1), result.stdout.str()
    plugin = json.loads(latest_results(tmp_path / "plugin").read_text())
    assert plugin["run"]["selection"]["scenarios_dirs"] == cli["run"]["selection"]["scenarios_dirs"] == []
    assert _comparable(plugin) == _comparable(cli)
    assert {r["app"] for r in cli["results"]} == ({app, BARE} if app else {BARE})


def test_n_a_bare_and_fail_through_the_app_is_attributed_and_summed_up():
    from harness.app.attribute import APP, APP_HELPS, attribute, summary_lines
    from harness.outcomes import RunInfo
    from harness.reports.terminal import render_attribution

    def result(app: str, outcome: Outcome, detail: str = "") -> Result:
        return Result("story", "async-noann-bytes-for-plain", {}, "asgi", "generator-stops-on-disconnect", "#x",
                      outcome, detail, app=app)

    bare = result(BARE, Outcome.NA, "only 3 chunks were left when the client went away")
    through = result("team:app", Outcome.FAIL, "kept producing")
    got = attribute([through, bare], "0.165.0", "Logger (BaseHTTPMiddleware)")
    assert got[0].extra["attributed_to"] == APP and got[0].extra["bare_outcome"] == "n/a"
    assert "does not apply on bare FastAPI 0.165.0, fails through your app: the difference is in your stack" \
        in got[0].detail and "bare: only 3 chunks were left" in got[0].detail
    lines = summary_lines(got, "0.165.0")
    assert lines and "generator-stops-on-disconnect [asgi]" in lines[0] and "your stack" in lines[0]
    info = RunInfo(["asgi"], {}, app={"text": "team:app", "kind": "FastAPI", "middleware": ["Logger"]})
    assert "same outcome" not in render_attribution(info, got)
    helped = attribute([result("team:app", Outcome.PASS), result(BARE, Outcome.NA)], "0.165.0", "x")
    assert helped[0].extra["attributed_to"] == APP_HELPS  # any difference is said, whichever way


def _counting(builder):
    """A builder whose apps count the paths requested of them (the route and its side requests)."""
    seen: list[str] = []

    def build(scenario, variant, open_source):
        route = builder(scenario, variant, open_source)
        inner = route.app

        async def app(scope, receive, send):
            if scope["type"] == "http":
                seen.append(scope["path"])
            await inner(scope, receive, send)
        return dataclasses.replace(route, app=app)
    return build, seen


@pytest.mark.parametrize("checks, fetched", [(["chunk-order"], False), (["chunk-order", "openapi"], True)])
def test_side_requests_are_made_only_for_the_checks_that_read_them(checks, fetched):
    from harness.routes import build_route

    session = open_session(Selection(scenarios=["story"], checks=checks, variants=["def-ann-str-for-plain"],
                                     include_page=False), GateOptions(no_expectations=True))
    session.builder, seen = _counting(build_route)
    results, _ = session.run()
    assert {r.outcome for r in results} == {Outcome.PASS}
    assert ("/openapi.json" in seen) is fetched and "/stream" in seen


def test_request_kinds_are_a_closed_table():
    from harness.checks import check
    from harness.modes import KINDS, Kind, Mode

    assert set(KINDS) == set(Kind)
    with pytest.raises(ValueError, match="unknown request kind 'disconect'; kinds are: normal, disconnect"):
        check("misspelt", claim="#x", kind="disconect")
    with pytest.raises(ValueError, match="unknown side request 'docs'"):
        check("misspelt", claim="#x", side_requests=("docs",))
    assert Mode(Kind.DISCONNECT, "receive").key == "disconnect-2-receive" and Mode().key == "normal"


def test_a_stack_that_differs_by_engine_says_what_each_engine_saw():
    from harness.app.attribute import across_engines

    def result(engine: str, outcome: Outcome, detail: str, who: str | None) -> Result:
        extra = {"attributed_to": who} if who else {}
        return Result("story", "def-ann-bytes-for-plain", {}, engine, "closure-on-disconnect", "#x", outcome, detail,
                      extra=extra, app="team:app")

    got = across_engines([result("asgi", Outcome.FAIL, "never closed", "app"),
                          result("uvicorn", Outcome.NA, "the whole body arrived before the cut", None),
                          dataclasses.replace(result("asgi", Outcome.FAIL, "x", "app"), app=BARE)])
    assert "asgi: fail (never closed); uvicorn: n/a (the whole body arrived before the cut)" in got[0].detail
    assert got[1].detail.count("differs by engine") == 1 and "differs by engine" not in got[2].detail
    assert across_engines(got) == got  # said once, however often the results pass through
