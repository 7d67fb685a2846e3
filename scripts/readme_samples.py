"""The README's sample outputs, produced from real runs.

A sample in README.md is a fenced block right after a marker line naming the command it shows::

    <!-- sample: run --app examples.apps.clean:app --scenario png --no-write -->
    ```
    $ stream-harness run --app examples.apps.clean:app --scenario png --no-write
    ...
    ```

``python scripts/readme_samples.py`` runs every marked command (in-process, 100 columns, no colour)
and rewrites its block with an excerpt of the output: the legend, the first matrix block's header
and first rows, then everything after the matrix. ``--check`` only compares, and exits 1 naming
the samples that drifted; ``tests/test_readme_samples.py`` does the same comparison on structure:
timings, the Python version and the run's folder names are not compared.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- sample: (?P<args>.+?) -->\n```[a-z]*\n(?P<body>.*?)^```$", re.M | re.S)
GROUP = re.compile(r"^\S.* \[[^\]]+\] +[a-z ]+( +via \S+)?$")  # "png [asgi]   a b c d   via app:x"
ROWS = 3  # matrix rows kept in a sample


@dataclass(frozen=True)
class Sample:
    args: str  # the command line after `stream-harness`
    body: str  # what the README shows now
    start: int
    end: int


def samples(text: str) -> list[Sample]:
    return [Sample(m.group("args"), m.group("body"), m.start("body"), m.end("body")) for m in MARKER.finditer(text)]


def run(args: str) -> str:
    """The command's standard output, as a reader's terminal of 100 columns shows it without colour."""
    from harness.cli import main

    saved = {k: os.environ.get(k) for k in ("COLUMNS", "NO_COLOR")}
    os.environ.update(COLUMNS="100", NO_COLOR="1")
    out, cwd = io.StringIO(), os.getcwd()
    os.chdir(ROOT)  # the repository's expectations.toml and folders, as a reader of the README runs it
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            main(shlex.split(args))
    finally:
        os.chdir(cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out.getvalue()


def excerpt(output: str, rows: int = ROWS) -> str:
    """The legend, the first matrix block cut to ``rows`` rows, then every block after the matrix."""
    blocks = [b for b in output.strip("\n").split("\n\n")]
    kept, matrix_seen = [], False
    for block in blocks:
        lines = block.splitlines()
        if lines and GROUP.match(lines[0]):
            if not matrix_seen:
                kept.append("\n".join(lines[:1 + rows] + (["  ..."] if len(lines) > 1 + rows else [])))
            matrix_seen = True
            continue
        kept.append(block)
    return "\n\n".join(kept)


def render(sample: Sample) -> str:
    return f"$ stream-harness {sample.args}\n{excerpt(run(sample.args))}\n"


_MEASURED = re.compile(r"^(loop lag total|\s*\d+ \|)")  # latency lines: every figure there is a measurement


def normalize(text: str) -> str:
    """What a drift is judged on: the structure and the counts. Timings, measured latency figures,
    which scenarios were slowest, the Python version and where the expectations file stands (its size,
    an entry's line) are left out: recording a deviation must not make every sample drift."""
    lines = []
    for line in text.strip().splitlines():
        if _MEASURED.match(line):
            line = " ".join(re.sub(r"\d+(\.\d+)?", "<n>", line).split())  # figures and their padding
        line = re.sub(r"\d+(\.\d+)? (s|ms)\b", "<time>", line)
        line = re.sub(r"\(expectations\.toml, \d+ entries\)", "(expectations.toml, <n> entries)", line)
        line = re.sub(r"expectations\.toml:\d+", "expectations.toml:<line>", line)
        if line.startswith("slowest scenarios: "):  # which ones are slowest is itself a measurement
            line = "slowest scenarios: <measured>"
        lines.append(re.sub(r"Python \S+", "Python <version>", line).rstrip())
    return "\n".join(lines)


def fastapi_of(body: str) -> str | None:
    """The FastAPI version a sample was made with (its summary line), if it shows one."""
    m = re.search(r"^FastAPI (\S+) ·", body, re.M)
    return m.group(1) if m else None


def main(argv: list[str]) -> int:
    check = "--check" in argv
    text = README.read_text("utf-8")
    found = samples(text)
    drifted = []
    for sample in reversed(found):  # from the end, so the offsets of the earlier ones stay valid
        fresh = render(sample)
        if normalize(fresh) != normalize(sample.body):
            drifted.append(sample.args)
        text = text[:sample.start] + fresh + text[sample.end:]  # written: today's real output, timings too
    if check:
        for args in drifted:
            print(f"README sample drifted: stream-harness {args}", file=sys.stderr)
        return 1 if drifted else 0
    README.write_text(text, "utf-8")
    print(f"{len(found)} sample(s) written, {len(drifted)} of them had drifted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
