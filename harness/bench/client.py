"""A raw HTTP/1.1 client on h11 that counts what arrives: the benchmarks' reader over a socket.

Unlike ``engines/wire.py`` it records no trace (one event per chunk would be timed too); it counts
bytes and chunks, stamps the first body byte, and keeps a deadline on every read.
"""

from __future__ import annotations

import socket
import time
import zlib

import h11

from ..errors import HarnessError
from .drive import Received

__all__ = ["Exchange", "fetch"]

RECV_BYTES = 256 * 1024


class Exchange:
    """One GET on its own connection, in phases: connect, send, read to the first byte, read the rest."""

    def __init__(self, port: int, path: str, deadline_s: float = 30.0, checked: bool = False) -> None:
        self.port, self.path, self.end = port, path, time.monotonic() + deadline_s
        self.conn = h11.Connection(h11.CLIENT)
        self.got = Received(checked=checked)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=deadline_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self) -> "Exchange":
        request = h11.Request(method="GET", target=self.path,
                              headers=[("Host", f"127.0.0.1:{self.port}"), ("Connection", "close")])
        self.sock.sendall(self.conn.send(request) + self.conn.send(h11.EndOfMessage()))
        return self

    def read(self, until_first_byte: bool = False) -> Received:
        got = self.got
        while not got.ended:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                left = self.end - time.monotonic()
                if left <= 0:
                    raise HarnessError(f"GET {self.path} on 127.0.0.1:{self.port}: no end within the deadline")
                self.sock.settimeout(left)
                self.conn.receive_data(self.sock.recv(RECV_BYTES))
            elif isinstance(event, h11.Response):
                got.status = event.status_code
            elif isinstance(event, h11.Data):
                if event.data:
                    if got.first_byte is None:
                        got.first_byte = time.perf_counter()
                    got.bytes += len(event.data)
                    if got.checked:
                        got.crc = zlib.crc32(event.data, got.crc)
                if event.chunk_end:
                    got.chunks += 1
                if until_first_byte and got.first_byte is not None:
                    return got
            elif isinstance(event, h11.EndOfMessage):
                got.ended = True
            elif isinstance(event, h11.ConnectionClosed):
                raise HarnessError(f"GET {self.path} on 127.0.0.1:{self.port}: connection closed before the end")
        return got

    def close(self) -> None:
        self.sock.close()


def fetch(port: int, path: str, checked: bool = False, deadline_s: float = 30.0) -> Received:
    """One whole GET: connect, send, read to the end, close."""
    exchange = Exchange(port, path, deadline_s, checked)
    try:
        return exchange.send().read()
    finally:
        exchange.close()
