"""A newcomer's path, end to end: scaffold a scenario, run it, read a result."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.installed import versions  # noqa: F401

from .helpers import latest_results

pytestmark = pytest.mark.needs_feature


def test_new_scenario_scaffold_runs_end_to_end(tmp_path, capsys):
    folder = tmp_path / "scenarios"
    assert main(["new-scenario", "my-payload", "--dir", str(folder)]) == 0
    assert (folder / "my_payload.py").exists()
    assert main(["run", "--scenarios-dir", str(folder), "--scenario", "my-payload",
                 "--output-dir", str(tmp_path / "out")]) == 0
    results = json.loads(latest_results(tmp_path / "out").read_text())["results"]
    assert {r["scenario"] for r in results} == {"my-payload"}
    assert any(r["check"] == "chunk-order" and r["outcome"] == "pass" for r in results)
    capsys.readouterr()
    assert main(["new-scenario", "my-payload", "--dir", str(folder)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err
    assert main(["new-scenario", "Bad Name", "--dir", str(folder)]) == 2


@pytest.mark.parametrize("name", ["2-chunks", "yield", "class"])
def test_new_scenario_refuses_names_that_cannot_be_a_python_variable(tmp_path, name, capsys):
    from harness.cli import main

    assert main(["new-scenario", name, "--dir", str(tmp_path)]) == 2
    assert "starts with a letter and is not a Python keyword" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
