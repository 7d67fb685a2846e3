"""Loading a team's own app from ``--app MODULE:ATTR`` or ``--app MODULE:FACTORY()``.

Every way this can go wrong is the user's input, not the harness's bug, so each is an
:class:`AppError` (a :class:`~harness.errors.UsageError`: exit 2) with one paragraph naming what was
given and what was expected. The original exception is kept as ``cause`` for ``--debug``.

What the harness can mount into: a FastAPI app, a Starlette app, or a pure ASGI middleware object
whose ``.app`` chain reaches one of those (``app = TimingMiddleware(FastAPI())``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["AppError", "AppSpec", "LoadedApp", "parse_spec", "load_app", "describe_middleware", "mount_target"]

EXPECTED = ("expected MODULE:ATTR (an ASGI app object, e.g. myproject.main:app) or MODULE:FACTORY() "
            "(a function called with no arguments that returns one, e.g. myproject.main:create_app())")
_SPEC = re.compile(r"^(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)(?P<call>\(\))?$")


class AppError(UsageError):
    """The app given with ``--app`` cannot be used; ``cause`` is the underlying exception, if any."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class AppSpec:
    text: str  # as given, e.g. "examples.apps.clean:app"
    module: str
    attr: str
    factory: bool
    app_dir: str  # put first on sys.path before importing

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "app_dir": self.app_dir}


def parse_spec(text: str, app_dir: str | Path | None = None) -> AppSpec:
    folder = Path(app_dir) if app_dir else Path.cwd()
    m = _SPEC.match(text.strip())
    if not m:
        raise AppError(f"--app {text!r} is not an app reference: {EXPECTED}.")
    if not folder.is_dir():
        raise AppError(f"--app-dir {str(folder)!r} (given for --app {text!r}) is not a directory: expected the "
                       "folder MODULE is imported from (default: the current directory).")
    return AppSpec(text.strip(), m["module"], m["attr"], bool(m["call"]), str(folder.resolve()))


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _is_asgi(obj: Any) -> bool:
    """An ASGI 3 app: an async callable taking (scope, receive, send)."""
    if inspect.isclass(obj) or not callable(obj):
        return False
    func = obj if inspect.isfunction(obj) or inspect.ismethod(obj) else getattr(obj, "__call__", None)
    if not (inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(obj)):
        return False
    try:
        inspect.signature(obj).bind(object(), object(), object())
    except (TypeError, ValueError):
        return False
    return True


def mount_target(app: Any) -> Any | None:
    """The Starlette/FastAPI app at the bottom of ``app``'s ``.app`` chain (``app`` itself, usually)."""
    from starlette.applications import Starlette

    seen: set[int] = set()
    node = app
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, Starlette):
            return node
        node = getattr(node, "app", None)
    return None


_NEXT = ("app", "_app", "application", "asgi_app")  # where middleware keep what they wrap


def _middleware_name(node: Any) -> str:
    from starlette.middleware.base import BaseHTTPMiddleware

    cls = type(node)
    if isinstance(node, BaseHTTPMiddleware):
        dispatch = getattr(node, "dispatch_func", None)
        if cls is BaseHTTPMiddleware and dispatch is not None:
            return f"{getattr(dispatch, '__name__', 'dispatch')} (@app.middleware('http'), a BaseHTTPMiddleware)"
        return f"{cls.__name__} (BaseHTTPMiddleware)"
    return cls.__name__


def _declared(target: Any) -> list[str]:
    """``user_middleware`` as declared (outermost first): when the stack cannot be walked."""
    from starlette.middleware.base import BaseHTTPMiddleware

    names = []
    for entry in getattr(target, "user_middleware", []) or []:
        cls, kwargs = getattr(entry, "cls", None), getattr(entry, "kwargs", {}) or {}
        name = getattr(cls, "__name__", repr(cls))
        if isinstance(cls, type) and issubclass(cls, BaseHTTPMiddleware):
            dispatch = kwargs.get("dispatch")
            if cls is BaseHTTPMiddleware and dispatch is not None:
                name = f"{getattr(dispatch, '__name__', 'dispatch')} (@app.middleware('http'), a BaseHTTPMiddleware)"
            elif cls is not BaseHTTPMiddleware:
                name += " (BaseHTTPMiddleware)"
        names.append(name)
    return names


