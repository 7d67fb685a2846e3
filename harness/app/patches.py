"""What importing a team's app did to the process: Starlette and FastAPI callables it replaced.

Some instrumentation patches Starlette or FastAPI for the whole process when it is set up
(sentry-sdk replaces ``Starlette.__call__``, ``ExceptionMiddleware`` methods and
``starlette.routing.request_response``; OpenTelemetry's ``FastAPIInstrumentor().instrument()``
replaces ``fastapi.FastAPI``). After such an import, a "bare" app built in the same interpreter runs
through the patch too, and a difference the patch makes would read as FastAPI's. :func:`snapshot`
records every function and class attribute of the Starlette and FastAPI modules loaded before the
import; :func:`replaced` lists what differs after it. The session then runs the in-process bare
twin in a fresh interpreter that never imported the app (``isolated.py``).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

__all__ = ["Snapshot", "snapshot", "replaced"]

# imported before the snapshot, so a patch of any of them is seen (a module first imported by the
# team's app has no "before" to compare with)
_CORE = ("starlette.applications", "starlette.routing", "starlette.responses", "starlette.requests",
         "starlette.middleware", "starlette.middleware.base", "starlette.middleware.errors",
         "starlette.middleware.exceptions", "starlette.middleware.gzip", "starlette.middleware.cors",
         "starlette.concurrency", "starlette._exception_handler", "fastapi", "fastapi.applications",
         "fastapi.routing", "fastapi.responses", "fastapi.encoders", "fastapi.dependencies.utils",
         "fastapi.middleware.asyncexitstack")
_OWNERS = ("starlette", "fastapi")


@dataclass(frozen=True)
class Snapshot:
    values: dict[str, int]  # "module:attr" or "module:Class.attr" -> id of the object


def _owned(name: str) -> bool:
    return name.split(".")[0] in _OWNERS


def snapshot() -> Snapshot:
    """Every attribute of the Starlette/FastAPI modules (and of their classes) now, by identity."""
    for name in _CORE:
        try:
            importlib.import_module(name)
        except ImportError:  # a module an older release does not have
            pass
    values: dict[str, int] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not _owned(name):
            continue
        for attr, obj in list(vars(module).items()):
            values[f"{name}:{attr}"] = id(obj)
            if isinstance(obj, type) and getattr(obj, "__module__", None) == name:  # once, where defined
                for key, member in list(vars(obj).items()):
                    if callable(member) or isinstance(member, (staticmethod, classmethod, property)):
                        values[f"{name}:{attr}.{key}"] = id(member)
    return Snapshot(values)


def replaced(before: Snapshot) -> list[str]:
    """What differs from ``before``: ``module:attr`` names, each with the module its new value is from."""
    after = snapshot().values
    out = []
    for key, ident in before.values.items():
        if key in after and after[key] != ident:
            module, _, path = key.partition(":")
            obj = sys.modules.get(module)
            for part in path.split("."):
                obj = vars(obj).get(part) if obj is not None and hasattr(obj, "__dict__") else None
            origin = getattr(obj, "__module__", None) or type(obj).__module__
            out.append(f"{key} (now from {origin})")
    return sorted(out)
