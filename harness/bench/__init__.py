"""Benchmarks of the streaming variants: what each way of writing a route costs.

The benchmarked routes are the conformance variants themselves (``variants.py`` axes compiled by
``routes.build_route``), fed by un-instrumented sources: no lock-step gate, no trace recorder, so the
probes do not dominate what is measured. Every figure is a ratio to a raw ASGI app that sends the same
chunks, measured in the same run (the in-process limit), so it compares across machines.

Modules: ``sources`` (payloads), ``apps`` (raw, Starlette and variant apps), ``drive`` (in-process
driver), ``client``/``server``/``serve`` (over uvicorn), ``memory`` (peak RSS growth), ``results``
(reading pytest-benchmark JSON), ``markdown`` and ``svg`` (the report), ``regress`` (the check).
"""
