"""The in-process bare twin in a fresh interpreter, for when importing the team's app patched the process.

Instrumentation such as sentry-sdk patches Starlette and FastAPI for the whole process when the
team's app is imported (``patches.py`` sees it). A bare app built afterwards in this interpreter
would run through the patch, and the comparison would blame FastAPI for what the patch does. So the
session runs that engine's bare side here instead: a child interpreter (``python -m
harness.app.isolated_child``) that never imported the app opens the same selection without ``--app`` and
answers line-JSON requests on its stdin/stdout (``run``, ``judge``, ``forget``), each result sent
back as ``Result.to_json``. :class:`IsolatedRunner` has the runner's interface the session uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any, Callable

from ..errors import HarnessError
from ..outcomes import Outcome, Result

__all__ = ["IsolatedRunner"]

STARTUP_S = 60.0  # importing FastAPI and the scenarios on a loaded machine
PER_CASE_S = 60.0  # the longest a case's requests may take (every request has its own deadline)


def _result(rec: dict[str, Any]) -> Result:
    return Result(**{**rec, "outcome": Outcome(rec["outcome"])})


class IsolatedRunner:
    """A runner whose engine runs in a child interpreter that never imported the team's app."""

    def __init__(self, selection: Any, engine: str, checks: list[str], lockstep_wait_s: float = 2.0) -> None:
        self.selection, self.engine_name, self.check_names = selection, engine, checks
        self.lockstep_wait_s = lockstep_wait_s
        self._proc: subprocess.Popen | None = None

    # -- the child
    def _start(self) -> subprocess.Popen:
        if self._proc is None:
            config = {"selection": {**self.selection.to_json(), "app": None, "app_dir": None,
                                    "engines": [self.engine_name]},
                      "engine": self.engine_name, "checks": self.check_names, "lockstep_wait_s": self.lockstep_wait_s}
            self._proc = subprocess.Popen([sys.executable, "-m", "harness.app.isolated_child"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True, env={**os.environ},
                                          cwd=os.getcwd())
            self._send(config)
        return self._proc

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def _read(self, timeout_s: float) -> dict[str, Any]:
        """One line from the child within ``timeout_s``, or the child is stopped and this is an error."""
        proc = self._start()
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)  # type: ignore
        reader.start()
        reader.join(timeout_s)
        if not got or not got[0]:
            self.close()
            raise HarnessError(f"the isolated bare {self.engine_name} runner did not answer within {timeout_s:g} s "
                               "(or ended)")
        message = json.loads(got[0])
        if "error" in message:
            raise HarnessError(f"the isolated bare {self.engine_name} runner failed: {message['error']}")
        return message

    # -- the runner's interface
    def run(self, cases: list[Any], progress: Callable[..., None] | None = None) -> list[Result]:
        self._start()
        self._send({"op": "run", "cases": [[c.scenario.name, c.variant.id] for c in cases]})
        by_key = {(c.scenario.name, c.variant.id): c for c in cases}
        while True:
            message = self._read(STARTUP_S + PER_CASE_S)
            if "progress" in message:
                scenario, variant, n, total, results = message["progress"]
                if progress:
                    progress(by_key[(scenario, variant)], n, total, [_result(r) for r in results])
                continue
            return [_result(r) for r in message["results"]]

    def judge(self, case: Any, checks: list[Any] | None = None) -> list[Result]:
        self._start()
        self._send({"op": "judge", "case": [case.scenario.name, case.variant.id],
                    "checks": [c.name for c in checks] if checks is not None else None})
        return [_result(r) for r in self._read(STARTUP_S + PER_CASE_S)["results"]]

    def forget(self, scenario: Any, check: Any) -> None:
        self._start()
        self._send({"op": "forget", "scenario": scenario.name, "check": check.name})
        self._read(STARTUP_S)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(10)

    def __enter__(self) -> "IsolatedRunner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
