"""``results.json``: a versioned header (run info) and one record per result."""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from pathlib import Path


from ..errors import UsageError
from ..outcomes import Outcome, Result, RunInfo
from . import atomic_write

__all__ = ["FORMAT_VERSION", "dump", "write", "load"]

FORMAT_VERSION = 1


def _header(info: RunInfo, results: list[Result]) -> dict[str, object]:
    counts = {o.value: 0 for o in Outcome}
    for r in results:
        counts[r.outcome.value] += 1
    return {"format_version": FORMAT_VERSION, "run": asdict(info), "counts": counts}


def dump(info: RunInfo, results: list[Result]) -> dict[str, object]:
    return {**_header(info, results), "results": [r.to_json() for r in results]}


def write(path: Path, info: RunInfo, results: list[Result]) -> None:
    """The header indented, then one result per line: as readable with grep or a diff, and written by
    the C encoder (``indent`` alone falls back to the pure-Python one, seconds for a run of every engine)."""
    head = json.dumps(_header(info, results), indent=1, ensure_ascii=True)  # ends with "\n}"
    lines = ",\n".join(json.dumps(r.to_json(), ensure_ascii=True) for r in results)
    body = f"[\n{lines}\n ]" if results else "[]"
    atomic_write(path, f'{head[:-2]},\n "results": {body}\n}}\n'.encode("ascii"))


def load(path: Path) -> tuple[dict[str, object], list[Result]]:
    """Read a results file back; a malformed one is a clear error naming the file and the field."""
    try:
        raw = Path(path).read_bytes()
        data = json.loads(gzip.decompress(raw) if str(path).endswith(".gz") else raw)  # published ones are gzipped
    except (OSError, ValueError, EOFError) as exc:
        raise UsageError(f"{path}: not a readable results file: {exc}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"{path}: field 'format_version': expected {FORMAT_VERSION}, "
                         f"got {data.get('format_version') if isinstance(data, dict) else type(data).__name__!r}")
    if not isinstance(data.get("run"), dict):
        raise UsageError(f"{path}: field 'run': expected an object (the run's header), got "
                         f"{type(data.get('run')).__name__}")
    results = []
    for i, rec in enumerate(data.get("results") or []):
        try:
            rec = dict(rec)
            rec["outcome"] = Outcome(rec["outcome"])
            results.append(Result(**rec))
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{path}: results[{i}]: expected a result record: {exc}") from None
    return data["run"], results
