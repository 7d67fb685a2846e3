"""Results files for the report tests: one real run of the harness, and edited copies of it.

The real run (scenario ``story`` on the in-process engine, with whatever FastAPI is installed)
gives files of the real shape; the copies stand in for other FastAPI versions, other engines,
CI shards and regressions, which a single test environment cannot produce.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Callable

from harness.cli import main

NASTY = ("Chunks differ </script><script>alert(1)</script> <img src=x onerror=\"window.__pwned=1\"> "
         "| `tick` *star* & \x1b[31m\n  second line")


def real_run(folder: Path) -> Path:
    """Run the harness for real and return the results file it wrote."""
    # --no-expectations: the data carries no expectation from the repository's expectations.toml;
    # the tests add the ones they need
    rc = main(["run", "--scenario", "story", "--no-expectations", "--output-dir", str(folder)])
    assert rc in (0, 1), rc  # 1: the installed FastAPI fails something; the file is written all the same
    (path,) = folder.rglob("results.json")
    return path


def load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def save(data: dict, path: Path, *, fastapi: str | None = None, engine: str | None = None,
         edit: Callable[[list[dict]], None] | None = None) -> Path:
    """Write a copy of ``data`` as another version / engine, with ``edit`` applied to its results."""
    data = copy.deepcopy(data)
    if fastapi:
        data["run"]["versions"]["fastapi"] = fastapi
    if engine:
        data["run"]["engines"] = [engine]
        for r in data["results"]:
            r["engine"] = engine
    if edit:
        edit(data["results"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), "utf-8")
    return path


def first(results: list[dict], check: str, outcomes: tuple[str, ...] | None = None) -> dict:
    """The first result of ``check`` (with one of ``outcomes`` when given)."""
    return next(r for r in results if r["check"] == check and (outcomes is None or r["outcome"] in outcomes))


def regress(check: str, detail: str = NASTY) -> Callable[[list[dict]], None]:
    """An edit turning the first non-problem result of ``check`` into a ``fail`` with ``detail``."""
    def edit(results: list[dict]) -> None:
        r = first(results, check, ("pass", "non-strict", "n/a", "informational", "unsupported"))
        r["outcome"], r["detail"] = "fail", detail
    return edit


def all_unsupported(results: list[dict]) -> None:
    """What a FastAPI before the feature reports: every result ``unsupported``."""
    for r in results:
        r["outcome"], r["detail"] = "unsupported", "FastAPI 0.99.0 predates the feature"
