"""The CI workflow that splits the gate across jobs (.github/workflows/gate.yml) is checked by
actionlint (the ``test`` extra pins a wheel that ships its binary), and its matrix and merge steps
call the commands that exist with the options they have."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parent.parent / ".github" / "workflows" / "gate.yml"


def test_the_gate_workflow_passes_actionlint():
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip("no actionlint executable on PATH: pip install -e '.[test]' installs it")
    try:
        got = subprocess.run([binary, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        pytest.skip(f"the actionlint binary cannot run here: {exc}")
    assert got.returncode == 0, got.stdout + got.stderr


def test_the_workflow_uses_the_matrix_and_merge_commands_as_they_are():
    text = WORKFLOW.read_text()
    assert "stream-harness versions --format github-matrix" in text
    assert "fromJSON(needs.matrix.outputs.matrix)" in text and "matrix.toxenv" in text and "matrix.fastapi" in text
    assert "stream-harness report shards/runs --output-dir merged" in text
    assert "${{ inputs.app }}" not in text.split("run: |")[1].split("uses:")[0]  # inputs reach scripts via env only
