"""Where the time went (issue 14): the run header and summary give, per engine and per scenario,
the time of the engines' requests beside the harness's own."""

from __future__ import annotations

from harness.options import GateOptions, Selection
from harness.reports.terminal import render_summary
from harness.session import open_session


def test_the_header_and_the_summary_split_each_engine_and_scenario_into_requests_and_harness():
    session = open_session(Selection(scenarios=["png", "utf8-split"], checks=["chunk-order"], include_page=False),
                           GateOptions(no_expectations=True))
    results, times = session.run()
    info = session.header(sum(times.values()), times)
    assert set(info.timing["engines"]) == {"asgi"} and set(info.timing["scenarios"]) == {"png", "utf8-split"}
    for spent in [*info.timing["engines"].values(), *info.timing["scenarios"].values()]:
        assert 0 < spent["requests_s"] <= spent["total_s"]
    text = render_summary(info, results)
    assert "time [asgi]: " in text and "requests " in text and "harness " in text
    assert "slowest scenarios: " in text
