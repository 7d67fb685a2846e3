"""What the client says about encodings, and undoing a content encoding before checks compare bytes.

Every request carries the headers a current browser's ``fetch`` sends that middleware acts on
(:data:`CLIENT_HEADERS`): ``Accept-Encoding: gzip, deflate, br, zstd`` (``--accept-encoding``), so a
compression middleware answers in whatever it prefers, as it does in production, and an ``Origin``,
so a CORS middleware adds its headers. A bare FastAPI route ignores both.

A response with a ``Content-Encoding`` is decoded message by message with one streaming
decompressor of the library made for it (:data:`DECODERS`: ``zlib`` for gzip and deflate,
``brotli`` for br, the standard library's ``compression.zstd`` where present, else ``zstandard``,
for zstd), as a browser decodes it: each body message becomes the bytes it carries once decoded,
so chunk boundaries, order and bytes are compared on what the app yielded. The trace keeps the
headers as sent (``content-encoding`` and ``content-type`` are never hidden) and says in
``Trace.decoded`` what was decoded, which the runner adds to every result's detail.

A body the harness cannot decode (an encoding it has no decoder for, a decoder library missing, a
stream that does not decode) raises :class:`UndecodableBody`: the request is an ``error`` of the
harness, never a verdict on bytes it could not read.
"""

from __future__ import annotations

import dataclasses
import zlib
from typing import Callable, Protocol

from ..trace import BodyChunk, Trace

__all__ = ["CLIENT_HEADERS", "DEFAULT_ACCEPT_ENCODING", "DECODERS", "UndecodableBody", "configure",
           "decode_trace", "decoder_for"]

DEFAULT_ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium and Firefox offer over HTTPS today
ORIGIN = "http://client.harness.invalid"
# One list for the whole process, read on every request by the engines; :func:`configure` changes it in place.
CLIENT_HEADERS: list[tuple[str, str]] = [("accept-encoding", DEFAULT_ACCEPT_ENCODING), ("origin", ORIGIN)]


class UndecodableBody(Exception):
    """The response is encoded in a way the harness cannot undo: an error of the harness's run."""


class Decoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...
    def end(self) -> bytes: ...


def configure(accept_encoding: str | None) -> None:
    """Set the ``Accept-Encoding`` every request offers (``None``: the browser default). ``identity``
    asks for no compression; the header is always sent, as a browser sends it."""
    value = (accept_encoding if accept_encoding is not None else DEFAULT_ACCEPT_ENCODING).strip()
    CLIENT_HEADERS[:] = [("accept-encoding", value or "identity"), ("origin", ORIGIN)]


class _Zlib:
    """gzip, or deflate: zlib-wrapped as RFC 9110 says, raw deflate as some servers send it."""

    def __init__(self, wbits: int) -> None:
        self.wbits, self.obj, self.started = wbits, zlib.decompressobj(wbits), False

    def feed(self, data: bytes) -> bytes:
        try:
            out = self.obj.decompress(data)
        except zlib.error:
            if self.started or self.wbits != zlib.MAX_WBITS:
                raise
            self.wbits, self.obj = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
            out = self.obj.decompress(data)
        self.started = self.started or bool(data)
        return out

    def end(self) -> bytes:
        return self.obj.flush()


class _Brotli:
    def __init__(self) -> None:
        import brotli  # the reference library (Google's bindings), as brotli-asgi and starlette-compress use

        self.obj = brotli.Decompressor()

    def feed(self, data: bytes) -> bytes:
        return self.obj.process(data) if data else b""

    def end(self) -> bytes:
        return b""


class _Zstd:
    def __init__(self) -> None:
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+

            self.obj = zstd.ZstdDecompressor()
        except ImportError:
            import zstandard

            self.obj = zstandard.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes) -> bytes:
        return self.obj.decompress(data) if data else b""

    def end(self) -> bytes:
        return b""


DECODERS: dict[str, Callable[[], Decoder]] = {
    "gzip": lambda: _Zlib(16 + zlib.MAX_WBITS), "x-gzip": lambda: _Zlib(16 + zlib.MAX_WBITS),
    "deflate": lambda: _Zlib(zlib.MAX_WBITS), "br": _Brotli, "zstd": _Zstd,
}


def decoder_for(coding: str) -> Decoder:
    """A fresh streaming decoder for one ``Content-Encoding`` token, or :class:`UndecodableBody`."""
    if coding not in DECODERS:
        raise UndecodableBody(f"the response has Content-Encoding {coding!r}, which the harness has no decoder for "
                              f"(it decodes {', '.join(DECODERS)}; it offered {CLIENT_HEADERS[0][1]!r}): its bytes "
                              "cannot be compared, so this is an error of the harness, not a verdict on the stack")
    try:
        return DECODERS[coding]()
    except ImportError as exc:
        raise UndecodableBody(f"the response has Content-Encoding {coding}, but the library that decodes it is not "
                              f"installed ({exc}); install fastapi-stream-harness with its dependencies, or offer "
                              "less with --accept-encoding") from None


def decode_trace(trace: Trace) -> Trace:
    """``trace`` with its body messages decoded, or ``trace`` itself when nothing is encoded."""
    values = [v.decode("latin-1").strip().lower() for v in trace.header_values("content-encoding")]
    codings = [c.strip() for v in values for c in v.split(",") if c.strip() and c.strip() != "identity"]
    if not codings:
        return trace
    if len(codings) != 1:
        raise UndecodableBody(f"the response has Content-Encoding {', '.join(codings)} (several codings stacked); the "
                              "harness decodes one: an error of the harness, not a verdict on the stack")
    decoder = decoder_for(codings[0])
    events, wire, plain = [], 0, 0
    try:
        for event in trace.events:
            if isinstance(event, BodyChunk):
                data = decoder.feed(event.data)
                if not event.more_body:
                    data += decoder.end()
                wire, plain = wire + len(event.data), plain + len(data)
                event = BodyChunk(event.t, data, event.more_body)
            events.append(event)
    except Exception as exc:  # zlib.error, brotli.error, zstandard.ZstdError, ...
        raise UndecodableBody(f"the response's Content-Encoding {codings[0]} body could not be decoded after {wire} "
                              f"bytes ({type(exc).__name__}: {exc}): an error of the harness, not a verdict on the "
                              "stack") from None
    note = (f"the body was decoded from Content-Encoding {codings[0]} before comparing bytes "
            f"({wire} bytes sent, {plain} decoded)")
    return dataclasses.replace(trace, events=tuple(events), decoded=note)
