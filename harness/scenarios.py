"""Scenarios: a payload, how it is produced, and what a response class must say about it.

File convention: every ``*.py`` file in a scenarios folder (``scenarios/`` in this repository,
shipped as ``harness.builtin_scenarios``) that does not start with ``_`` is imported, and every
:class:`Scenario` it defines at module level is registered. A file that fails to import or to
validate is reported as a load error naming the file; the other files still load.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .errors import ScenarioError, UsageError
from .probes import SOURCE_KINDS, LockStep, open_resource
from .trace import Recorder
from .variants import Variant

__all__ = ["Scenario", "scenario", "LoadError", "ScenarioSet", "load_scenarios", "builtin_dir"]

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PAGE_SAMPLES = ("story", "png")


@dataclass(frozen=True)
class Scenario:
    """One payload. Build it with :func:`scenario`, which validates and records where it was written."""

    name: str
    description: str
    chunks: tuple[str, ...] | tuple[bytes, ...]
    source: str = "list"
    media_type: str = "application/octet-stream"
    page_sample: str | None = None
    deadline_s: float = 10.0
    file: str = "<unknown>"
    line: int | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    block_s: float = 0.0  # each chunk's read blocks this long (a blocking file read)
    checks: tuple[str, ...] = ()  # when set, only these checks apply; the others are n/a

    def check_na_reason(self, check_name: str) -> str | None:
        if self.checks and check_name not in self.checks:
            return f"scenario {self.name!r} is for {', '.join(self.checks)} only"
        return None

    @property
    def is_text(self) -> bool:
        return all(isinstance(c, str) for c in self.chunks)

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
        if variant.na_reason:
            return variant.na_reason
        if variant.axis["chunk"] == "str" and not self.is_text:
            return f"scenario {self.name!r} is binary: it has no str form"
        return None

    def open(self, chunk_type: str, recorder: Recorder, gate: LockStep):
        """Open the instrumented resource a route iterates inside its ``with`` block."""
        return open_resource(self.source, self.chunks_as(chunk_type), str if chunk_type == "str" else bytes,
                             recorder, gate, self.block_s)


def _fail(file: str, line: int | None, field_: str, expected: str, seen: object = None) -> ScenarioError:
    return ScenarioError(file, field_, expected, seen, line)


def scenario(name: str, *, chunks: Sequence[str] | Sequence[bytes], description: str = "",
             source: str = "list", media_type: str = "application/octet-stream",
             page_sample: str | None = None, deadline_s: float = 10.0,
             tags: Sequence[str] = (), block_s: float = 0.0, checks: Sequence[str] = ()) -> Scenario:
    """Declare a scenario; every field is checked here so a mistake is named where it was made."""
    caller = inspect.stack()[1]
    file, line = caller.filename, caller.lineno
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _fail(file, line, "name", "a lower-case kebab-case string such as 'my-payload'", name)
    if isinstance(chunks, (str, bytes)) or not isinstance(chunks, Sequence):
        raise _fail(file, line, "chunks", "a list of str or a list of bytes", type(chunks).__name__)
    kinds = {type(c) for c in chunks} or {bytes}  # no chunk at all is a valid, empty stream
    if not kinds <= {str, bytes} or len(kinds) != 1:
        bad = next((c for c in chunks if not isinstance(c, (str, bytes))), None)
        what = f"an element of type {type(bad).__name__}" if bad is not None else "a mix of str and bytes"
        raise _fail(file, line, "chunks", "only str or only bytes elements (the page allows no other type)", what)
    if source not in SOURCE_KINDS:
        raise _fail(file, line, "source", f"one of {', '.join(SOURCE_KINDS)}", source)
    if source == "file-like":
        joined = "".join(chunks) if str in kinds else b"".join(chunks)
        lines = list((io.StringIO(joined, newline="") if str in kinds else io.BytesIO(joined)))
        if lines != list(chunks):
            raise _fail(file, line, "chunks", "for source='file-like', exactly the lines of the joined data "
                        "(a file object yields lines)", f"{len(chunks)} chunks vs {len(lines)} lines")
    if not isinstance(media_type, str) or not media_type or any(c in media_type for c in "\r\n"):
        raise _fail(file, line, "media_type", "a non-empty single-line string such as 'image/png'", media_type)
    if page_sample is not None and page_sample not in PAGE_SAMPLES:
        raise _fail(file, line, "page_sample", f"None or one of {', '.join(PAGE_SAMPLES)}", page_sample)
    if not isinstance(deadline_s, (int, float)) or deadline_s <= 0:
        raise _fail(file, line, "deadline_s", "a positive number of seconds", deadline_s)
    if not isinstance(block_s, (int, float)) or not 0 <= block_s <= 1:
        raise _fail(file, line, "block_s", "seconds a chunk's read blocks, from 0 to 1", block_s)
    if block_s and source != "list":
        raise _fail(file, line, "block_s", "source='list' (the blocking read is simulated there)", source)
    if isinstance(checks, str) or not all(isinstance(c, str) for c in checks):
        raise _fail(file, line, "checks", "a list of check names", checks)
    return Scenario(name=name, description=description, chunks=tuple(chunks), source=source,
                    media_type=media_type, page_sample=page_sample, deadline_s=float(deadline_s),
                    file=file, line=line, tags=tuple(tags), block_s=float(block_s), checks=tuple(checks))


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
    """Import every scenario file; collect what loads and what does not."""
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
            if sc.name in found:
                errors.append(LoadError(str(path), f"{path}: scenario name {sc.name!r} is already defined in "
                                                   f"{found[sc.name].file}; names must be unique"))
                continue
            found[sc.name] = sc
    return ScenarioSet(found, errors)
