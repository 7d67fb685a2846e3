"""The sub-commands of ``stream-harness``: one module per command, registered with ``@command``.

A command module in this package declares its arguments and its action; ``cli.py`` imports every
module here (a plain file convention: nothing else to edit) and builds the parser from the registry.
An action returns the exit code: 0 fine, 1 something failed, 2 bad usage (raise ``UsageError``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

__all__ = ["Command", "command", "commands"]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    action: Callable[[argparse.Namespace], int]


_REGISTRY: dict[str, Command] = {}


def command(name: str, help: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Register ``action(args) -> exit code`` as ``stream-harness NAME``; ``configure`` adds its arguments."""
    def register(action: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        if name in _REGISTRY:
            raise ValueError(f"command {name!r} registered twice")
        _REGISTRY[name] = Command(name, help, configure, action)
        return action
    return register


def commands() -> dict[str, Command]:
    """Every command, in registration order (``run`` first: it is the default)."""
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name != "run", m.name)):
        importlib.import_module(f"{__name__}.{mod.name}")
    return dict(_REGISTRY)
