"""One log line per call a tool server serves, as part of the backend request it was made for.

`CallLog` is MCP server middleware: it runs every request inside `plumbing.call_meta.adopted`
(the caller's request id from `_meta`, its trace context), so every line logged while serving it
carries that request id (and, once the identity is resolved, the user's hash). For a tool call, a
prompt or a resource read it then logs one INFO line on `mcp_servers.calls`: what was called
(the tool or prompt name; a resource read names no URI, which may hold a search), `ok` or
`error`, and the duration. Never the arguments.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult

from plumbing.call_meta import adopted
from plumbing.logs import elapsed_ms, valid_request_id

logger = logging.getLogger("mcp_servers.calls")
LOGGED_METHODS = ("tools/call", "prompts/get", "resources/read")


def _errored(result: HandlerResult) -> bool:
    if isinstance(result, CallToolResult):
        return bool(result.is_error)
    return isinstance(result, dict) and result.get("isError") is True


def _target(ctx: ServerRequestContext[Any, Any]) -> str:
    if ctx.method == "resources/read":
        return ctx.method
    name = valid_request_id(ctx.params.get("name") if ctx.params else None)  # id-like, or not named
    return f"{ctx.method} {name}" if name else ctx.method


class CallLog:
    """Server middleware: each request as part of the caller's request, one line per call."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        with adopted(ctx.meta) as context:
            if ctx.method not in LOGGED_METHODS:
                return await call_next(ctx)
            started = time.perf_counter()
            outcome = "error"
            try:
                result = await call_next(ctx)
                outcome = "error" if _errored(result) else "ok"
                return result
            finally:
                target = _target(ctx)
                duration = elapsed_ms(started)
                logger.info(
                    "%s: %s in %.1fms",
                    target,
                    outcome,
                    duration,
                    extra={
                        "call": target,
                        "tool": target.removeprefix("tools/call ") if ctx.method == "tools/call" else None,
                        "outcome": outcome,
                        "duration_ms": duration,
                        "request_id": context.request_id,
                        "user": context.user,
                    },
                )
