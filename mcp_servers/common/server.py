"""The MCP server base the tool servers share: readable argument errors and the HTTP app."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, cast

from mcp.server import MCPServer
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import AnyHttpUrl, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_servers.common.identity import BearerVerifier, IdentityResolver, TokenCodec
from mcp_servers.common.results import describe_validation_error
from mcp_servers.common.settings import ServerSettings
from mcp_servers.common.stdio_pipes import pipe_stdio

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
VERSION = "0.1.0"
Transport = Literal["stdio", "http", "memory"]
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]

READ_ONLY = ToolAnnotations(
    read_only_hint=True, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)
IDEMPOTENT = ToolAnnotations(
    read_only_hint=False, idempotent_hint=True, destructive_hint=False, open_world_hint=False
)
WRITE = ToolAnnotations(
    read_only_hint=False, idempotent_hint=False, destructive_hint=False, open_world_hint=False
)
DESTRUCTIVE = ToolAnnotations(
    read_only_hint=False, idempotent_hint=False, destructive_hint=True, open_world_hint=False
)


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

    async def run_stdio_async(self) -> None:
        """Serve over stdio; on pipes (as under an MCP client) without the SDK's reader threads."""
        async with pipe_stdio() as pipes:
            stdin, stdout = pipes if pipes is not None else (None, None)
            async with stdio_server(cast(Any, stdin), cast(Any, stdout)) as (read_stream, write_stream):
                lowlevel = self._lowlevel_server
                await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def create_tool_server(
    name: str,
    *,
    instructions: str,
    settings: ServerSettings,
    transport: Transport,
    lifespan: Lifespan,
) -> tuple[ToolServer, IdentityResolver]:
    """A server and the resolver its tools ask who is calling. Over HTTP every request needs a
    valid bearer token; over stdio or in memory a call without a token acts for the local user."""
    codec = TokenCodec(settings.auth_secret())
    identity = IdentityResolver(
        codec, anonymous_user=None if transport == "http" else settings.mcp_local_user
    )
    server = ToolServer(
        name,
        title=name.capitalize(),
        instructions=instructions,
        version=VERSION,
        lifespan=lifespan,
        log_level=settings.mcp_log_level,
        **(http_auth(codec) if transport == "http" else {}),
    )
    return server, identity


def lifespan_state(ctx: Context) -> Any:
    """What the server's lifespan yielded (the data source its tools use)."""
    return ctx.request_context.lifespan_context


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
        hosts.extend([name] if ":" in name else [name, f"{name}:*"])  # behind a proxy Host may lack a port
        origins.extend([f"http://{name}", f"https://{name}"])
    if host not in LOOPBACK_HOSTS and host not in ("0.0.0.0", "::") and host not in allowed_hosts:
        hosts.append(f"{host}:*")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


async def healthz(_: Request) -> JSONResponse:
    """Liveness, without a token: the process serves HTTP (its database was prepared at start)."""
    return JSONResponse({"status": "ok"})


def http_app(server: MCPServer[Any], *, host: str, allowed_hosts: list[str]) -> Starlette:
    """The streamable HTTP app at `/mcp` (stateless, for modern and legacy clients alike, JSON
    responses), and `GET /healthz` for container health checks."""
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(host, allowed_hosts),
        host=host,
    )
    app.router.routes.append(Route(HEALTH_PATH, healthz, methods=["GET"]))
    return app
