"""The console-script front shared by the servers: parse argv, pick the transport, or mint a token."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from mcp.server import MCPServer

from mcp_servers.common.gc_tuning import tune_for_serving
from mcp_servers.common.identity import DEFAULT_TTL_SECONDS, TokenCodec
from mcp_servers.common.server import MCP_PATH, http_app
from mcp_servers.common.settings import ServerSettings


def run_cli(
    *,
    prog: str,
    default_port: int,
    load_settings: Callable[[], ServerSettings],
    create_server: Callable[..., MCPServer[Any]],
    argv: Sequence[str] | None = None,
) -> None:
    """Serve over stdio or streamable HTTP, or (`token --user NAME`) print an identity token."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["token"]:
        _mint(prog, args[1:], load_settings)
        return
    parser = argparse.ArgumentParser(prog=prog, description=f"{prog}: an MCP tool server.")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help=f"HTTP port (default {default_port})")
    parser.epilog = f"Mint a token for the HTTP transport with: {prog} token --user NAME"
    options = parser.parse_args(args)
    settings = load_settings()
    if options.transport == "stdio":
        server = create_server(settings, transport="stdio")
        tune_for_serving()
        server.run("stdio")
        return
    server = create_server(settings, transport="http")
    app = http_app(server, host=options.host, allowed_hosts=settings.mcp_allowed_hosts)
    tune_for_serving()
    print(f"{prog}: serving MCP at http://{options.host}:{options.port}{MCP_PATH}", file=sys.stderr)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", access_log=False)


def _mint(prog: str, args: list[str], load_settings: Callable[[], ServerSettings]) -> None:
    parser = argparse.ArgumentParser(prog=f"{prog} token", description="Print an identity token for a user.")
    parser.add_argument("--user", required=True, help="the user id (the token's sub)")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS * 12, help="lifetime in seconds")
    options = parser.parse_args(args)
    if options.ttl < 1:
        parser.error("--ttl must be at least 1 second")
    codec = TokenCodec(load_settings().auth_secret())
    try:
        print(codec.mint(options.user, ttl_seconds=options.ttl))
    except ValueError as exc:
        parser.error(str(exc))
