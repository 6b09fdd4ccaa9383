"""A request id for every HTTP request, and the one access-log line each request gets.

`RequestIds` is pure ASGI middleware (streaming passes through untouched): it takes the client's
`X-Request-ID` when well-formed (1-128 of `A-Z a-z 0-9 . _ : -`), else makes one (uuid4 hex), runs
the request in a log context with it (`plumbing.logs`), answers it in `X-Request-ID` on every
response, and logs `METHOD /path STATUS` with the duration at INFO on `backend.access` (probes and
scrapes that succeed at DEBUG). The path is logged without its query string: signed upload and
preview links carry their tokens there.

`install` puts it outside Starlette's error middleware, so a 500 carries the header too, and marks
an exception that reaches it as logged (the app's error handler logged it with its traceback)
so uvicorn does not log it a second time.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from plumbing.logs import elapsed_ms, log_context, mark_logged, valid_request_id

HEADER = "X-Request-ID"
_HEADER = HEADER.lower().encode()
MAX_LOGGED_PATH = 512
# Probes and scrapes come every few seconds: their access lines are DEBUG unless they fail.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
access_logger = logging.getLogger("backend.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's request id when it is well-formed, else a new one."""
    for name, value in headers:
        if name.lower() == _HEADER:
            given = valid_request_id(value.decode("latin-1"))
            return given if given is not None else uuid.uuid4().hex
    return uuid.uuid4().hex


def logged_path(scope: Scope) -> str:
    """The request path as sent (percent-encoded, so one line), without any query string."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        path = raw.split(b"?", 1)[0].decode("ascii", "backslashreplace")
    else:
        path = str(scope.get("path", "")).encode("ascii", "backslashreplace").decode("ascii")
    return path if len(path) <= MAX_LOGGED_PATH else path[:MAX_LOGGED_PATH] + "…"


class RequestIds:
    """ASGI middleware: a request id per HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers", []))
        header = (_HEADER, request_id.encode("ascii"))
        status: int | None = None
        complete = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                message = {**message, "headers": [*headers, header]}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        failed = False
        with log_context(request_id=request_id) as context:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                failed = True
                mark_logged(exc)  # the app's error handler logged it, traceback and all
                raise
            finally:
                method, path = scope.get("method", ""), logged_path(scope)
                shown = status if status is not None else 500
                note = " (failed mid-response)" if failed and complete is False and status else ""
                quiet = path in PROBE_PATHS and shown < 400
                access_logger.log(
                    logging.DEBUG if quiet else logging.INFO,
                    "%s %s %s %.1fms%s",
                    method,
                    path,
                    shown,
                    duration := elapsed_ms(started),
                    note,
                    extra={
                        "method": method,
                        "path": path,
                        "status": shown,
                        "duration_ms": duration,
                        "request_id": context.request_id,
                        "user": context.user,
                        "thread_id": context.thread_id,
                    },
                )


def install(app: FastAPI) -> None:
    """Make `RequestIds` the outermost layer of `app` (outside Starlette's error middleware)."""
    build = app.build_middleware_stack

    def build_with_ids() -> ASGIApp:
        return RequestIds(build())

    app.build_middleware_stack = build_with_ids  # type: ignore[method-assign]
