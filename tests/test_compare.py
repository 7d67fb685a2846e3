"""`stream-harness compare A B`: what changed between two runs, and its exit code, on files written
by a real run of the harness and edited copies of them."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.outcomes import Outcome
from harness.reports.compare import RANK, compare, load_side

from .report_data import NASTY, first, load, real_run, regress, save


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    return load(real_run(tmp_path_factory.mktemp("run")))


@pytest.fixture
def a(tmp_path, base):
    return save(base, tmp_path / "a" / "results.json", fastapi="0.134.0")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["compare", *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_the_rank_orders_every_outcome_as_documented():
    assert set(RANK) == set(Outcome)
    order = [Outcome.PASS, Outcome.INFORMATIONAL, Outcome.NON_STRICT, Outcome.UNSUPPORTED, Outcome.FAIL, Outcome.ERROR]
    assert [RANK[o] for o in order] == sorted(RANK[o] for o in order) and len({RANK[o] for o in order}) == 6
    assert RANK[Outcome.NA] == RANK[Outcome.INFORMATIONAL]


def test_the_same_run_twice_changed_nothing(tmp_path, base, a, capsys):
    b = save(base, tmp_path / "b" / "results.json", fastapi="0.135.0")
    rc, out, _ = run(capsys, a, b)
    assert rc == 0
    assert "0 outcome(s) changed" in out and out.rstrip().endswith("nothing got worse")
    n = len(base["results"])
    assert f"(FastAPI 0.134.0, {n} results)" in out and f"(FastAPI 0.135.0, {n} results)" in out


def test_a_regression_exits_1_and_is_named(tmp_path, base, a, capsys):
    b = save(base, tmp_path / "b" / "results.json", edit=regress("chunk-order"))
    r = first(base["results"], "chunk-order", ("pass", "non-strict", "n/a", "informational", "unsupported"))
    rc, out, _ = run(capsys, a, b)
    assert rc == 1
    assert f"WORSE  [asgi] story / {r['variant']} / chunk-order: {r['outcome']} -> fail" in out
    assert "1 outcome(s) changed: 1 worse, 0 better" in out and "worse: 1 result(s)" in out
    assert "\x1b" not in out  # the detail's escape sequence is shown escaped, not sent to the terminal

    rc, out, _ = run(capsys, a, b, "--format", "json")
    data = json.loads(out)
    assert rc == 1 and data["exit_code"] == 1 and data["worse"] == 1
    (change,) = data["changed"]
    assert change == {"engine": "asgi", "scenario": "story", "variant": r["variant"], "check": "chunk-order",
                      "a": r["outcome"], "b": "fail", "kind": "worse", "detail_a": r["detail"], "detail_b": NASTY,
                      "expected_b": None}
    assert data["b"]["counts"]["fail"] == data["a"]["counts"]["fail"] + 1

    rc, out, _ = run(capsys, a, b, "--format", "md")
    assert rc == 1 and "❌ 1 worse" in out
    assert "<script>" not in out and "&lt;/script&gt;&lt;script&gt;" in out


def test_a_fix_exits_0(tmp_path, base, capsys):
    broken = save(base, tmp_path / "a" / "results.json", edit=regress("openapi", "was broken"))
    fixed = save(base, tmp_path / "b" / "results.json")
    rc, out, _ = run(capsys, broken, fixed)
    assert rc == 0 and "1 outcome(s) changed: 0 worse, 1 better" in out and "BETTER" in out


@pytest.mark.parametrize("old, new, rc", [
    ("n/a", "informational", 0),  # same rank: a change, not worse
    ("pass", "informational", 1),
    ("informational", "pass", 0),
    ("pass", "non-strict", 1),
    ("non-strict", "unsupported", 1),  # the feature vanished: worse than holding only with help
    ("unsupported", "fail", 1),
    ("fail", "error", 1),
    ("error", "fail", 0),
])
def test_worse_follows_the_rank(tmp_path, base, capsys, old, new, rc):
    def set_to(outcome):
        def edit(results):
            results[0]["outcome"] = outcome
        return edit
    a = save(base, tmp_path / "a" / "results.json", edit=set_to(old))
    b = save(base, tmp_path / "b" / "results.json", edit=set_to(new))
    code, out, _ = run(capsys, a, b)
    assert code == rc, out
    assert "1 outcome(s) changed" in out and f": {old} -> {new}" in out


def test_results_in_one_run_only(tmp_path, base, a, capsys):
    def drop_first(results):
        del results[0]
    fewer = save(base, tmp_path / "fewer" / "results.json", edit=drop_first)
    rc, out, _ = run(capsys, a, fewer)  # gone from B: listed, not worse
    assert rc == 0 and "1 result(s) only in A:" in out
    assert "(1 result(s) of A are missing from B: --missing-is-worse counts them)" in out
    rc, out, _ = run(capsys, a, fewer, "--missing-is-worse")  # unless coverage is part of the gate
    assert rc == 1 and "or are missing from B" in out and "  WORSE [asgi]" in out

    rc, out, _ = run(capsys, fewer, a)  # new in B, not a problem: fine
    assert (rc == 0) == (not Outcome(base["results"][0]["outcome"]).is_problem)
    assert "1 result(s) only in B:" in out

    def new_failure(results):
        extra = dict(results[0], scenario="new-scenario", outcome="fail", detail="new and broken")
        results.append(extra)
    more = save(base, tmp_path / "more" / "results.json", edit=new_failure)
    rc, out, _ = run(capsys, a, more)
    assert rc == 1 and "WORSE [asgi] new-scenario" in out
    side_a, side_b = load_side("A", a), load_side("B", more)
    assert [r.scenario for r in compare(side_a, side_b).only_b] == ["new-scenario"]


def test_shards_on_one_side_are_merged(tmp_path, base, a, capsys):
    half = len(base["results"]) // 2
    save(base, tmp_path / "shards" / "1" / "results.json", edit=lambda rs: rs.__delitem__(slice(half, None)))
    save(base, tmp_path / "shards" / "2" / "results.json", edit=lambda rs: rs.__delitem__(slice(0, half)))
    rc, out, _ = run(capsys, a, tmp_path / "shards")
    assert rc == 0 and "0 outcome(s) changed" in out and "only in" not in out


def test_bad_input_exits_2(tmp_path, base, a, capsys):
    rc, _, err = run(capsys, a, tmp_path / "missing.json")
    assert rc == 2 and "missing.json: no such file or folder" in err
    save(base, tmp_path / "two" / "x" / "results.json", fastapi="0.134.0")
    save(base, tmp_path / "two" / "y" / "results.json", fastapi="0.135.0")
    rc, _, err = run(capsys, tmp_path / "two", a)
    assert rc == 2 and "holds results of 2 FastAPI versions (0.134.0, 0.135.0)" in err
    broken = save(base, tmp_path / "broken" / "results.json", edit=lambda rs: rs[5].__setitem__("outcome", "meh"))
    rc, _, err = run(capsys, a, broken)
    assert rc == 2 and f"{broken.resolve()}: results[5]" in err


def test_the_console_script_exits_with_the_verdict(tmp_path, base, a):
    import subprocess
    import sys

    b = save(base, tmp_path / "b" / "results.json", edit=regress("chunk-order"))
    for other, code in ((a, 0), (b, 1)):
        proc = subprocess.run([sys.executable, "-m", "harness.cli", "compare", str(a), str(other)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == code, proc.stdout + proc.stderr


def test_an_outcome_an_expectation_declared_is_shown_not_counted(tmp_path, base, a, capsys):
    """A result an expectation declared (``expected``, with its record): a known deviation."""
    def declared_fail(results):
        regress("chunk-order", "known")(results)
        r = next(r for r in results if r["outcome"] == "fail" and r["detail"] == "known")
        r.update(expected="fail", expectation={"reason": "this payload <differs>", "intermittent": []})
    b = save(base, tmp_path / "b" / "results.json", edit=declared_fail)
    rc, out, _ = run(capsys, a, b)
    assert rc == 0, out
    assert "0 worse, 0 better, 1 worse but declared by an expectation" in out
    assert "EXPECTED [asgi] story" in out and "expected: this payload <differs>" in out
    rc, out, _ = run(capsys, a, b, "--format", "md")
    assert rc == 0 and "expected: this payload &lt;differs&gt;" in out

    # the same fail without the declaration, or declaring another outcome, is a regression
    def other_declared(results):
        declared_fail(results)
        for r in results:
            if r.get("expected"):
                r["expected"] = "non-strict"
    c = save(base, tmp_path / "c" / "results.json", edit=other_declared)
    assert run(capsys, a, c)[0] == 1
