"""Engines perform requests and record traces; they never judge.

Registry by decorator: ``@engine("name")`` on a subclass of :class:`Engine` (the contract, in
``base.py``). An engine module registers itself on import; :func:`get_engine` imports the built-in
ones. A name registered twice by two different classes is refused.
"""

from __future__ import annotations

from typing import Callable

from ..errors import UsageError
from .base import BatchItem, Engine, EngineSetup

__all__ = ["Engine", "EngineSetup", "BatchItem", "engine", "get_engine", "engine_names", "engine_unavailable",
           "engine_effort"]

_REGISTRY: dict[str, type[Engine]] = {}


def engine(name: str) -> Callable[[type[Engine]], type[Engine]]:
    def register(cls: type[Engine]) -> type[Engine]:
        if not (isinstance(cls, type) and issubclass(cls, Engine)):
            raise TypeError(f"engine {name!r}: {cls!r} must subclass harness.engines.Engine")
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


def _engine_class(name: str) -> type[Engine]:
    _load_builtin()
    if name not in _REGISTRY:
        raise UsageError(f"unknown engine {name!r}; engines are: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def engine_effort(name: str) -> float:
    """About how long engine ``name`` takes on the whole default selection (:attr:`Engine.effort`)."""
    return _engine_class(name).effort


def engine_unavailable(name: str) -> str | None:
    """Why engine ``name`` cannot run here (``None``: it can), without starting anything."""
    return _engine_class(name).unavailable()


def get_engine(name: str, setup: EngineSetup | None = None, **options: object) -> Engine:
    """A fresh engine, told what every engine is told (``setup``); ``options`` are the engine's own
    (server engines: ``builder_ref``, ``lockstep_wait_s``; the in-process one: ``spec_version``)."""
    return _engine_class(name)(setup, **options)
