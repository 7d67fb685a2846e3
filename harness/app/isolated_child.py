"""The child interpreter of :class:`harness.app.isolated.IsolatedRunner`: it never imports the team's
app. It opens the same selection without ``--app`` and answers line-JSON requests on stdin/stdout
(``run``, ``judge``, ``forget``), each result sent back as ``Result.to_json``. A module of its own so
that the session, which starts it, is not imported by what it imports.
"""

from __future__ import annotations

import json
import sys
from typing import Any

__all__ = ["main"]


def main() -> int:
    """The child: open the selection without the app, then answer requests until stdin closes."""
    from pathlib import Path

    from ..options import GateOptions, Selection
    from ..outcomes import BARE
    from ..session import open_session

    def say(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    out, sys.stdout = sys.stdout, sys.stderr  # nothing the run prints may corrupt the protocol
    try:
        config = json.loads(sys.stdin.readline())
        fields = dict(config["selection"])
        fields["scenarios_dirs"] = [Path(p) for p in fields.get("scenarios_dirs") or []]
        session = open_session(Selection(**fields), GateOptions(no_expectations=True))
        checks = {c.name: c for c in session.checks}
        runner = session.fresh_runner(config["engine"], BARE, [checks[n] for n in config["checks"] if n in checks])
        runner.lockstep_wait_s = float(config["lockstep_wait_s"])
        cases = {(c.scenario.name, c.variant.id): c for c in session.cases}
    except Exception as exc:
        sys.stdout = out
        say({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    sys.stdout = out

    def say_progress(case, n, total, results) -> None:
        say({"progress": [case.scenario.name, case.variant.id, n, total, [r.to_json() for r in results]]})

    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "run":
                got = runner.run([cases[tuple(k)] for k in request["cases"]], progress=say_progress)
                say({"results": [r.to_json() for r in got]})
            elif request["op"] == "judge":
                wanted = [checks[n] for n in request["checks"]] if request["checks"] is not None else None
                say({"results": [r.to_json() for r in runner.judge(cases[tuple(request["case"])], wanted)]})
            elif request["op"] == "forget":
                runner.forget(cases_scenario(cases, request["scenario"]), checks[request["check"]])
                say({"ok": True})
        except Exception as exc:
            say({"error": f"{type(exc).__name__}: {exc}"})
    runner.close()
    return 0


def cases_scenario(cases: dict[tuple[str, str], Any], name: str) -> Any:
    return next(c.scenario for (s, _), c in cases.items() if s == name)


if __name__ == "__main__":
    sys.exit(main())