def _entry_wrappers(target: Any) -> list[str]:
    """What replaced the app's own ``__call__`` on a Starlette or FastAPI class it inherits: sentry-sdk
    wraps every Starlette app of the process this way. (Instrumentation that replaces the instance's
    ``build_middleware_stack``, as OpenTelemetry does, shows in the stack as built.)"""
    out = []
    for cls in type(target).__mro__:
        call = vars(cls).get("__call__")
        owner = (getattr(cls, "__module__", "") or "").split(".")[0]
        module = getattr(call, "__module__", "") or ""
        if call is not None and owner in ("starlette", "fastapi") and module.split(".")[0] not in ("starlette",
                                                                                                "fastapi"):
            out.append(f"{getattr(call, '__name__', '__call__')} from {module} (replaces {cls.__name__}.__call__ "
                       "for the whole process: wraps the app)")
    return out


def _built_in(target: Any) -> set[type]:
    """The middleware classes a fresh app of the same framework has in its stack (error handling,
    exception handlers, FastAPI's exit stack and body limits...): bare has them too, not the team."""
    import fastapi.applications
    import starlette.applications

    fresh = (fastapi.applications.FastAPI() if isinstance(target, fastapi.applications.FastAPI)
             else starlette.applications.Starlette())
    classes, node = set(), fresh.build_middleware_stack()
    while node is not None and node is not fresh.router:
        classes.add(type(node))
        node = next((getattr(node, a) for a in _NEXT if getattr(node, a, None) is not None), None)
    return classes


def _built_stack(target: Any) -> list[str] | None:
    """The middleware the app really calls, outermost first: its stack as built (built now, as its
    first request would, if it was not yet), walked through each middleware's wrapped app down to
    the router. ``None`` when the chain cannot be followed to the router."""
    router = getattr(target, "router", None)
    if getattr(target, "middleware_stack", None) is None:
        try:
            target.middleware_stack = target.build_middleware_stack()
        except Exception:
            return None
    names: list[str] = []
    built_in = _built_in(target)
    node, seen = target.middleware_stack, set()
    while node is not None and node is not router and id(node) not in seen:
        seen.add(id(node))
        if type(node) not in built_in:
            names.append(_middleware_name(node))
        node = next((getattr(node, a) for a in _NEXT if getattr(node, a, None) is not None), None)
    return names if node is router else None


def describe_middleware(app: Any) -> list[str]:
    """The app's middleware, outermost first, as the app really calls them: pure ASGI wrappers
    around the app object, what replaced the app's entry points (instrumentation), then its
    middleware stack as built (what ``add_middleware`` and instrumentation put in it); Starlette's
    and FastAPI's own error and exit-stack middleware are left out (bare has them too)."""
    names: list[str] = []
    target = mount_target(app)
    node = app
    while node is not None and node is not target:
        names.append(f"{type(node).__name__} (pure ASGI, wraps the app object)")
        node = getattr(node, "app", None)
    names += _entry_wrappers(target)
    built = _built_stack(target)
    return names + (built if built is not None else _declared(target))


@dataclass
class LoadedApp:
    spec: AppSpec
    app: Any  # what the harness calls: the object the spec names (or the factory returned)
    target: Any  # the Starlette/FastAPI app the variants are mounted into
    middleware: list[str] = field(default_factory=list)
    # Starlette/FastAPI callables importing the app replaced process-wide (patches.py): the in-process
    # bare twin then runs in a fresh interpreter (isolated.py)
    patches: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.spec.text

    @property
    def kind(self) -> str:
        from fastapi import FastAPI
        return "FastAPI" if isinstance(self.target, FastAPI) else "Starlette"

    def describe(self) -> str:
        stack = " > ".join(self.middleware) if self.middleware else "no middleware"
        patched = ""
        if self.patches:
            shown = ", ".join(self.patches[:4]) + (f" and {len(self.patches) - 4} more" if len(self.patches) > 4 else "")
            patched = (f"; importing it replaced, for the whole process: {shown} (bare ran in a fresh interpreter "
                       "that never imported it)")
        return f"{self.label} ({self.kind}; middleware outermost first: {stack}{patched})"


