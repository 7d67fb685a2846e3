from __future__ import annotations


import pytest

from harness.errors import ScenarioError, UsageError
from harness.scenarios import load_scenarios, scenario

ONE_SHOT = iter([b"a", b"b"])  # a factory returning this returns the same iterator every call


def test_builtin_scenarios_load():
    loaded = load_scenarios()
    assert not loaded.errors
    assert {"story", "png", "adversarial-text", "binary-lines"} <= set(loaded.scenarios)


@pytest.mark.parametrize("kwargs, field, words", [
    (dict(name="Bad Name", chunks=["a"]), "name", "kebab-case"),
    (dict(name="x", chunks="abc"), "chunks", "a list of str, a list of bytes, or a factory"),
    (dict(name="x", chunks=(c for c in [b"a"])), "chunks", "can be iterated only once"),
    (dict(name="x", chunks=lambda: ONE_SHOT), "chunks", "can be opened twice"),
    (dict(name="x", chunks=lambda: [b"a"], source="file-like"), "chunks", "a list of exactly the lines"),
    (dict(name="x", chunks=[b"a"], source="generator"), "chunks", "a factory"),
    (dict(name="x", chunks=[b"ab", b"abc"], source="file"), "chunks", "blocks of one size"),
    (dict(name="x", chunks=["ab"], source="file"), "chunks", "blocks of one size"),
    (dict(name="x", chunks=["a"], block_s=0.1, source="file-like"), "block_s", "other than"),
    (dict(name="x", chunks=["a"], variants=["colour=red"]), "variants", "unknown axis"),
    (dict(name="x", chunks=["a"], engines="asgi"), "engines", "a list of names"),
    (dict(name="x", chunks=["a"], expect=["chunk-order"]), "expect", "harness.expect"),
    (dict(name="x", chunks=[{"a": 1}]), "chunks", "element of type dict"),
    (dict(name="x", chunks=[1, 2]), "chunks", "element of type int"),
    (dict(name="x", chunks=["a", b"b"]), "chunks", "a mix of str and bytes"),
    (dict(name="x", chunks=["a"], source="socket"), "source", "one of list, file-like"),
    (dict(name="x", chunks=[b"no newline", b"b"], source="file-like"), "chunks", "lines of the joined data"),
    (dict(name="x", chunks=["a"], media_type="text/plain\r\nX: y"), "media_type", "single-line"),
    (dict(name="x", chunks=["a"], deadline_s=0), "deadline_s", "positive"),
])
def test_bad_fields_are_named_with_file_line_and_expectation(kwargs, field, words):
    with pytest.raises(ScenarioError) as info:
        scenario(**kwargs)
    message = str(info.value)
    assert f"field {field!r}" in message and words in message
    assert "test_scenarios.py:" in message  # the file and line where it was written


def test_a_broken_file_is_reported_and_does_not_hide_the_others(tmp_path):
    (tmp_path / "good.py").write_text("from harness import scenario\nok = scenario('ok', chunks=['a', 'b'])\n")
    (tmp_path / "boom.py").write_text("import not_a_module_anywhere\n")
    (tmp_path / "zz_dup.py").write_text("from harness import scenario\nagain = scenario('ok', chunks=['c'])\n")
    (tmp_path / "bad_field.py").write_text("from harness import scenario\n\nx = scenario('x', chunks=[1])\n")
    (tmp_path / "empty.py").write_text("VALUE = 1\n")
    (tmp_path / "_private.py").write_text("raise SystemExit('never imported')\n")
    loaded = load_scenarios([tmp_path])
    assert list(loaded.scenarios) == ["ok"]
    messages = {e.file.rsplit("/", 1)[-1]: e.message for e in loaded.errors}
    assert set(messages) == {"boom.py", "zz_dup.py", "bad_field.py", "empty.py"}
    assert "boom.py:1: the file failed to import: ModuleNotFoundError" in messages["boom.py"]
    assert "scenario name 'ok' is defined twice: in " in messages["zz_dup.py"]
    assert "good.py:2 and in " in messages["zz_dup.py"] and "zz_dup.py:2" in messages["zz_dup.py"]
    assert "bad_field.py:3: scenario field 'chunks'" in messages["bad_field.py"]
    assert "defines no scenario" in messages["empty.py"]


