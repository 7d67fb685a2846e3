"""sentry-sdk with its Starlette and FastAPI integrations: ``sentry_sdk.init`` patches Starlette and
FastAPI for the whole process (``Starlette.__call__`` wraps every app in ``SentryAsgiMiddleware``;
``request_response``, ``get_request_handler`` and every ``Middleware`` are replaced too). Events
are dropped by a transport that sends nothing. Check it with::

    stream-harness run --app examples.apps.with_sentry:app
"""

from __future__ import annotations

import sentry_sdk
from fastapi import FastAPI


def _drop(envelope) -> None:  # nothing leaves the process
    return None


sentry_sdk.init(dsn="http://public@127.0.0.1:9/1", transport=_drop, traces_sample_rate=1.0,
                default_integrations=True)

app = FastAPI()


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
