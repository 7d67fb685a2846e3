"""The app-side probe: instrumented chunk sources that record steps, enforce lock-step and track
open/close of the resource the generator opens in its ``with`` block.

Lock-step is coordination, not timing: before the producer hands out chunk ``k`` it requires that
chunk ``k - 1`` has reached the client. On a worker thread (a ``def`` generator run by the
threadpool) it waits for that, with a deadline - unless the gate is told the wait is unneeded (``wait_s=0``: in-process and
bare, the harness's own send records chunk ``k - 1`` synchronously before the framework can ask a
``def`` generator for chunk ``k``, so a missing chunk is already the proof). On the event-loop thread (an ``async def``
generator iterating a plain iterable, as the page's samples do) waiting would freeze the very loop
that must deliver the chunk, so the requirement is checked without waiting: a framework that asks
for chunk ``k`` before delivering ``k - 1`` there has read ahead. Either way a violation is
recorded once and the gate then stops waiting, so a buffering app costs one deadline, not one
per chunk.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .trace import GeneratorStep, LockStepViolation, Mark, Recorder, ResourceClosed, ResourceOpened

__all__ = ["InjectedFailure", "LockStep", "TracedChunks", "TracedBytesIO", "TracedStringIO", "TracedFile",
           "open_resource", "SOURCE_KINDS", "MARKS", "Marks"]

_ids = itertools.count(1)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class InjectedFailure(RuntimeError):
    """Raised by the producer on purpose (``error`` mode): the app's own code failing mid-stream."""


class LockStep:
    """The gate between producer and client; in ``error`` mode it also makes the producer raise.

    ``need`` is the number of non-empty chunks handed out before the one asked for now: servers
    send no HTTP chunk for an empty one, so empty chunks are never waited for.
    """

    def __init__(self, recorder: Recorder, wait_s: float = 2.0, raise_at: int | None = None,
                 enforce: bool = True) -> None:
        """``raise_at=k``: the producer raises once k non-empty chunks were handed out (``error`` mode).
        ``enforce=False``: steps are recorded but nothing is waited for (several streams share it).
        ``wait_s=0``: a chunk not yet delivered is a violation at once (decided without a wait)."""
        self.recorder, self.wait_s, self.broken, self.raise_at = recorder, wait_s, not enforce, raise_at
        self.handed = 0  # non-empty chunks handed out so far
        self.slack = 0  # how many chunks the producer may be ahead of the client (a form's own buffers)
        # on the loop, where nothing can wait: messages a team's stack may hold in flight by design (a
        # zero-buffer hand-off, as BaseHTTPMiddleware's, has one taken but not yet sent)
        self.in_flight = 0

    def step(self, index: int, chunk: str | bytes) -> None:
        """Called by the source before it hands out chunk ``index``."""
        rec = self.recorder
        if self.raise_at is not None and self.handed == self.raise_at:
            raise InjectedFailure(f"the producer failed on purpose after {self.handed} non-empty chunks")
        need = self.handed - self.slack
        on_loop = need > 0 and not self.broken and _on_event_loop()
        need -= self.in_flight if on_loop else 0
        if need > 0 and not self.broken:
            t0 = time.monotonic()
            at_once = on_loop or self.wait_s <= 0
            if not (rec.reached(need) if at_once else rec.wait_reached(need, self.wait_s)):
                self.broken = True
                waited = 0.0 if at_once else time.monotonic() - t0
                rec.add(LockStepViolation(rec.now(), index, rec.progress(), waited, on_loop))
        rec.add(GeneratorStep(rec.now(), index, rec.progress()))
        self.handed += bool(chunk)


class _Tracked:
    """Mixin: record open at construction and the first close."""

    _closed_recorded = False

    def _track(self, recorder: Recorder, kind: str) -> None:
        self._recorder, self._name = recorder, f"{kind}#{next(_ids)}"
        recorder.add(ResourceOpened(recorder.now(), self._name))

    def _record_close(self) -> None:
        if not self._closed_recorded and hasattr(self, "_recorder"):
            self._closed_recorded = True
            self._recorder.add(ResourceClosed(self._recorder.now(), self._name))


class TracedChunks(_Tracked):
    """A resource that yields chunks: the shape of ``message.splitlines()`` in a ``with`` (a list),
    or of a producer making them on the fly (a factory's iterator, closed with the resource).

    With ``block_s``, getting each chunk blocks the calling thread that long first (``time.sleep``
    standing for a blocking read, or a slow producer), as the page's "files and async" section describes.
    """

    def __init__(self, chunks: Sequence[str | bytes] | Callable[[], Iterable[str | bytes]], recorder: Recorder,
                 gate: LockStep, block_s: float = 0.0) -> None:
        self._gate, self.closed, self._block_s = gate, False, block_s
        self._source = iter(chunks() if callable(chunks) else list(chunks))
        self._track(recorder, "generator" if callable(chunks) else "chunks")

    def __iter__(self) -> Iterator[str | bytes]:
        for i in itertools.count():
            if self.closed:
                raise ValueError("I/O operation on closed resource")
            if self._block_s:
                time.sleep(self._block_s)
            chunk = next(self._source, None)
            if chunk is None:
                return
            self._gate.step(i, chunk)
            yield chunk

    def close(self) -> None:
        self.closed = True
        close = getattr(self._source, "close", None)
        if callable(close):
            close()
        self._record_close()

    def __enter__(self) -> "TracedChunks":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a finalizer closes it, like a file's, so a GC close is visible
        self.close()


