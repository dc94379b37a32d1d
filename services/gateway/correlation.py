"""The request's correlation id: ``X-Correlation-ID`` (or ``X-Request-ID``) when the caller sends a
usable one. It is bound to every log line of the request, echoed in the answer's
``X-Correlation-ID``, and written into each accepted envelope that has none of its own
(``shared.observability.correlation``); a request without one is logged without, and each event
it brings gets its own derived id."""
from __future__ import annotations

import structlog

from shared.observability import correlation

ECHO = b"x-correlation-id"


class CorrelationMiddleware:
    """A plain ASGI middleware (the context it binds is the endpoint's: no task in between)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())
                   if k.lower() in (b"x-correlation-id", b"x-request-id")}
        found = correlation.from_headers(headers)
        if found is None:
            return await self.app(scope, receive, send)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != ECHO]
                message = {**message, "headers": kept + [(ECHO, found.encode("latin-1"))]}
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=found):
            await self.app(scope, receive, send_with_id)
