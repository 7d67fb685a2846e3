"""What is installed beside the harness, and whether that FastAPI has the feature at all (C14)."""

from __future__ import annotations

import functools
import platform
import re
from importlib import metadata

__all__ = ["FEATURE_SINCE", "versions", "feature_missing_reason", "parse_version"]

FEATURE_SINCE = (0, 134, 0)  # "Added in FastAPI 0.134.0." (the note after the page's title)


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def parse_version(text: str) -> tuple[int, ...]:
    """The leading numeric release of a version string ('0.134.0rc1' -> (0, 134, 0))."""
    m = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


@functools.lru_cache(maxsize=None)
def _installed() -> tuple[tuple[str, str], ...]:
    """Read once per process: the distributions' metadata is parsed from disk each time (it cost a
    default run 2.5 s when asked per case), and one interpreter imports one FastAPI."""
    return tuple({
        "harness": _dist_version("fastapi-stream-harness"),
        "fastapi": _dist_version("fastapi"),
        "starlette": _dist_version("starlette"),
        "pydantic": _dist_version("pydantic"),
        "python": platform.python_version(),
    }.items())


def versions() -> dict[str, str]:
    return dict(_installed())


def feature_missing_reason(fastapi_version: str | None = None) -> str | None:
    """Why the installed FastAPI cannot stream with ``yield`` (``None`` when it can)."""
    version = fastapi_version or versions()["fastapi"]
    parsed = parse_version(version)
    if not parsed:
        return f"FastAPI is {version}: cannot tell whether it has the feature (added in 0.134.0)"
    if parsed < FEATURE_SINCE:
        return f"FastAPI {version} predates the feature: streaming with yield was added in 0.134.0"
    return None
