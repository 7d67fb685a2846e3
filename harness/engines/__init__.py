"""Engines perform requests and record traces; they never judge.

Registry by decorator: ``@engine("name")`` on a class with ``perform(route, recorder, deadline_s)``.
An engine module registers itself on import; :func:`get_engine` imports the built-in ones.
"""

from __future__ import annotations

from typing import Callable, Protocol

from ..errors import UsageError
from ..modes import NORMAL, Mode
from ..routes import Route
from ..trace import Recorder, Trace

__all__ = ["Engine", "engine", "get_engine", "engine_names"]


class Engine(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def modes(self, kind: str) -> list[Mode]: ...

    def perform(self, route: Route, recorder: Recorder, deadline_s: float, mode: Mode = NORMAL) -> Trace: ...


_REGISTRY: dict[str, Callable[[], Engine]] = {}


def engine(name: str) -> Callable[[type], type]:
    def register(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"engine {name!r} is already registered by {_REGISTRY[name]!r}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return register


def _load_builtin() -> None:
    from . import asgi, servers  # noqa: F401  (register themselves)


def engine_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_engine(name: str, **config: object) -> Engine:
    """A fresh engine; server engines take ``builder_ref``, ``scenarios_dirs``, ``lockstep_wait_s``, ``app``;
    the in-process one takes ``lifespan_app`` (a team's app whose lifespan it runs)."""
    _load_builtin()
    if name not in _REGISTRY:
        raise UsageError(f"unknown engine {name!r}; engines are: {', '.join(sorted(_REGISTRY))}")
    cls = _REGISTRY[name]
    return cls(**config) if config else cls()
