"""Shared helpers for the harness's own tests: run one check on one case with any route builder."""

from __future__ import annotations

from pathlib import Path

from harness.checks import get_checks
from harness.engines import get_engine
from harness.outcomes import Result
from harness.routes import build_route
from harness.runner import Case, Runner
from harness.scenarios import load_scenarios
from harness.variants import PAGE_ROUTES, Variant, all_variants, variant_by_id

SCENARIOS = load_scenarios().scenarios


def latest_results(output_dir: Path) -> Path:
    """The results.json of the newest run written under ``output_dir`` (``runs/<version>/latest``)."""
    from harness.reports.store import RUNS, latest_run
    from harness.installed import versions

    run = latest_run(Path(output_dir) / RUNS / versions()["fastapi"])
    assert run is not None, f"no run under {output_dir}"
    return run / "results.json"


def variant(vid: str) -> Variant:
    if vid.startswith(("jsonl-", "sse-", "page:jsonl:", "page:sse:")):
        return variant_by_id(vid)
    if vid.startswith("page:"):
        return PAGE_ROUTES[vid[len("page:"):]][1]
    (found,) = [v for v in all_variants() if v.id == vid]
    return found


def judge(check: str, scenario: str, vid: str, builder=build_route, *, lockstep_wait_s: float = 0.5,
          deadline_s: float | None = None, missing_reason: str = "", engine: str = "asgi") -> Result:
    """The result of ``check`` on ``scenario``/``vid`` with the app that ``builder`` builds.

    On a server engine ``builder`` must be a name in ``tests.mutants`` (or ``build_route``): the
    server process imports it by that name.
    """
    config = {}
    if engine != "asgi":
        ref = "harness.routes:build_route" if builder is build_route else f"tests.mutants:{_name(builder)}"
        config = {"builder_ref": ref}
    with Runner(get_engine(engine, **config), get_checks([check]), builder=builder, lockstep_wait_s=lockstep_wait_s,
                deadline_s=deadline_s, missing_reason=missing_reason) as runner:
        (result,) = runner.judge(Case(SCENARIOS[scenario], variant(vid)))
    return result


def _name(builder) -> str:
    from . import mutants
    return next(k for k, v in vars(mutants).items() if v is builder)