def _import_module(spec: AppSpec) -> Any:
    if spec.app_dir not in sys.path:
        sys.path.insert(0, spec.app_dir)
    try:
        return importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and (spec.module == exc.name or spec.module.startswith(exc.name + ".")):
            raise AppError(f"--app {spec.text!r}: module {spec.module!r} was not found in --app-dir "
                           f"{spec.app_dir!r} or on the import path ({_one_line(exc)}); {EXPECTED}, with MODULE "
                           "importable from --app-dir.", exc) from None
        raise AppError(f"--app {spec.text!r}: importing module {spec.module!r} failed: {_one_line(exc)} (a module "
                       f"it imports is missing); expected the module to import cleanly from {spec.app_dir!r}.",
                       exc) from None
    except BaseException as exc:  # a SyntaxError, or anything its top level raises (even SystemExit)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AppError(f"--app {spec.text!r}: importing module {spec.module!r} raised {_one_line(exc)}; expected "
                       f"the module to import cleanly from {spec.app_dir!r}.", exc) from None


def load_app(spec: AppSpec) -> LoadedApp:
    """Import, resolve, call the factory if asked, and check the result is an app the harness can use;
    note what the import (and the factory) replaced in Starlette and FastAPI for the whole process."""
    from .patches import replaced, snapshot

    before = snapshot()
    obj = _import_module(spec)
    for part in spec.attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(obj) if not n.startswith("_"))[:12]
            raise AppError(f"--app {spec.text!r}: {getattr(obj, '__name__', spec.module)!r} has no attribute "
                           f"{part!r}; expected an attribute of module {spec.module!r} holding the app"
                           + (f" (it has: {', '.join(public)})" if public else "") + ".")
        obj = getattr(obj, part)
    if spec.factory:
        if not callable(obj):
            raise AppError(f"--app {spec.text!r}: {spec.attr!r} is a {type(obj).__name__}, not a function to call; "
                           f"expected FACTORY() to name a function that returns the app (or drop the '()').")
        try:
            obj = obj()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise AppError(f"--app {spec.text!r}: calling the factory {spec.attr}() raised {_one_line(exc)}; "
                           "expected it to return an ASGI app when called with no arguments.", exc) from None
    what = f"{spec.attr}()" if spec.factory else spec.attr
    if not _is_asgi(obj):
        hint = ""
        if callable(obj) and not spec.factory and not inspect.isclass(obj):
            try:
                inspect.signature(obj).bind()
                hint = f" If {spec.attr} is a factory, write --app {spec.module}:{spec.attr}()."
            except (TypeError, ValueError):
                pass
        raise AppError(f"--app {spec.text!r}: {what} is {_show_type(obj)}, not an ASGI app; expected an object "
                       f"called as `await app(scope, receive, send)` (a FastAPI or Starlette app, or an ASGI "
                       f"middleware around one).{hint}")
    target = mount_target(obj)
    if target is None:
        raise AppError(f"--app {spec.text!r}: {what} is an ASGI app ({_show_type(obj)}) but neither it nor its "
                       "`.app` chain is a FastAPI or Starlette app, so the harness has no router to mount its "
                       "variant routes into; expected a FastAPI or Starlette app, or a pure ASGI middleware whose "
                       "`.app` attribute leads to one.")
    return LoadedApp(spec, obj, target, describe_middleware(obj), replaced(before))


def _show_type(obj: Any) -> str:
    if inspect.isclass(obj):
        return f"the class {obj.__name__}"
    if inspect.isfunction(obj):
        kind = "an async function" if inspect.iscoroutinefunction(obj) else "a function"
        return f"{kind} {obj.__name__}{inspect.signature(obj)}"
    return f"a {type(obj).__module__}.{type(obj).__qualname__} object"
