"""MCP server connections that count their tool calls (chatkit_tool_calls_total).

Every tool call the backend makes passes through a connection's `call_tool`: the model's (the
Agents SDK's function tools), an approved call when a paused run resumes, and the direct calls of
widget actions and approval descriptions (McpHub.call_tool), so the count is taken there, once.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from agents.mcp import MCPServerStdio, MCPServerStreamableHttp
from mcp_types import CallToolResult

from backend.mcp.traced import Traced
from backend.metrics import count_tool_call, tool_outcome


async def _counted(server: str, tool: str, call: Awaitable[CallToolResult]) -> CallToolResult:
    """Await one call, counting it by server, tool and outcome (a cancelled call is not counted)."""
    try:
        result = await call
    except Exception as error:
        count_tool_call(server, tool, tool_outcome(error))
        raise
    count_tool_call(server, tool, tool_outcome(None, bool(result.is_error)))
    return result


class MeteredStdio(Traced, MCPServerStdio):
    """An MCP server over stdio whose tool calls are counted (and traced: `backend.mcp.traced`)."""

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        return await _counted(self.name, tool_name, super().call_tool(tool_name, arguments, meta))


class MeteredStreamableHttp(Traced, MCPServerStreamableHttp):
    """An MCP server over streamable HTTP whose tool calls are counted (and traced)."""

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        return await _counted(self.name, tool_name, super().call_tool(tool_name, arguments, meta))
