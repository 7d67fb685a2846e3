"""Real files on disk for ``source='file'`` scenarios, written once and shared by every process.

The file is named by the payload's digest in the cache folder (``STREAM_HARNESS_CACHE``, default a
per-user folder under the system's temporary directory), so the harness and each server process
it starts find the same bytes without passing paths around, and a changed payload gets a new file.
The payload is streamed from the scenario's factory, never held whole (a server process measures
its own memory while it streams), and written atomically: a concurrent writer (another server, a
pytest-xdist worker) never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .errors import ScenarioError

__all__ = ["cache_dir", "payload_file", "FILE_BLOCKS"]

FILE_BLOCKS = ("for source='file', bytes blocks of one size (the last may be shorter, none empty): the "
               "file is read back in blocks of the first one's size")

_made: dict[tuple[str, str], tuple[Path, int]] = {}


def cache_dir() -> Path:
    configured = os.environ.get("STREAM_HARNESS_CACHE")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"stream-harness-{os.getuid()}"


def _blocks(scenario):
    """The factory's chunks, checked to be blocks of one size as they pass (the file is read back so)."""

    size, last = None, None
    for chunk in scenario.factory():
        if size is None:
            size = len(chunk)
        if not isinstance(chunk, bytes) or not chunk or (last is not None and len(last) != size) or len(chunk) > size:
            raise ScenarioError(scenario.file, "chunks", FILE_BLOCKS, f"a block of {len(chunk)} bytes", scenario.line)
        last = chunk
        yield chunk
    if size is None:
        raise ScenarioError(scenario.file, "chunks", FILE_BLOCKS, "no block at all", scenario.line)


def payload_file(scenario) -> tuple[Path, int]:
    """``(path, block size)`` of the scenario's payload on disk; written on first use."""
    key = (scenario.file, scenario.name)
    if key not in _made:
        digest, size, block = hashlib.sha256(), 0, 0
        for chunk in _blocks(scenario):
            digest.update(chunk)
            size, block = size + len(chunk), block or len(chunk)
        folder = cache_dir()
        path = folder / f"{scenario.name}-{digest.hexdigest()[:20]}.bin"
        if not (path.is_file() and path.stat().st_size == size):
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    for chunk in scenario.factory():
                        fh.write(chunk)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        _made[key] = (path, block)
    return _made[key]