def test_selecting_an_unknown_scenario_lists_the_known_ones():
    with pytest.raises(UsageError, match="unknown scenario 'nope'; scenarios are: .*story"):
        load_scenarios().select(["nope"])


def test_missing_scenarios_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_scenarios([tmp_path / "missing"])


@pytest.mark.needs_feature
def test_a_text_file_like_scenario_streams_its_lines_for_str_and_bytes_variants(tmp_path):
    from harness.checks import get_checks
    from harness.engines import get_engine
    from harness.outcomes import Outcome
    from harness.runner import Runner, plan_cases
    from harness.variants import VariantFilter

    (tmp_path / "lines.py").write_text(
        "from harness import scenario\n"
        "lines = scenario('lines', chunks=['caf\\u00e9\\n', 'two\\n', 'three'], source='file-like')\n")
    sc = load_scenarios([tmp_path]).scenarios["lines"]
    cases = plan_cases([sc], VariantFilter(["*-for-plain"]))
    with Runner(get_engine("asgi"), get_checks(["chunk-order", "closure-on-completion"])) as runner:
        results = runner.run(cases)
    assert {r.outcome for r in results} == {Outcome.PASS}
    assert {r.axes["chunk"] for r in results} == {"str", "bytes"}


def test_a_scenario_naming_an_unknown_check_is_a_usage_error(tmp_path, capsys):
    from harness.cli import main

    (tmp_path / "typo.py").write_text("from harness import scenario\n"
                                      "typo = scenario('typo', chunks=[b'a'], checks=['loop-not-blokced'])\n")
    assert main(["run", "--scenarios-dir", str(tmp_path), "--no-write"]) == 2
    assert "typo.py:2: scenario field 'checks': unknown check 'loop-not-blokced'" in capsys.readouterr().err


def test_a_team_scenario_named_like_a_built_in_one_is_an_error_naming_both_files(tmp_path):
    """The built-in is never replaced: it stays, and the team's file is named with the built-in's."""
    from harness.scenarios import builtin_dir, scenario_folders

    (tmp_path / "a_png.py").write_text("from harness import scenario\npng = scenario('png', chunks=[b'x'])\n")
    (tmp_path / "mine.py").write_text("from harness import scenario\nmine = scenario('mine', chunks=[b'x'])\n")
    loaded = load_scenarios(scenario_folders([tmp_path]))
    assert loaded.scenarios["png"].file == str(builtin_dir() / "png.py")
    assert "mine" in loaded.scenarios and "story" in loaded.scenarios  # added beside the built-ins
    (err,) = loaded.errors
    assert err.file == str(tmp_path / "a_png.py")
    assert f"scenario name 'png' is defined twice: in {builtin_dir() / 'png.py'}:" in err.message
    assert f"and in {tmp_path / 'a_png.py'}:2" in err.message and "is not loaded" in err.message
    assert scenario_folders([tmp_path], builtin=False) == [tmp_path]
    assert scenario_folders([builtin_dir()]) == [builtin_dir()]  # each folder once


@pytest.mark.needs_feature
def test_scenarios_dir_adds_a_folder_and_the_header_names_the_folders(tmp_path, capsys):
    import os

    from harness.cli import main
    from harness.reports import json as json_report
    from harness.scenarios import builtin_dir

    from .helpers import latest_results

    team = tmp_path / "team"
    team.mkdir()
    (team / "mine.py").write_text("from harness import scenario\nmine = scenario('mine', chunks=[b'x', b'y'])\n")
    args = ["run", "--scenarios-dir", str(team), "--check", "content-type", "--no-page", "--variant", "*-for-plain"]
    assert main(args + ["--scenario", "mine,story", "--output-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    info, results = json_report.load(latest_results(tmp_path / "out"))
    assert {r.scenario for r in results} == {"mine", "story"}
    assert info["scenario_folders"] == [str(builtin_dir()), str(team)]
    shown = os.path.relpath(builtin_dir()) if not os.path.relpath(builtin_dir()).startswith("..") else builtin_dir()
    assert f"scenarios from: {shown} (built-in), {team}" in out
    # only the team's own
    assert main(args + ["--no-builtin-scenarios", "--scenario", "story", "--no-write"]) == 2
    assert "unknown scenario 'story'; scenarios are: mine" in capsys.readouterr().err
    assert main(["run", "--no-builtin-scenarios", "--no-write"]) == 2
    assert "--no-builtin-scenarios leaves no scenario" in capsys.readouterr().err
