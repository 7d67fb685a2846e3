"""The payloads of the benchmarks, as plain chunk sources a variant iterates inside its ``with`` block.

A source is called with the chunk type (``"str"`` or ``"bytes"``) and returns a context manager that
gives an iterable of chunks, exactly the ``open_source`` contract of ``routes.build_route``, minus the
probes (no lock-step gate, no recorder): what is timed is FastAPI and Starlette, not the harness.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

__all__ = ["MemoryChunks", "FileChunks", "SlowChunks", "WholeFile", "write_payload_file",
           "SMALL_CHUNK", "SMALL_COUNT", "FILE_CHUNK", "THROUGHPUT_BYTES", "SLOW_COUNT", "SLOW_DELAY_S"]

SMALL_CHUNK = b"0123456789abcdef"  # 16 bytes: the per-chunk overhead workload
SMALL_COUNT = 1000
FILE_CHUNK = 64 * 1024  # the throughput workload reads a real file in 64 KiB chunks
THROUGHPUT_BYTES = 16 * 1024 * 1024
SLOW_COUNT = 20  # the slow producer: each chunk takes SLOW_DELAY_S to produce (a blocking read)
SLOW_DELAY_S = 0.001


class _Repeated:
    """A source of ``count`` copies of ``chunk``: its size and count, for the checks and the report."""

    chunk: bytes
    count: int

    @property
    def total_bytes(self) -> int:
        return len(self.chunk) * self.count

    @property
    def chunks(self) -> int:
        return self.count


@dataclass(frozen=True)
class MemoryChunks(_Repeated):
    """``count`` copies of ``chunk`` from memory: the cost per chunk, with nothing else to do."""

    chunk: bytes = SMALL_CHUNK
    count: int = SMALL_COUNT

    @functools.cached_property
    def _lists(self) -> dict[str, list]:
        return {"bytes": [self.chunk] * self.count, "str": [self.chunk.decode("ascii")] * self.count}

    def __call__(self, chunk_type: str):
        return contextlib.nullcontext(self._lists[chunk_type])


@dataclass(frozen=True)
class FileChunks:
    """A real file on disk, read ``size`` bytes (or, as text, characters) at a time.

    The file is ASCII, so the ``str`` form (text mode, UTF-8) streams the same bytes as ``bytes``.
    """

    path: str
    size: int = FILE_CHUNK

    @contextlib.contextmanager
    def __call__(self, chunk_type: str) -> Iterator[Iterator]:
        if chunk_type == "str":
            fh = open(self.path, "r", encoding="utf-8", newline="")
        else:
            fh = open(self.path, "rb")
        with fh:
            yield iter(functools.partial(fh.read, self.size), "" if chunk_type == "str" else b"")

    @property
    def total_bytes(self) -> int:
        return os.path.getsize(self.path)

    @property
    def chunks(self) -> int:
        return -(-self.total_bytes // self.size)


@dataclass(frozen=True)
class WholeFile:
    """The negative control of the memory bound: the whole file read into one chunk (buffering)."""

    path: str

    @contextlib.contextmanager
    def __call__(self, chunk_type: str) -> Iterator[list]:
        with open(self.path, "rb") as fh:
            data = fh.read()
        yield [data.decode("ascii") if chunk_type == "str" else data]


@dataclass(frozen=True)
class SlowChunks(_Repeated):
    """A slow producer: every chunk takes ``delay_s`` (a blocking read, ``time.sleep``)."""

    count: int = SLOW_COUNT
    delay_s: float = SLOW_DELAY_S
    chunk: bytes = SMALL_CHUNK

    def _gen(self, chunk_type: str) -> Iterator:
        item = self.chunk.decode("ascii") if chunk_type == "str" else self.chunk
        for _ in range(self.count):
            time.sleep(self.delay_s)
            yield item

    def __call__(self, chunk_type: str):
        return contextlib.closing(self._gen(chunk_type))


def write_payload_file(path: Path, size: int) -> Path:
    """Write ``size`` bytes of ASCII (a repeated 64 KiB block of printable text) to ``path``."""
    block = bytes(33 + (i * 7919) % 94 for i in range(FILE_CHUNK))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(block[:left])
            left -= len(block)
    return path
