"""Where a run's files go: one folder per run, never over another run's results.

Layout under an output folder (``reports/`` by default)::

    reports/
      <version>/results.json.gz        published results (what the repository ships): never written by a run
      report.md, report.html           the published matrix: written only by ``report --publish``
      runs/                            a user's own runs (marked by ``.stream-harness-runs``)
        <fastapi-version>/
          20250101T120000Z-png/        one run: results.json, junit.xml
          latest -> 20250101T120000Z-png
      merged/                          ``stream-harness report``'s default output

A run's folder is named by when it started and what it selected (``20250101T120000Z-png-uvicorn``),
written complete under a temporary name and then renamed into place, so a reader sees a whole run
or none, and a second run in the same second gets ``-2`` instead of replacing the first. ``latest``
is a relative symbolic link (a one-line file where links cannot be made), replaced atomically.

``stream-harness report`` walking a folder skips a run store unless it was asked for the store
itself; inside a store it reads the ``latest`` run of each version only (see :func:`results_in`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from ..outcomes import Result, RunInfo
from . import json as json_report, junit

__all__ = ["RUNS", "MERGED", "MARKER", "LATEST", "run_id", "write_run", "latest_run", "is_store", "results_in"]

RUNS = "runs"  # the store's folder under the output folder
MERGED = "merged"  # `stream-harness report`'s default output folder under the output folder
MARKER = ".stream-harness-runs"
LATEST = "latest"
RESULT_NAMES = ("results.json", "results.json.gz")
_SLUG = re.compile(r"[^a-z0-9.]+")


def run_id(info: RunInfo) -> str:
    """``<start time>-<what was selected>``: readable in a listing, sorted by time."""
    try:
        started = datetime.fromisoformat(info.started).strftime("%Y%m%dT%H%M%SZ")
    except ValueError:
        started = _SLUG.sub("-", info.started.lower()).strip("-") or "run"
    sel = info.selection or {}
    parts = [*sel.get("scenarios", []), *sel.get("checks", []), *sel.get("variants", [])]
    engines = [e for e in info.engines if e != "asgi"]
    parts += engines
    if sel.get("app"):
        parts.append("app")
    slug = _SLUG.sub("-", "-".join(str(p).lower() for p in parts)).strip("-")[:48].rstrip("-.")
    return f"{started}-{slug}" if slug else started


def _store(output_dir: Path) -> Path:
    store = output_dir / RUNS
    store.mkdir(parents=True, exist_ok=True)
    marker = store / MARKER
    if not marker.exists():
        marker.write_text("Runs of stream-harness, one folder each; `latest` points to the newest. "
                          "Published results live outside this folder.\n", "utf-8")
    return store


def write_run(output_dir: Path, info: RunInfo, results: list[Result], *, junit_xml: bool = True) -> list[Path]:
    """Write a run's ``results.json`` (and ``junit.xml``) into a new folder of its own under
    ``output_dir/runs/<fastapi-version>/``, point ``latest`` at it, and return the files written.

    The folder is filled under a temporary name and renamed into place: it appears whole or not at
    all, and an existing run is never replaced (the same name gets ``-2``, ``-3`` ...)."""
    version_dir = _store(Path(output_dir)) / info.versions["fastapi"]
    version_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=version_dir))
    try:
        json_report.write(tmp / "results.json", info, results)
        if junit_xml:
            junit.write(tmp / "junit.xml", info, results)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700: give the folder the mode mkdir would
        base, n = run_id(info), 1
        while True:
            final = version_dir / (base if n == 1 else f"{base}-{n}")
            try:
                os.rename(tmp, final)  # fails if a run already has the name: never over it
                break
            except OSError:
                if not final.exists():
                    raise
                n += 1
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point_latest(version_dir, final.name)
    return [final / "results.json"] + ([final / "junit.xml"] if junit_xml else [])


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _point_latest(version_dir: Path, name: str) -> None:
    link = version_dir / LATEST
    tmp = version_dir / f".{LATEST}.{os.getpid()}"
    try:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(name, tmp)
        os.replace(tmp, link)
    except OSError:  # no symbolic links here: a one-line file names the run
        from . import atomic_write
        if link.is_symlink():
            link.unlink()
        atomic_write(link, (name + "\n").encode())


def latest_run(version_dir: Path) -> Path | None:
    """The folder ``latest`` points to in ``runs/<version>/``, or None."""
    link = Path(version_dir) / LATEST
    if link.is_symlink():
        target = version_dir / os.readlink(link)
    elif link.is_file():
        target = version_dir / link.read_text("utf-8").strip()
    else:
        return None
    return target if target.is_dir() else None


def is_store(folder: Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def _results_file(folder: Path) -> list[Path]:
    return [folder / n for n in RESULT_NAMES if (folder / n).is_file()][:1]


def results_in(folder: Path) -> list[Path]:
    """The results files a report reads from ``folder``.

    A run store (``runs/``): the ``latest`` run of each version. A version folder of a store: its
    ``latest`` run. Anything else: every results file below it, except inside a run store (a user's
    own runs never mix into published results unless named)."""
    folder = Path(folder)
    if is_store(folder):
        return [f for v in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
                for f in results_in(v)]
    if is_store(folder.parent):
        latest = latest_run(folder)
        return _results_file(latest) if latest else []
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        if here != folder and is_store(here):
            dirnames.clear()
            continue
        dirnames.sort()
        found += [here / n for n in RESULT_NAMES if n in filenames]
    return sorted(found)
