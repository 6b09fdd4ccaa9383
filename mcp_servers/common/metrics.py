"""A tool server's Prometheus metrics (served at `GET /metrics` over HTTP; stdio serves none).

Labels are bounded: the server's name and its own tool names (a call naming no tool it offers
counts as `unknown`); never a user or an argument."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Counter, Histogram

# A tool call runs from a cached read (ms) to a slow database search (seconds).
CALL_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
UNKNOWN_TOOL = "unknown"

TOOL_CALLS = Counter(
    "mcp_tool_calls_total",
    "Tool calls served, by server, tool and outcome (ok, or error: a tool error, bad arguments, a crash).",
    ["server", "tool", "outcome"],
)
TOOL_CALL_SECONDS = Histogram(
    "mcp_tool_call_seconds",
    "Time to serve one tool call, by server and tool.",
    ["server", "tool"],
    buckets=CALL_BUCKETS,
)

Result = TypeVar("Result")


async def measured_call(
    server: str,
    tool: str,
    call: Callable[[], Awaitable[Result]],
    failed: Callable[[Result], bool],
) -> Result:
    """Run one tool call, counting it (`error` when it raises or `failed(result)`) and timing it;
    `tool` must already be bounded (a listed tool name or UNKNOWN_TOOL)."""
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await call()
        outcome = "error" if failed(result) else "ok"
        return result
    finally:
        TOOL_CALL_SECONDS.labels(server=server, tool=tool).observe(time.perf_counter() - started)
        TOOL_CALLS.labels(server=server, tool=tool, outcome=outcome).inc()
