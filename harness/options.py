"""Options shared by the command line and the pytest plugin: one definition, two front ends.

``add_options(addoption, prefix)`` is called by ``cli.py`` with ``prefix=""`` (``--scenario``) and by
``plugin.py`` with ``prefix="stream-"`` (``--stream-scenario``); ``Selection.from_values`` reads
either back into one record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["add_options", "Selection", "GateOptions"]


def _positive(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _csv(values: list[str] | None) -> list[str]:
    return [p.strip() for v in values or [] for p in v.split(",") if p.strip()]


# name -> argparse/pytest keyword arguments
_OPTIONS: dict[str, dict[str, Any]] = {
    "scenario": dict(action="append", metavar="NAME",
                     help="run only these scenarios (repeat or comma-separate); default: all"),
    "check": dict(action="append", metavar="NAME",
                  help="run only these checks (repeat or comma-separate); default: all"),
    "variant": dict(action="append", metavar="EXPR",
                    help="select variants by axis value (chunk=bytes, function=def) or id glob "
                         "(def-*-subclass, page:*); repeat to narrow"),
    "engine": dict(action="append", metavar="NAME",
                   help="how requests are performed: asgi (in-process, the default), uvicorn, uvicorn-httptools, "
                        "hypercorn, granian, daphne, or all (repeat or comma-separate)"),
    "scenarios-dir": dict(action="append", metavar="DIR", type=Path,
                          help="add the scenarios of this folder to the built-in ones (repeatable); a name "
                               "declared twice is an error naming both files"),
    "no-builtin-scenarios": dict(action="store_true", default=False,
                                 help="load only the scenarios of --scenarios-dir, not the built-in ones"),
    "engine-jobs": dict(type=int, default=0, metavar="N",
                        help="run up to N server engines at once (default 0: one per core; 1: one after "
                             "another); a loop-latency measurement still runs alone"),
    "no-page": dict(action="store_true", default=False,
                    help="leave out the page's 13 reference routes"),
    "slow": dict(action="store_true", default=False,
                 help="also run the scenarios tagged slow (many-tiny-chunks-full); named with --scenario, "
                      "a slow scenario runs anyway"),
    "deadline": dict(type=_positive, default=None, metavar="SECONDS",
                     help="deadline of every request (default: the scenario's, 10 s)"),
    "app": dict(default=None, metavar="MODULE:ATTR",
                help="run every check through your own app (MODULE:ATTR, or MODULE:FACTORY() to call a factory): "
                     "the variants are mounted under /_stream_harness in it, and run bare beside it for comparison"),
    "accept-encoding": dict(default=None, metavar="CODINGS",
                            help="the Accept-Encoding every request offers (default: what a current browser offers, "
                                 "'gzip, deflate, br, zstd'; 'identity' for none); every answer is decoded message by "
                                 "message before bytes are compared"),
    "app-dir": dict(default=None, metavar="DIR",
                    help="the folder --app's MODULE is imported from (default: the current directory)"),
    # the gate (harness/expectations.py)
    "expectations": dict(type=Path, default=None, metavar="FILE",
                         help="known deviations (TOML); default: expectations.toml at the root if present"),
    "no-expectations": dict(action="store_true", default=False,
                            help="judge every fail and error as unexpected, whatever expectations.toml says"),
    "strict": dict(action="store_true", default=False,
                   help="also fail on stale expectations (a recorded deviation that now passes) and on "
                        "non-strict outcomes no expectation records"),
    "retry-unexpected": dict(type=int, default=0, metavar="N",
                             help="retry each unexpected fail/error up to N times with a fresh engine, through what it "
                                  "ran on (your app or bare); one that then comes out as expected is listed as flaky "
                                  "and does not fail the gate (default: 0)"),
}


def add_options(addoption: Callable[..., Any], prefix: str = "") -> None:
    for name, kwargs in _OPTIONS.items():
        addoption(f"--{prefix}{name}", dest=f"{prefix}{name}".replace("-", "_"), **kwargs)


@dataclass
class Selection:
    scenarios: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=lambda: ["asgi"])
    scenarios_dirs: list[Path] = field(default_factory=list)  # a team's folders, added to the built-ins
    builtin_scenarios: bool = True
    include_page: bool = True
    slow: bool = False  # the scenarios tagged slow too (pytest: its -m decides instead)
    deadline_s: float | None = None
    app: str | None = None  # --app MODULE:ATTR / MODULE:FACTORY()
    app_dir: str | None = None
    accept_encoding: str | None = None  # None: the browser default (harness/app/encoding.py)
    engine_jobs: int = 0  # server engines at once (0: one per core); how the run goes, not what it selects

    @classmethod
    def from_values(cls, get: Callable[[str], Any], prefix: str = "") -> "Selection":
        def value(name: str) -> Any:
            return get(f"{prefix}{name}".replace("-", "_"))
        return cls(scenarios=_csv(value("scenario")), checks=_csv(value("check")),
                   variants=_csv(value("variant")), engines=_csv(value("engine")) or ["asgi"],
                   scenarios_dirs=list(value("scenarios-dir") or []),
                   builtin_scenarios=not value("no-builtin-scenarios"), include_page=not value("no-page"),
                   slow=bool(value("slow")), deadline_s=value("deadline"), app=value("app"), app_dir=value("app-dir"),
                   accept_encoding=value("accept-encoding"),
                   engine_jobs=0 if value("engine-jobs") is None else int(value("engine-jobs")))

    def scenario_folders(self) -> list[Path]:
        """Every folder the run loads scenarios from, the built-ins first."""
        from .scenarios import scenario_folders
        if not self.builtin_scenarios and not self.scenarios_dirs:
            from .errors import UsageError
            raise UsageError("--no-builtin-scenarios leaves no scenario: add a folder with --scenarios-dir DIR")
        return scenario_folders(self.scenarios_dirs, self.builtin_scenarios)

    def to_json(self) -> dict[str, object]:
        return {"scenarios": self.scenarios, "checks": self.checks, "variants": self.variants,
                "engines": self.engines, "scenarios_dirs": [str(p) for p in self.scenarios_dirs],
                "builtin_scenarios": self.builtin_scenarios,
                "include_page": self.include_page, "deadline_s": self.deadline_s,
                "app": self.app, "app_dir": self.app_dir, "accept_encoding": self.accept_encoding}


@dataclass
class GateOptions:
    """How results are judged against expectations: which file, whether stale entries fail, and how
    many times an unexpected result is measured again before it counts."""

    expectations: Path | None = None
    no_expectations: bool = False
    strict: bool = False
    retries: int = 0  # --retry-unexpected N

    @classmethod
    def from_values(cls, get: Callable[[str], Any], prefix: str = "") -> "GateOptions":
        def value(name: str) -> Any:
            return get(f"{prefix}{name}".replace("-", "_"))
        return cls(expectations=value("expectations"), no_expectations=bool(value("no-expectations")),
                   strict=bool(value("strict")), retries=int(value("retry-unexpected") or 0))
