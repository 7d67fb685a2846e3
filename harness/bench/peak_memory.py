"""Peak memory growth of a process while it streams a file through a variant.

Run in a fresh subprocess (``python -m harness.bench.peak_memory``) so nothing else the harness did counts:
it builds the app, resets the kernel's peak-RSS mark (``/proc/self/clear_refs`` <- 5), notes the RSS,
streams the whole file in-process through the tight driver, then reads the peak (``VmHWM``). Growth =
peak - RSS before. A bound on it is a memory bound, not a timing: it holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..engines import rss
from ..errors import HarnessError

__all__ = ["Growth", "measure", "main"]

DEADLINE_S = 300.0


@dataclass(frozen=True)
class Growth:
    key: str
    source: str
    streamed_bytes: int
    rss_before_kib: int
    peak_kib: int

    @property
    def growth_mib(self) -> float:
        return max(0, self.peak_kib - self.rss_before_kib) / 1024


def _kib(read) -> int:
    value = read()
    if value is None:
        raise HarnessError("/proc/self/status cannot be read: cannot measure memory here")
    return value // 1024


def _probe(key: str, source_kind: str, path: str) -> dict:
    from .apps import build_app
    from .drive import InProcess
    from .sources import FileChunks, WholeFile

    source = FileChunks(path) if source_kind == "chunks" else WholeFile(path)
    app, driver = build_app(key, source), InProcess()
    driver.request(build_app(key, FileChunks(__file__)))  # warm: imports, worker threads, first-call caches
    if not rss.reset_peak():  # VmHWM back to the current RSS
        raise HarnessError("/proc/self/clear_refs cannot be written: cannot measure a peak here")
    before = _kib(rss.resident)
    got = driver.request(app)
    peak = _kib(rss.peak)
    driver.close()
    if got.status != 200 or not got.ended:
        raise HarnessError(f"{key}: the response did not complete (status {got.status}, ended {got.ended})")
    return {"key": key, "source": source_kind, "streamed_bytes": got.bytes, "rss_before_kib": before,
            "peak_kib": peak}


def measure(key: str, path: Path, source_kind: str = "chunks") -> Growth:
    """Stream ``path`` through ``key`` in a fresh interpreter and return its peak RSS growth."""
    proc = subprocess.run([sys.executable, "-m", "harness.bench.peak_memory", key, str(path), "--source", source_kind],
                          capture_output=True, text=True, timeout=DEADLINE_S)
    if proc.returncode != 0:
        raise HarnessError(f"memory probe for {key} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return Growth(**json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench.peak_memory", description=__doc__)
    parser.add_argument("key", help="raw, starlette or a variant id")
    parser.add_argument("file", help="the file to stream")
    parser.add_argument("--source", choices=["chunks", "whole"], default="chunks",
                        help="64 KiB chunks (default), or the whole file as one chunk (the buffering control)")
    args = parser.parse_args(argv)
    print(json.dumps(_probe(args.key, args.source, args.file)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