class _TracedLines(_Tracked):
    """Mixin for in-memory files: each line read by iteration passes the gate, close is recorded."""

    def _setup(self, recorder: Recorder, gate: LockStep, kind: str) -> None:
        self._gate, self._index = gate, 0
        self._track(recorder, kind)

    def __next__(self):
        line = super().__next__()
        self._gate.step(self._index, line)
        self._index += 1
        return line

    def close(self) -> None:
        self._record_close()
        super().close()


class TracedBytesIO(_TracedLines, io.BytesIO):
    """An in-memory binary file iterated line by line, exactly as the page's ``read_image()``."""

    def __init__(self, data: bytes, recorder: Recorder, gate: LockStep) -> None:
        super().__init__(data)
        self._setup(recorder, gate, "BytesIO")


class TracedStringIO(_TracedLines, io.StringIO):
    """The text twin of :class:`TracedBytesIO`."""

    def __init__(self, data: str, recorder: Recorder, gate: LockStep) -> None:
        super().__init__(data, newline="")
        self._setup(recorder, gate, "StringIO")


class TracedFile(_Tracked):
    """A real file on disk, read in blocks through its own file descriptor.

    Its close is recorded only once the operating system says the descriptor is closed (``fstat``
    fails, or the number now names another file): a file *object* closed over a descriptor it does
    not own leaves the file open, and that must not pass as closed.
    """

    def __init__(self, path: Path, block: int, recorder: Recorder, gate: LockStep, block_s: float = 0.0) -> None:
        self._file = open(path, "rb", buffering=0)  # each read is one read(2) on the descriptor
        self.fd = self._file.fileno()
        st = os.fstat(self.fd)
        self._identity, self._block, self._gate, self._block_s = (st.st_dev, st.st_ino), block, gate, block_s
        self._track(recorder, f"file(fd {self.fd})")

    def __iter__(self) -> Iterator[bytes]:
        for i in itertools.count():
            if self._block_s:
                time.sleep(self._block_s)
            chunk = self._file.read(self._block)
            if not chunk:
                return
            self._gate.step(i, chunk)
            yield chunk

    def descriptor_open(self) -> bool:
        try:
            st = os.fstat(self.fd)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def close(self) -> None:
        self._file.close()
        if not self.descriptor_open():
            self._record_close()

    def __enter__(self) -> "TracedFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if hasattr(self, "_file"):
            self.close()


SOURCE_KINDS = ("list", "file-like", "file", "generator")


def open_resource(source: str, chunks, chunk_type: type, recorder: Recorder, gate: LockStep, block_s: float = 0.0):
    """Open the scenario's resource. ``chunks`` are of the variant's ``chunk_type``: a list (``list``,
    ``file-like``), a factory (``generator``), or ``(path, block size)`` of a file on disk (``file``)."""
    if source in ("list", "generator"):
        return TracedChunks(chunks, recorder, gate, block_s)
    if source == "file":
        path, block = chunks
        return TracedFile(path, block, recorder, gate, block_s)
    if source == "file-like":
        if chunk_type is str:
            return TracedStringIO("".join(chunks), recorder, gate)
        return TracedBytesIO(b"".join(chunks), recorder, gate)
    raise ValueError(f"unknown source kind {source!r}; expected one of {SOURCE_KINDS}")


MARKS = "marks"  # ``open_source(MARKS)``: the request's Marks, where a route asks for its resource


class Marks:
    """The request's recorder, for the code around a route (a dependency, a background task): it
    marks what it does in the same trace, in order with the generator's steps and what was sent.
    Reached through the route's ``open_source``, so it is the request's own in-process and in a
    server process alike."""

    def __init__(self, recorder: Recorder, gate: LockStep) -> None:
        self.recorder, self.gate = recorder, gate

    def mark(self, name: str) -> None:
        self.recorder.add(Mark(self.recorder.now(), name))

    def wait_gone(self, timeout: float) -> bool:
        """Block this thread (no await: the loop gets no turn from it) until the client has left.
        On the loop that records the client's leaving (in-process) nothing can change while it
        blocks: the answer is known at once, and waiting would only cost ``timeout``."""
        if self.recorder.gone_on_app_loop and _on_event_loop():
            return self.recorder.gone
        with self.recorder._cond:
            return self.recorder._cond.wait_for(lambda: self.recorder.gone, timeout)

    def unpaced(self, chunks: Callable[[], Iterable[str | bytes]]) -> TracedChunks:
        """A producer whose steps are recorded but never held in lock-step (nothing waits for the client)."""
        return TracedChunks(chunks, self.recorder, LockStep(self.recorder, enforce=False))
