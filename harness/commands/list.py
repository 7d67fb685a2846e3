"""``stream-harness list``: what can be selected (scenarios, checks, claims, axes, variants, engines),
in whole sentences of plain text, aligned, wrapped at the terminal's width."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path

from . import command

WHAT = ["scenarios", "checks", "claims", "axes", "variants", "engines"]


def configure(lst: argparse.ArgumentParser) -> None:
    lst.add_argument("what", nargs="?", choices=WHAT, default=None, help="list only this (default: all but variants)")
    lst.add_argument("--scenarios-dir", action="append", type=Path, metavar="DIR",
                     help="add the scenarios of this folder to the built-in ones (repeatable)")
    lst.add_argument("--no-builtin-scenarios", action="store_true", help="list only the scenarios of --scenarios-dir")


def first_paragraph(doc: str) -> str:
    """A docstring's first paragraph as one plain sentence (or several), never cut."""
    from ..claims import plain

    para = " ".join(doc.strip().split("\n\n")[0].split())
    para = plain(para)
    return para if not para or para.endswith((".", ":", "!", "?", ")")) else para + "."


SOURCES = {"list": "a list", "file-like": "an in-memory file", "file": "a file on disk", "generator": "a generator"}


def sentence(text: str) -> str:
    """One line, ending as a sentence ends (the case is the author's: ``b""`` stays as written)."""
    text = " ".join(text.split())
    return text + ("" if not text or text.endswith((".", "!", "?")) else ".")


def block(name: str, head: str, body: str, indent: int, width: int) -> list[str]:
    """``name`` padded to ``indent``, ``head`` after it, then ``body`` below the head: both wrapped
    at ``width`` and aligned in one column."""
    pad = " " * indent
    label = f"  {name}".ljust(indent)
    lines = [] if len(label) <= indent else [label.rstrip()]
    lines += textwrap.wrap(head, width=width, initial_indent=pad if lines else label, subsequent_indent=pad,
                           break_on_hyphens=False)
    if body:
        lines += textwrap.wrap(body, width=width, initial_indent=pad, subsequent_indent=pad,
                               break_on_hyphens=False)
    return lines


@command("list", "list scenarios, checks, claims, axes and engines", configure)
def list_(args: argparse.Namespace) -> int:
    from ..checks import registry
    from ..claims import load_claims, plain
    from ..engines import engine_names
    from ..options import Selection
    from ..scenarios import load_scenarios
    from ..variants import AXES, all_variants

    width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    what = args.what
    out: list[str] = []
    claims = load_claims()
    if what in (None, "scenarios"):
        selection = Selection(scenarios_dirs=list(args.scenarios_dir or []),
                              builtin_scenarios=not args.no_builtin_scenarios)
        folders = selection.scenario_folders()
        loaded = load_scenarios(folders)
        from ..reports.terminal import shown_path
        out.append(f"scenarios (from {', '.join(shown_path(str(f)) for f in folders)}):")
        indent = max([len(n) for n in loaded.scenarios] + [16]) + 5
        for sc in loaded.scenarios.values():
            n, kind = len(sc.chunks), "str" if sc.is_text else "bytes"
            head = (f"{n} {kind} chunk{'s' if n != 1 else ''} from {SOURCES.get(sc.source, sc.source)}; "
                    f"a subclass sends {sc.media_type}")
            out += block(sc.name, head, sentence(plain(sc.description)), indent, width)
        for err in loaded.errors:
            out += textwrap.wrap(f"error: {err.message}", width=width, initial_indent="  ", subsequent_indent="    ")
    if what in (None, "checks"):
        out += ["" if out else "", "checks (Cn: the claims each verifies, listed under \"claims\"):"]
        by_check: dict[str, list[str]] = {}
        for c in claims:
            for name in c.verified_by:
                by_check.setdefault(name, []).append(c.id)
        checks = registry().values()
        indent = max(len(c.name) for c in checks) + 5
        for c in checks:
            ids = " ".join(by_check.get(c.name, [])) or "no claim id"
            out += block(c.name, f"{ids}, under {c.claim}", first_paragraph(c.doc), indent, width)
    if what in (None, "claims"):
        out += ["", "claims (docs/claims.md: what the page promises, in our words, and what verifies it):"]
        section = None
        for c in claims:
            if c.section != section:
                section = c.section
                out.append(f"  {section}")
            out += block(f"  {c.id}", c.anchor, sentence(c.promise), 10, width)
    if what in (None, "axes"):
        out += ["", "axes (select with --variant AXIS=VALUE):"]
        values = max(len(" | ".join(a.values)) for a in AXES) + 2
        for a in AXES:  # the values stay on one line (no-break spaces while wrapping)
            text = f"{' | '.join(a.values):<{values}}".replace(" ", "\xa0") + sentence(plain(a.help))
            out += [line.replace("\xa0", " ") for line in textwrap.wrap(
                text, width=width, initial_indent=f"  {a.name:<12}", subsequent_indent=" " * (14 + values))]
    if what == "variants":
        for v in all_variants():
            out.append(f"  {v.id:<38}{sentence(v.na_reason) if v.na_reason else ''}")
    if what in (None, "engines"):
        out += [""] + textwrap.wrap("engines (select with --engine NAME, or all): " + ", ".join(engine_names()) + ".",
                                    width=width, subsequent_indent="  ")
    print("\n".join(line.rstrip() for line in out).lstrip("\n"))
    return 0
