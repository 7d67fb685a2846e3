"""Time a whole default in-process run on stock FastAPI (green) and on the repository's mutant
frameworks (red), for the README's "How long a run takes, green and red".

    python scripts/red_vs_green.py green buffers_then_sends_each reads_one_ahead drops_last_chunk merges_all_chunks

Each name is ``green`` or a route builder of ``tests/mutants.py``; one line per run: the time of
``Session.run``, its ratio to the first green run, and how many results failed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.mutants, from a checkout

from harness.options import GateOptions, Selection  # noqa: E402
from harness.outcomes import Outcome  # noqa: E402
from harness.routes import build_route  # noqa: E402
from harness.session import open_session  # noqa: E402
from tests import mutants  # noqa: E402


def timed(name: str) -> tuple[float, int]:
    session = open_session(Selection(), GateOptions())
    session.builder = build_route if name == "green" else getattr(mutants, name)
    t0 = time.monotonic()
    results, _ = session.run()
    return time.monotonic() - t0, sum(r.outcome is Outcome.FAIL for r in results)


def main(names: list[str]) -> None:
    green = None
    for name in names or ["green"]:
        took, fails = timed(name)
        green = took if green is None and name == "green" else green
        ratio = f"{took / green:.2f}x" if green else "-"
        print(f"{name:28s} {took:6.1f} s  {ratio:>6}  {fails} fail", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
