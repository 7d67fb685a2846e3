"""Scenarios: a payload, how it is produced, and what a response class must say about it.

File convention: every ``*.py`` file in a scenarios folder (``scenarios/`` in this repository,
shipped as ``harness.builtin_scenarios``) that does not start with ``_`` is imported, and every
:class:`Scenario` it defines at module level is registered. A file that fails to import or to
validate is reported as a load error naming the file; the other files still load.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import io
import itertools
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

from .errors import ScenarioError, UsageError
from .expectations import Expectation
from .payload_files import FILE_BLOCKS, payload_file
from .outcomes import Outcome
from .probes import MARKS, SOURCE_KINDS, LockStep, Marks, open_resource
from .trace import Recorder
from .variants import Variant, VariantFilter

__all__ = ["Scenario", "scenario", "expect", "Expectation", "LoadError", "ScenarioSet", "load_scenarios",
           "builtin_dir", "scenario_folders"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PAGE_SAMPLES = ("story", "png")
# the sibling pages' samples (JSON Lines and Server-Sent Events: forms/samples.py)
ITEM_PAGE_SAMPLES = ("items", "priced-items", "logs", "chat")
ITEM_FORMS = ("jsonl", "sse")
# How many chunks of a factory are compared when it is opened twice at declaration (the whole payload
# is materialised only when a check first needs it: a 64 MiB scenario must not slow every import).
_PROBE_CHUNKS = 8

Chunks = Union[Sequence[str], Sequence[bytes]]
ChunkFactory = Callable[[], Iterable[Union[str, bytes]]]


def expect(check: str, outcome: str, *, reason: str, engine: str = "*", variant: str = "*") -> Expectation:
    """Say that ``check`` legitimately comes out ``outcome`` for this scenario, and why.

    The same record an ``expectations.toml`` entry makes (:class:`harness.expectations.Expectation`),
    scoped to the scenario that declares it; the session judges results against both, the file's
    entries last (so the gate file can override a scenario's word). ``engine`` and ``variant`` are
    globs (``*`` matches everything). A result that matches is still reported as what it is, with
    this reason beside it, and does not fail the run."""
    caller = inspect.stack()[1]
    where = f"{caller.filename}:{caller.lineno}"
    file, line = caller.filename, caller.lineno
    if not isinstance(check, str) or not check:
        raise _fail(file, line, "expect.check", "a check name", check)
    try:
        parsed = Outcome(outcome)
    except ValueError:
        raise _fail(file, line, "expect.outcome", f"one of {', '.join(o.value for o in Outcome)}", outcome) from None
    if not isinstance(reason, str) or not reason.strip():
        raise _fail(file, line, "expect.reason", "a sentence saying why this scenario differs", reason)
    for name, value in (("expect.engine", engine), ("expect.variant", variant)):
        if not isinstance(value, str) or not value:
            raise _fail(file, line, name, "a glob such as '*' or 'def-*'", value)
    return Expectation(check, parsed, reason.strip(), engine=engine, variant=variant, source=where)


@dataclass(frozen=True)
class Scenario:
    """One payload. Build it with :func:`scenario`, which validates and records where it was written."""

    name: str
    description: str
    factory: ChunkFactory  # a fresh iterable of the chunks at every call
    source: str = "list"
    media_type: str = "application/octet-stream"
    page_sample: str | None = None
    deadline_s: float = 10.0
    file: str = "<unknown>"
    line: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    block_s: float = 0.0  # each chunk's read blocks this long (a blocking file read)
    checks: tuple[str, ...] = ()  # when set, only these checks apply; the others are n/a
    variants: tuple[str, ...] = ()  # when set, a --variant style selection; the other variants are n/a
    engines: tuple[str, ...] = ()  # when set, only these engines run it; on the others it is n/a
    expectations: tuple[Expectation, ...] = ()
    is_text: bool = False
    forms: tuple[str, ...] = ("raw",)  # raw: chunks; jsonl / sse: the payload is items (``items=``)
    status_code: int = 200  # the status code the routes declare (JSON Lines and SSE routes)

    @property
    def has_items(self) -> bool:
        return self.forms != ("raw",)

    @property
    def chunks(self) -> tuple[str, ...] | tuple[bytes, ...]:
        """Every chunk, in order: what the checks compare with. Materialised once, on first use."""
        cached = self.__dict__.get("_chunks")
        if cached is None:
            cached = tuple(self.factory())
            bad = next((c for c in cached if type(c) is not (str if self.is_text else bytes)), None)
            if bad is not None and not self.has_items:
                raise _fail(self.file, self.line, "chunks", f"only {'str' if self.is_text else 'bytes'} chunks "
                            "from the factory", f"an element of type {type(bad).__name__}")
            object.__setattr__(self, "_chunks", cached)
        return cached

    def release(self) -> None:
        """Forget the materialised chunks (the next use makes them again from the factory)."""
        self.__dict__.pop("_chunks", None)

    def check_na_reason(self, check_name: str) -> str | None:
        if self.checks and check_name not in self.checks:
            return f"scenario {self.name!r} is for {', '.join(self.checks)} only"
        return None

    def engine_na_reason(self, engine: str) -> str | None:
        if self.engines and engine not in self.engines:
            return f"scenario {self.name!r} runs on {', '.join(self.engines)} only"
        return None

    def chunks_as(self, chunk_type: str) -> list[str] | list[bytes]:
        """The chunks as a variant of ``chunk`` axis value ``chunk_type`` yields them."""
        if chunk_type == "str":
            return list(self.chunks)
        return [c.encode("utf-8") if isinstance(c, str) else c for c in self.chunks]

    @property
    def wire_chunks(self) -> list[bytes]:
        """What each chunk must be on the wire: ``str`` is sent UTF-8 encoded (C6)."""
        return self.chunks_as("bytes")

    def na_reason(self, variant: Variant) -> str | None:
        if variant.form not in self.forms:
            return f"scenario {self.name!r} is for the {'/'.join(self.forms)} form(s), not {variant.form}"
        if variant.na_reason:
            return variant.na_reason
        if self.has_items:
            if self.variants and not variant.is_page and not VariantFilter(list(self.variants))(variant):
                return f"scenario {self.name!r} runs only the variants {' '.join(self.variants)}"
            return None
        if variant.axis["chunk"] == "str" and not self.is_text:
            return f"scenario {self.name!r} is binary: it has no str form"
        if self.variants and not variant.is_page and not VariantFilter(list(self.variants))(variant):
            return (f"scenario {self.name!r} runs only the variants {' '.join(self.variants)} "
                    "(a heavy payload; the other axes are covered by the lighter scenarios)")
        return None

    def open(self, chunk_type: str, recorder: Recorder, gate: LockStep):
        """Open the instrumented resource a route iterates inside its ``with`` block (``MARKS``: the
        request's :class:`Marks`, for the code around the route)."""
        if chunk_type == MARKS:
            return Marks(recorder, gate)
        if self.has_items:  # chunk_type is the variant's item kind (data, event, raw)
            from .forms.items import open_items

            return open_items(self, chunk_type, recorder, gate)
        if self.source == "generator":  # produced on the fly: the route never sees a list
            encode = chunk_type == "bytes" and self.is_text
            chunks = (lambda: (c.encode() for c in self.factory())) if encode else self.factory
        elif self.source == "file":

            chunks = payload_file(self)
        else:
            chunks = self.chunks_as(chunk_type)
        return open_resource(self.source, chunks, str if chunk_type == "str" else bytes, recorder, gate, self.block_s)


def _fail(file: str, line: int | None, field_: str, expected: str, seen: object = None) -> ScenarioError:
    return ScenarioError(file, field_, expected, seen, line)



def blocks_of_one_size(chunks: Sequence[bytes]) -> bool:
    size = len(chunks[0])
    return all(len(c) == size for c in chunks[:-1]) and 0 < len(chunks[-1]) <= size


def _probe_factory(file: str, line: int, chunks: object) -> tuple[ChunkFactory, list[object]]:
    """A factory must give a fresh iterable each call (every request opens the source anew): call it
    twice and compare the first chunks. Returns the factory and the chunks seen first."""
    if isinstance(chunks, (str, bytes)) or (not isinstance(chunks, Sequence) and not callable(chunks)):
        hint = (" (a generator or iterator can be iterated only once: pass a list, or a function that "
                "returns a fresh one each call)") if isinstance(chunks, Iterable) else ""
        raise _fail(file, line, "chunks", "a list of str, a list of bytes, or a factory returning a fresh "
                    "iterable of them" + hint, type(chunks).__name__)
    if not callable(chunks):
        frozen = tuple(chunks)
        return (lambda: frozen), list(frozen)
    firsts = []
    for attempt in ("first", "second"):
        try:
            made = chunks()
            firsts.append((made, list(itertools.islice(iter(made), _PROBE_CHUNKS))))
        except Exception as exc:
            raise _fail(file, line, "chunks", f"a factory that can be called (its {attempt} call raised "
                        f"{type(exc).__name__}: {exc})") from None
    (one, a), (two, b) = firsts
    if isinstance(one, (str, bytes)) or not isinstance(one, Iterable):
        raise _fail(file, line, "chunks", "a factory returning an iterable of chunks", type(one).__name__)
    if one is two or a != b:
        raise _fail(file, line, "chunks", "a source that can be opened twice: a factory returning a fresh "
                    "iterable with the same chunks at each call (every request opens the source anew)",
                    "the same object twice" if one is two else f"{len(a)} then {len(b)} differing first chunks")
    for made, _ in firsts:
        close = getattr(made, "close", None)
        if callable(close):
            close()
    return chunks, a


def scenario(name: str, *, chunks: Chunks | ChunkFactory | None = None, items: Sequence[object] | None = None,
             forms: Sequence[str] | None = None, status_code: int = 200, description: str = "",
             source: str = "list", media_type: str = "application/octet-stream",
             page_sample: str | None = None, deadline_s: float = 10.0,
             tags: Sequence[str] = (), block_s: float = 0.0, checks: Sequence[str] = (),
             variants: Sequence[str] = (), engines: Sequence[str] = (),
             expect: Sequence[Expectation] = ()) -> Scenario:
    """Declare a scenario; every field is checked here so a mistake is named where it was made.

    ``chunks`` is a list, or a factory (a function returning a fresh iterable each call) for payloads
    too big to write out or produced on the fly. ``source`` says how the route gets them: ``list``,
    ``file-like`` (an in-memory file), ``file`` (a real file on disk read in blocks) or ``generator``
    (the factory's iterator itself, never held whole). ``block_s`` makes the producer slow.

    ``items`` instead of ``chunks``: JSON-able values (dicts with ``name`` and ``description`` for the
    generated variants, which declare the page's ``Item``) that the JSON Lines and SSE variants yield
    (``forms``, default both); ``status_code`` is what their routes declare.
    """
    caller = inspect.stack()[1]
    file, line = caller.filename, caller.lineno
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _fail(file, line, "name", "a lower-case kebab-case string such as 'my-payload'", name)
    if items is not None:
        return _item_scenario(file, line, name, items, forms, status_code, description, page_sample, deadline_s,
                              tags, block_s, checks, variants, engines, expect)
    if chunks is None:
        raise _fail(file, line, "chunks", "chunks= (a list or a factory), or items= for JSON Lines / SSE")
    factory, first = _probe_factory(file, line, chunks)
    kinds = {type(c) for c in first} or {bytes}  # no chunk at all is a valid, empty stream
    if not kinds <= {str, bytes} or len(kinds) != 1:
        bad = next((c for c in first if not isinstance(c, (str, bytes))), None)
        what = f"an element of type {type(bad).__name__}" if bad is not None else "a mix of str and bytes"
        raise _fail(file, line, "chunks", "only str or only bytes elements (the page allows no other type)", what)
    is_text = str in kinds
    if source not in SOURCE_KINDS:
        raise _fail(file, line, "source", f"one of {', '.join(SOURCE_KINDS)}", source)
    if source == "file-like":
        joined = "".join(first) if is_text else b"".join(first)
        lines = list((io.StringIO(joined, newline="") if is_text else io.BytesIO(joined)))
        if callable(chunks) or lines != list(first):
            raise _fail(file, line, "chunks", "for source='file-like', a list of exactly the lines of the joined "
                        "data (a file object yields lines)", "a factory" if callable(chunks)
                        else f"{len(first)} chunks vs {len(lines)} lines")
    if source == "file" and (is_text or not first or not blocks_of_one_size(first)):
        raise _fail(file, line, "chunks", FILE_BLOCKS, [len(c) for c in first])
    if source == "generator" and not callable(chunks):
        raise _fail(file, line, "chunks", "for source='generator', a factory (a function returning a fresh "
                    "iterator): the route produces the chunks on the fly", type(chunks).__name__)
    if not isinstance(media_type, str) or not media_type or any(c in media_type for c in "\r\n"):
        raise _fail(file, line, "media_type", "a non-empty single-line string such as 'image/png'", media_type)
    if page_sample is not None and page_sample not in PAGE_SAMPLES:
        raise _fail(file, line, "page_sample", f"None or one of {', '.join(PAGE_SAMPLES)}", page_sample)
    if not isinstance(deadline_s, (int, float)) or deadline_s <= 0:
        raise _fail(file, line, "deadline_s", "a positive number of seconds", deadline_s)
    if not isinstance(block_s, (int, float)) or not 0 <= block_s <= 1:
        raise _fail(file, line, "block_s", "seconds a chunk's read blocks, from 0 to 1", block_s)
    if block_s and source == "file-like":
        raise _fail(file, line, "block_s", "a source other than 'file-like' (an in-memory file does not block)",
                    source)
    _check_limits(file, line, checks, variants, engines, tags, expect)
    sc = Scenario(name=name, description=description, factory=factory, source=source,
                  media_type=media_type, page_sample=page_sample, deadline_s=float(deadline_s),
                  file=file, line=line, tags=tuple(tags), block_s=float(block_s), checks=tuple(checks),
                  variants=tuple(variants), engines=tuple(engines), expectations=tuple(dataclasses.replace(e, scenario=name) for e in expect), is_text=is_text)
    if not callable(chunks):
        object.__setattr__(sc, "_chunks", tuple(first))
    return sc


def _check_limits(file, line, checks, variants, engines, tags, expect) -> None:
    """The fields every kind of scenario shares: its limits (checks, variants, engines), tags and
    expectations, each named with file, line and what was expected."""
    for field_, value in (("checks", checks), ("variants", variants), ("engines", engines), ("tags", tags)):
        if isinstance(value, str) or not all(isinstance(c, str) and c for c in value):
            raise _fail(file, line, field_, "a list of names", value)
    try:
        VariantFilter(list(variants))
    except UsageError as exc:
        raise _fail(file, line, "variants", "selections as --variant takes them (axis=value or an id glob)",
                    str(exc)) from None
    if isinstance(expect, Expectation) or not all(isinstance(e, Expectation) for e in expect):
        raise _fail(file, line, "expect", "a list of harness.expect(...) entries", expect)


def _item_scenario(file, line, name, items, forms, status_code, description, page_sample, deadline_s, tags,
                   block_s, checks, variants, engines, expect) -> Scenario:
    """A scenario of items for the JSON Lines and SSE forms, validated field by field."""
    import json

    if isinstance(items, (str, bytes, dict)) or not isinstance(items, Sequence):
        raise _fail(file, line, "items", "a list of JSON-able values", type(items).__name__)
    for i, item in enumerate(items):
        try:
            json.dumps(item)
        except (TypeError, ValueError) as exc:
            raise _fail(file, line, f"items[{i}]", "a JSON-able value (dict, list, str, number, bool, None)",
                        f"{type(item).__name__} ({exc})") from None
    forms = tuple(forms) if forms is not None else ITEM_FORMS
    if not forms or any(f not in ITEM_FORMS for f in forms):
        raise _fail(file, line, "forms", f"a list of {', '.join(ITEM_FORMS)}", list(forms))
    if not isinstance(status_code, int) or not 200 <= status_code < 300 or status_code in (204, 205):
        raise _fail(file, line, "status_code", "a 2xx status code that allows a body", status_code)
    if page_sample is not None and page_sample not in ITEM_PAGE_SAMPLES:
        raise _fail(file, line, "page_sample", f"None or one of {', '.join(ITEM_PAGE_SAMPLES)}", page_sample)
    if not isinstance(deadline_s, (int, float)) or deadline_s <= 0:
        raise _fail(file, line, "deadline_s", "a positive number of seconds", deadline_s)
    if not isinstance(block_s, (int, float)) or not 0 <= block_s <= 1:
        raise _fail(file, line, "block_s", "seconds a chunk's read blocks, from 0 to 1", block_s)
    _check_limits(file, line, checks, variants, engines, tags, expect)
    frozen = tuple(items)
    sc = Scenario(name=name, description=description, factory=lambda: frozen, source="list",
                  media_type="", page_sample=page_sample, deadline_s=float(deadline_s), file=file, line=line,
                  tags=tuple(tags), block_s=float(block_s), checks=tuple(checks), variants=tuple(variants),
                  engines=tuple(engines), expectations=tuple(dataclasses.replace(e, scenario=name) for e in expect),
                  forms=forms, status_code=status_code)
    object.__setattr__(sc, "_chunks", frozen)
    return sc


@dataclass(frozen=True)
class LoadError:
    """A scenario file that could not be loaded: reported, never hiding the other files."""

    file: str
    message: str


@dataclass
class ScenarioSet:
    scenarios: dict[str, Scenario]
    errors: list[LoadError]

    def select(self, names: list[str] | None) -> list[Scenario]:
        if not names:
            return list(self.scenarios.values())
        unknown = [n for n in names if n not in self.scenarios]
        if unknown:
            raise UsageError(f"unknown scenario {', '.join(map(repr, unknown))}; "
                             f"scenarios are: {', '.join(self.scenarios) or '(none loaded)'}")
        return [self.scenarios[n] for n in names]


def builtin_dir() -> Path:
    """Where the shipped scenarios live (``scenarios/`` of the repo, ``harness.builtin_scenarios`` installed)."""
    spec = importlib.util.find_spec("harness.builtin_scenarios")
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "scenarios"


def scenario_folders(extra: Sequence[Path] = (), builtin: bool = True) -> list[Path]:
    """The folders a run loads: the built-in scenarios, then a team's own (``--scenarios-dir`` adds a
    folder; ``--no-builtin-scenarios`` leaves the built-ins out), each once."""
    folders = ([builtin_dir()] if builtin else []) + [Path(d) for d in extra]
    unique: dict[Path, Path] = {}
    for d in folders:
        unique.setdefault(d.resolve(), d)
    return list(unique.values())


def scenario_files(dirs: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"scenarios folder {str(d)!r} does not exist or is not a folder")
        files += sorted(p for p in d.glob("*.py") if not p.name.startswith("_"))
    return files


def _import_file(path: Path) -> dict[str, object]:
    mod_name = f"_stream_harness_scenario_{abs(hash(str(path.resolve())))}_{path.stem.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return vars(module)


def load_scenarios(dirs: Sequence[Path] | None = None) -> ScenarioSet:
    """Import every scenario file of ``dirs`` (default: the built-in folder), in order; collect what
    loads and what does not. A name declared twice is an error naming both files."""
    found: dict[str, Scenario] = {}
    errors: list[LoadError] = []
    for path in scenario_files(list(dirs) if dirs else [builtin_dir()]):
        try:
            namespace = _import_file(path)
        except ScenarioError as exc:
            errors.append(LoadError(str(path), str(exc)))
            continue
        except Exception as exc:  # a contributor's file may fail in any way; name it and go on
            tb = traceback.extract_tb(exc.__traceback__)
            line = next((f.lineno for f in reversed(tb) if f.filename == str(path)), None)
            where = f"{path}:{line}" if line else str(path)
            errors.append(LoadError(str(path), f"{where}: the file failed to import: {type(exc).__name__}: {exc}"))
            continue
        declared = [v for v in namespace.values() if isinstance(v, Scenario)]
        if not declared:
            errors.append(LoadError(str(path), f"{path}: defines no scenario (call harness.scenario(...) "
                                               "at module level)"))
        for sc in declared:
            first = found.get(sc.name)
            if first is not None:  # the first one loaded (a built-in) stays: never replaced silently
                errors.append(LoadError(str(path), f"{path}:{sc.line}: scenario name {sc.name!r} is defined twice: "
                                                   f"in {first.file}:{first.line} and in {path}:{sc.line}; "
                                                   f"names must be unique (the one in {path.name} is not loaded: "
                                                   "rename it)"))
                continue
            found[sc.name] = sc
    return ScenarioSet(found, errors)
