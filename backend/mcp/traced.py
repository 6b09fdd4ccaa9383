"""MCP server connections whose tool calls get a span each, when tracing is on (`plumbing.tracing`).

Every tool call the backend makes passes through a connection's `call_tool` (the model's, a resumed
approved call, a widget action's, an approval description's), so the span is opened there:
`execute_tool <tool>` with the server, the tool and the outcome (`ok`, `error`, `unavailable`, as
`chatkit_tool_calls_total` counts them), a child of the request's span. The MCP SDK's own client
span (`MCP send tools/call <tool>`) opens below it and writes its `traceparent` into the call's
`_meta`, so the tool server's span continues this trace under this span. Neither arguments nor
results are recorded.
"""

from __future__ import annotations

from typing import Any

from agents.mcp import MCPServer
from mcp_types import CallToolResult
from opentelemetry import trace

from backend.metrics import tool_outcome
from plumbing import tracing

SERVER = "mcp.server.name"
TOOL = "gen_ai.tool.name"
OUTCOME = "chatkit.tool.outcome"


class Traced(MCPServer):
    """Opens a span around each `call_tool` (when tracing is on), current while the call runs; a
    mixin before the concrete server class (`class X(Traced, MCPServerStdio)`)."""

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        if not tracing.enabled():
            return await super().call_tool(tool_name, arguments, meta)  # type: ignore[safe-super]
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "mcp.method.name": "tools/call",
            SERVER: self.name,
            TOOL: tool_name,
        }
        with tracing.tracer("backend.mcp").start_as_current_span(
            f"execute_tool {tool_name}",
            kind=trace.SpanKind.INTERNAL,
            attributes=attributes,
            record_exception=False,  # exception messages may quote arguments
            set_status_on_exception=False,
        ) as span:
            try:
                result = await super().call_tool(tool_name, arguments, meta)  # type: ignore[safe-super]
            except BaseException as error:
                outcome = tool_outcome(error) if isinstance(error, Exception) else "cancelled"
                span.set_attribute(OUTCOME, outcome)
                tracing.record_failure(span, error, outcome)
                raise
            outcome = tool_outcome(None, bool(result.is_error))
            span.set_attribute(OUTCOME, outcome)
            if outcome != "ok":
                span.set_status(trace.Status(trace.StatusCode.ERROR, outcome))
                span.set_attribute("error.type", "tool_error")
            return result
