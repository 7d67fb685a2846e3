"""A raw HTTP/1.1 client built on h11 that records the response exactly as framed.

Every HTTP chunk is one :class:`BodyChunk` (h11 reports a chunk's pieces with ``chunk_start`` /
``chunk_end``; the pieces are joined back), stamped when its last byte arrived. The end is either
the terminating zero-length chunk (a final ``BodyChunk`` with ``more_body`` false) or a
:class:`ConnectionClosed`. No client that buffers or re-chunks the body sits in between.
"""

from __future__ import annotations

import selectors
import socket
import time
from dataclasses import dataclass
from typing import Callable

import h11

from ..app.encoding import CLIENT_HEADERS, decode_trace
from ..trace import BodyChunk, ClientDisconnected, ConnectionClosed, DeadlineExceeded, Recorder, ResponseStart

__all__ = ["get", "fetch_body", "Cutoff"]

RECV_BYTES = 65536
_SELECTOR = getattr(selectors, "PollSelector", selectors.DefaultSelector)  # poll: no descriptor of its own


@dataclass
class Cutoff:
    """News that shortens a response's deadline: once the app's call failed, nothing more can come
    from the app, so the server has ``grace_s`` to end or close the response rather than the whole
    deadline (a server that leaves a broken response open must not cost 10 s a request).

    ``sock`` becomes readable when the news arrives; ``read()`` consumes it and says whether the
    app failed (``False``: the request was released first, nothing to shorten)."""

    sock: socket.socket
    read: Callable[[], bool]
    grace_s: float


def get(port: int, path: str, recorder: Recorder, deadline_s: float, *, headers: list[tuple[str, str]] = (),
        on_chunk: Callable[[int], None] | None = None, cut_after: int | None = None,
        rcvbuf: int | None = None, on_cut: Callable[[], None] | None = None,
        end_within: tuple[int, float] | None = None, method: str = "GET",
        body: bytes = b"", cutoff: Cutoff | None = None) -> socket.socket | None:
    """Request ``path`` from 127.0.0.1:``port`` (``method``, with ``body`` when there is one: the
    route's own, as SSE over POST needs) and record the response into ``recorder``.

    ``on_chunk(n)`` is called after the n-th non-empty chunk arrived (lock-step acknowledgements).
    With ``cut_after=k`` the client closes the connection after k non-empty chunks. With
    ``on_cut``, it stops reading instead and the still-open socket is returned to the caller.
    With ``end_within=(k, s)``, once k non-empty chunks arrived the response must end (or the
    connection close) within s seconds: the producer fails there on purpose, and a server that
    leaves the connection open must not cost the whole deadline. With ``cutoff``, the same once the
    app's call failed (an unplanned failure: an item its model rejects).
    """
    started = time.monotonic()
    end = started + deadline_s
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(deadline_s)
    conn = h11.Connection(h11.CLIENT)
    try:
        sock.connect(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        length = [("Content-Length", str(len(body)))] if body or method not in ("GET", "HEAD") else []
        request = h11.Request(method=method, target=path,
                              headers=[("Host", f"127.0.0.1:{port}"), ("Connection", "close"), *CLIENT_HEADERS,
                                       *length, *headers])
        sock.sendall(conn.send(request) + (conn.send(h11.Data(data=body)) if body else b"")
                     + conn.send(h11.EndOfMessage()))
        pending = bytearray()
        received, chunked = 0, False
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                left = end - time.monotonic()
                if left <= 0:
                    recorder.add(DeadlineExceeded(recorder.now(), round(end - started, 3)))
                    break
                if cutoff is not None:  # wait for data or for the news, whichever comes first
                    ready = _readable([sock, cutoff.sock], left)
                    if cutoff.sock in ready:
                        if cutoff.read():
                            end, started = min(end, time.monotonic() + cutoff.grace_s), time.monotonic()
                        cutoff = None
                    if sock not in ready:
                        continue
                sock.settimeout(max(end - time.monotonic(), 0.001))
                try:
                    data = sock.recv(RECV_BYTES)
                except socket.timeout:
                    recorder.add(DeadlineExceeded(recorder.now(), round(end - started, 3)))
                    break
                conn.receive_data(data)  # b"" (EOF) before the end: h11 raises RemoteProtocolError next
                continue
            if isinstance(event, h11.Response):
                hdrs = tuple((bytes(k), bytes(v)) for k, v in event.headers)
                chunked = any(k.lower() == b"transfer-encoding" and b"chunked" in v.lower() for k, v in hdrs)
                recorder.add(ResponseStart(recorder.now(), event.status_code, hdrs))
            elif isinstance(event, h11.Data):
                pending += event.data
                if event.chunk_end or not chunked:  # a whole HTTP chunk (or any data, unchunked)
                    data, pending = bytes(pending), bytearray()
                    recorder.add(BodyChunk(recorder.now(), data, True))
                    if data:
                        received += 1
                        if on_chunk:
                            on_chunk(received)
                        if end_within is not None and received == end_within[0]:
                            end, started = min(end, time.monotonic() + end_within[1]), time.monotonic()
                        if cut_after is not None and received >= cut_after:
                            recorder.add(ClientDisconnected(recorder.now(), received, "close"))
                            if on_cut is not None:
                                on_cut()
                                return sock
                            break
            elif isinstance(event, h11.EndOfMessage):
                recorder.add(BodyChunk(recorder.now(), b"", False))
                break
            elif isinstance(event, h11.ConnectionClosed):
                recorder.add(ConnectionClosed(recorder.now(), "the server closed the connection"))
                break
    except h11.RemoteProtocolError as exc:
        recorder.add(ConnectionClosed(recorder.now(), f"incomplete response: {exc}"))
    except OSError as exc:
        recorder.add(ConnectionClosed(recorder.now(), f"{type(exc).__name__}: {exc}"))
    sock.close()
    return None


def _readable(socks: list[socket.socket], timeout: float) -> list[socket.socket]:
    """Which of ``socks`` can be read within ``timeout``: a selector, since engines at once hold more
    than the 1024 descriptors ``select()`` can watch."""
    with _SELECTOR() as sel:
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        return [key.fileobj for key, _ in sel.select(timeout)]  # type: ignore[misc]


def fetch_body(port: int, path: str, deadline_s: float) -> tuple[int | None, bytes]:
    """A plain GET for things where framing does not matter (the OpenAPI document), decoded."""
    rec = Recorder()
    get(port, path, rec, deadline_s)
    return (rec.events[0].status if rec.events and isinstance(rec.events[0], ResponseStart) else None,
            decode_trace(rec.freeze("wire", path)).body)
