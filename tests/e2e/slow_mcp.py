"""A tiny MCP server with a tool slower than the backend's timeout (for the fault tests)."""

from __future__ import annotations

import anyio
from mcp.server import MCPServer

server = MCPServer("slow")


@server.tool()
async def slow_echo(text: str, seconds: float = 5.0) -> str:
    """Echo `text` after `seconds`."""
    await anyio.sleep(seconds)
    return text


if __name__ == "__main__":
    server.run("stdio")
