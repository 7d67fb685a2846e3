"""Resident memory of the current process, from ``/proc/self/status`` (Linux).

The peak (``VmHWM``) can be reset by writing ``5`` to ``/proc/self/clear_refs``, so one request's
peak is measured from its own start: the server process's memory is the app's, not the harness's
(which holds every received byte), so that is where a framework that buffers a stream whole shows.
"""

from __future__ import annotations

__all__ = ["reset_peak", "resident", "peak"]


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Start a new peak from the current resident size; False where the system cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def resident() -> int | None:
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak() -> int | None:
    kib = _status_kib("VmHWM")
    return None if kib is None else kib * 1024
