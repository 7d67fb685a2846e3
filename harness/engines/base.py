"""The engine contract: everything the runner and the session ask of an engine, declared once.

An engine performs requests and records traces; it never judges, and it keeps no traces of its own
(the runner owns the only cache). A new in-process engine is one file: subclass :class:`Engine`,
decorate it with ``@engine("name")``, implement :meth:`Engine.modes`, :meth:`Engine.perform` and
:meth:`Engine.stop` (see ``tests/test_engine_contract.py`` for a small one).
"""

from __future__ import annotations

import abc
import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar

from ..modes import NORMAL, Kind, Mode
from ..routes import Route
from ..trace import Recorder, Trace
from .quiet import QUIET

__all__ = ["Engine", "EngineSetup", "BatchItem"]

# One request of a batch: the route to request and the recorder its trace is recorded into.
BatchItem = tuple[Route, Recorder]


@dataclass(frozen=True)
class EngineSetup:
    """What the session tells every engine it opens."""

    scenarios_dirs: tuple[str, ...] = ()  # where the scenario files live (a server process loads them again)
    app: Any = None  # the team's app (harness.app.load.LoadedApp) the variants run through; None: bare
    builtin_scenarios: bool = True  # a server process loads the built-in scenarios too (--no-builtin-scenarios)


class Engine(abc.ABC):
    name: ClassVar[str] = ""
    #: the app runs in the harness's own process: routes are built here (through a team's app, by
    #: mounting into it); a server engine's process builds and mounts its own
    in_process: ClassVar[bool] = True
    #: request kinds this engine performs for many routes at once (one server for every stream of a
    #: shutdown; every failing stream concurrently, so a server's grace period is paid once): the
    #: runner then hands it every planned route of the kind in one :meth:`perform_batch` call.
    batched_kinds: ClassVar[frozenset[Kind]] = frozenset()
    #: about how long the whole default selection takes on this engine, in seconds on a 2-core machine
    #: (README, "How long a run takes"): a run of several engines at once starts the longest first, so
    #: that what runs alone at its end is a short one. Only the order of work depends on it.
    effort: ClassVar[float] = 30.0

    def __init__(self, setup: EngineSetup | None = None) -> None:
        self.setup = setup or EngineSetup()

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this engine cannot run on this machine (a server not installed), or ``None``."""
        return None

    def start(self) -> None:
        """Get ready for requests (idempotent); :meth:`perform` calls it when needed."""

    def turn(self) -> contextlib.AbstractContextManager:
        """Held while the runner judges one case: a share of :data:`~harness.engines.quiet.QUIET`
        (engines at once: a timing measurement, here or elsewhere, waits for the case and runs alone)."""
        return QUIET.shared()

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop everything this engine started (loops, servers): idempotent, never raises."""

    @abc.abstractmethod
    def modes(self, kind: Kind) -> list[Mode]:
        """How this engine performs ``kind``: one mode per way; empty when it cannot (``n/a``)."""

    @abc.abstractmethod
    def perform(self, route: Route, recorder: Recorder, deadline_s: float, mode: Mode = NORMAL) -> Trace:
        """Perform one request of ``route`` in ``mode`` within ``deadline_s`` and return its trace.
        Side requests (the route's ``/openapi.json``) are made only when ``route.openapi_path`` is set
        and the mode's kind allows them."""

    def perform_batch(self, items: list[BatchItem], deadline_s: float, mode: Mode) -> list[Trace]:
        """Every item in ``mode``, in order; engines listing the kind in :attr:`batched_kinds`
        perform them together."""
        return [self.perform(route, recorder, deadline_s, mode) for route, recorder in items]
