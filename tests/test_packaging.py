"""What a wheel ships: every package under ``harness/`` is listed in pyproject.toml's explicit
``packages`` (the tox lines and a team's CI install the wheel, not this checkout: a package left out
imports here and is missing there)."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_tree_ships_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "harness").rglob("__init__.py")
            if "__pycache__" not in p.parts}
    assert tree and tree <= listed, f"missing from pyproject.toml [tool.setuptools] packages: {sorted(tree - listed)}"
