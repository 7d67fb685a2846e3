"""``stream-harness new-scenario NAME``: write a commented starting file for a contributor."""

from __future__ import annotations

import argparse
import keyword
from pathlib import Path

from ..errors import UsageError
from . import command


def configure(new: argparse.ArgumentParser) -> None:
    new.add_argument("name", help="the scenario's name, lower-case kebab-case (my-payload)")
    new.add_argument("--dir", type=Path, default=Path("scenarios"), metavar="DIR",
                     help="where to write it (default: scenarios)")


SCAFFOLD = '''"""{name}: say in one sentence what this payload is and which promise of the page it stresses."""

from harness import scenario

{ident} = scenario(
    "{name}",
    description="What a reader of the matrix should know about this payload.",
    # The chunks, in order: all str or all bytes (the page allows no other type). Every variant
    # yields them; str ones are sent UTF-8 encoded, and a bytes-only payload makes the str axis n/a.
    # For a big payload pass a factory instead: a function returning a fresh iterable each call.
    chunks=[b"first chunk\\n", b"second chunk\\n", b"third chunk\\n"],
    # How the route gets them, inside its `with` block: "list" (an object iterated chunk by chunk),
    # "file-like" (an in-memory file iterated line by line: then the chunks must be its lines),
    # "file" (a real file on disk read in blocks) or "generator" (the factory's own iterator).
    source="list",
    # The media_type of the StreamingResponse subclass the `subclass` variants use.
    media_type="application/octet-stream",
    # Optional: block_s=0.001 makes a slow producer (each chunk takes that long); checks=[...] and
    # variants=["annotation=none"] restrict a heavy scenario; expect=[expect("check", "outcome",
    # reason="...")] records where this payload legitimately differs; deadline_s bounds each request.
)
'''


@command("new-scenario", "write a commented starting file for a new scenario", configure)
def new_scenario(args: argparse.Namespace) -> int:
    from ..scenarios import NAME_PATTERN, load_scenarios

    ident = args.name.replace("-", "_")
    if not NAME_PATTERN.match(args.name) or not ident.isidentifier() or keyword.iskeyword(ident):
        raise UsageError(f"new-scenario {args.name!r}: expected a lower-case kebab-case name that starts with a "
                         "letter and is not a Python keyword, such as 'my-payload'")
    path = args.dir / f"{args.name.replace('-', '_')}.py"
    if path.exists():
        raise UsageError(f"{path} already exists: choose another name or edit that file")

    if args.dir.is_dir() and args.name in load_scenarios([args.dir]).scenarios:
        raise UsageError(f"a scenario named {args.name!r} already exists in {args.dir}")
    args.dir.mkdir(parents=True, exist_ok=True)
    from ..reports import atomic_write

    atomic_write(path, SCAFFOLD.format(name=args.name, ident=ident).encode())
    print(f"wrote {path}\nrun it:  stream-harness run --scenario {args.name}"
          + ("" if args.dir == Path("scenarios") else f" --scenarios-dir {args.dir}"))
    return 0


