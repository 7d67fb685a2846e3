"""The terminal report reads as a person needs it: no all-n/a rows or columns unless asked, headers
that are letters (never digits), a wrapped legend, details without repeats, and a broken scenario
file's error beside the gate's verdict."""

from __future__ import annotations

import re

import pytest

from harness.cli import main
from harness.expectations import gate
from harness.outcomes import Outcome, Result
from harness.reports.gate import render_gate
from harness.reports.terminal import column_keys, elide_runs, render_matrix, render_problems, wrap_legend
from harness.scenarios import LoadError


def _r(variant: str, check: str, outcome: Outcome, scenario: str = "s", detail: str = "") -> Result:
    return Result(scenario, variant, {}, "asgi", check, "#a", outcome, detail)


CHECKS = [f"check-number-{i}" for i in range(18)]


def _matrix() -> list[Result]:
    results = []
    for v in ("v-live", "v-dead"):
        for i, c in enumerate(CHECKS):
            live = v == "v-live" and i < 12  # columns 12..17 all n/a, row v-dead all n/a
            results.append(_r(v, c, Outcome.PASS if live else Outcome.NA))
    return results


def test_rows_and_columns_that_are_all_na_are_hidden_by_default_and_shown_on_request():
    text = render_matrix(_matrix())
    assert "v-dead" not in text and "v-live" in text
    (header,) = [line for line in text.splitlines() if line.startswith("s [asgi]")]
    assert header.split()[2:] == list(column_keys(CHECKS).values())[:12]
    assert "not shown: 24 n/a result(s) (1 row(s) and the columns that are all n/a in their scenario; " \
           "--show-all shows them)" in text
    assert "check-number-12" not in text  # a check shown nowhere is not in the legend either
    full = render_matrix(_matrix(), show_all=True)
    assert "v-dead" in full and "check-number-17" in full and "not shown" not in full
    (header,) = [line for line in full.splitlines() if line.startswith("s [asgi]")]
    assert len(header.split()) == 2 + 18


def test_column_keys_read_as_neither_numbers_nor_outcome_symbols():
    keys = column_keys([f"c{i}" for i in range(60)])
    assert len(set(keys.values())) == 60
    symbols = {o.symbol for o in Outcome}
    for k in keys.values():
        assert not re.search(r"[0-9]", k) and k not in symbols and "l" not in k and "i" not in k


def test_the_legend_wraps_and_never_splits_an_item():
    lines = wrap_legend("checks:   ", [f"{k} {c}" for c, k in column_keys(CHECKS).items()], width=80)
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    assert all(line.startswith(" " * 10) for line in lines[1:])
    items = re.findall(r"\b[a-z]{1,2} check-number-\d+", "\n".join(lines))
    assert len(items) == 18  # each item whole, on one line


def test_details_elide_repeated_bytes_and_repeated_lines():
    story = "Rick: (stumbles in drunkenly, and turns on the lights) Morty! You gotta come on."
    detail = ("Body chunks differ\n"
              f"  expected: b'{story}'\n"
              f"  seen:     b\"{story}Morty: (rubs his eyes) What?\"\n"
              "  first difference at chunk 0; 1 non-empty messages seen, 7 expected; the bytes are equal")
    problems = [_r(f"v{i}", "chunk-order", Outcome.FAIL, detail=detail) for i in range(3)]
    text = render_problems(problems)
    assert text.count(story) == 1  # once in full, in the first problem's expected line
    assert f"seen:     b\"[the first {len(story)} characters as expected]Morty: (rubs his eyes) What?\"" in text
    assert text.count("[3 line(s) as in a problem above]") == 2
    assert text.count("Body chunks differ") == 3  # each problem keeps its title
    assert elide_runs("b'" + "\\x00" * 4096 + "ab'") == "b'\\x00[x4096]ab'"
    assert elide_runs("short aaa") == "short aaa"


def test_a_load_error_is_repeated_beside_the_gate_verdict():
    verdict = gate([_r("v", "c", Outcome.PASS)])
    text = render_gate(verdict, None, 0, load_errors=[LoadError("team/bad.py", "team/bad.py:2: scenario field 'chunks'")])
    first, second, third = text.splitlines()[:3]
    assert first.startswith("gate passed")
    assert second == "the run FAILS (exit 1) all the same: 1 scenario file(s) did not load, so their scenarios did not run:"
    assert third == "  error: team/bad.py:2: scenario field 'chunks'"


@pytest.mark.needs_feature
def test_the_run_ends_with_the_broken_scenario_beside_the_gate(tmp_path, capsys):
    (tmp_path / "fine.py").write_text("from harness import scenario\nfine = scenario('fine', chunks=[b'a', b'b'])\n")
    (tmp_path / "broken.py").write_text("from harness import scenario\nbroken = scenario('broken', chunks=[1])\n")
    assert main(["run", "--scenarios-dir", str(tmp_path), "--no-builtin-scenarios", "--no-write"]) == 1
    tail = capsys.readouterr().out.rstrip().splitlines()[-3:]
    assert tail[0].startswith("gate passed")
    assert tail[1].startswith("the run FAILS (exit 1) all the same: 1 scenario file(s)")
    assert "broken.py:2: scenario field 'chunks'" in tail[2]
