"""The MCP server base the tool servers share: readable argument errors and the HTTP app."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, InputRequiredResult
from pydantic import AnyHttpUrl, ValidationError
from starlette.applications import Starlette

from mcp_servers.common.identity import BearerVerifier, TokenCodec
from mcp_servers.common.results import describe_validation_error

MCP_PATH = "/mcp"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ToolServer(MCPServer[Any]):
    """`MCPServer` whose argument errors read as one sentence per bad field."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool; argument errors become one readable `ToolError`, tool errors keep their own words."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(describe_validation_error(name, cause)) from cause
            if type(cause) is ToolError:  # ours, already worded for a person: drop the SDK's prefix
                raise cause from None
            raise


def http_auth(codec: TokenCodec) -> dict[str, Any]:
    """Constructor arguments that make the HTTP transport demand a valid bearer token (else 401)."""
    return {
        "token_verifier": BearerVerifier(codec),
        # Resource-server mode only: no OAuth routes are served; the issuer is informational.
        "auth": AuthSettings(issuer_url=AnyHttpUrl("http://127.0.0.1"), resource_server_url=None),
    }


def transport_security(host: str, allowed_hosts: list[str]) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names always, plus the configured public host names."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    for name in allowed_hosts:
        hosts.append(name if ":" in name else f"{name}:*")
        origins.extend([f"http://{name}", f"https://{name}"])
    if host not in LOOPBACK_HOSTS and host not in ("0.0.0.0", "::") and host not in allowed_hosts:
        hosts.append(f"{host}:*")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def http_app(server: MCPServer[Any], *, host: str, allowed_hosts: list[str]) -> Starlette:
    """The streamable HTTP app at `/mcp`: stateless (modern and legacy clients alike), JSON responses."""
    return server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(host, allowed_hosts),
        host=host,
    )
