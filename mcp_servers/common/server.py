"""The MCP server base the tool servers share: readable argument errors, resources, prompts and
completions that know who is calling, JSON-RPC errors without tracebacks, and the HTTP app."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, cast

from mcp.server import MCPServer
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedResourceError
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.shared.uri_template import UriTemplate
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolResult,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    GetPromptResult,
    InputRequiredResult,
    ListResourcesResult,
    PaginatedRequestParams,
    PromptReference,
    Resource,
    ToolAnnotations,
)
from pydantic import AnyHttpUrl, AnyUrl, SecretStr, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_servers.common.call_log import CallLog
from mcp_servers.common.identity import BearerVerifier, IdentityResolver, TokenCodec
from mcp_servers.common.metrics import UNKNOWN_TOOL, measured_call
from mcp_servers.common.results import describe_validation_error
from mcp_servers.common.settings import ServerSettings
from mcp_servers.common.stdio_errors import MalformedLineReplies
from mcp_servers.common.stdio_pipes import pipe_stdio
from plumbing.metrics import MetricsAccess, MetricsEndpoint, is_loopback

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
VERSION = "0.1.0"
Transport = Literal["stdio", "http", "memory"]
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]
# A static resource's content for the caller: (ctx) -> text.
ResourceReader = Callable[[Context], Awaitable[str]]
# The caller's own resources for resources/list: (ctx, cursor) -> (page, next cursor or None).
ResourceLister = Callable[[Context, str | None], Awaitable[tuple[list[Resource], str | None]]]
# Completion values for one argument: (ctx, partial value, the other arguments) -> candidates;
# more than MAX_COMPLETIONS means "and more".
Completer = Callable[[Context, str, Mapping[str, str]], Awaitable[Sequence[str]]]
MAX_COMPLETIONS = 100  # the most values one completion/complete result may carry (MCP spec)

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


@dataclass(frozen=True, slots=True)
class _StaticResource:
    listing: Resource
    read: ResourceReader


def _is_error_result(result: CallToolResult | InputRequiredResult) -> bool:
    return isinstance(result, CallToolResult) and bool(result.is_error)


class ToolServer(MCPServer[Any]):
    """`MCPServer` whose argument errors read as one sentence per bad field, whose resources,
    prompts and completions see the request (so they can ask who is calling), and whose
    anticipated protocol errors (unknown prompt, bad arguments) are JSON-RPC errors without a
    logged traceback. Malformed lines on stdio get a JSON-RPC error reply."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._static_resources: dict[str, _StaticResource] = {}
        self._resource_lister: ResourceLister | None = None
        self._completers: dict[tuple[str, str, str], Completer] = {}
        # resources/list answers per caller (the SDK's handler sees no request).
        self._lowlevel_server.add_request_handler(
            "resources/list", PaginatedRequestParams, self._list_resources_for_caller
        )

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool, counted and timed (mcp_tool_calls_total, mcp_tool_call_seconds)."""
        tool = name if self._tool_manager.get_tool(name) is not None else UNKNOWN_TOOL
        return await measured_call(
            self.name, tool, lambda: self._call_tool(name, arguments, context), _is_error_result
        )

    async def _call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None
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

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[Any, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        """Render a prompt. An unknown prompt, a missing required argument or an invalid one is
        -32602 (invalid params, as the MCP spec says); a crash while rendering is -32603, logged once."""
        prompts = {prompt.name: prompt for prompt in await self.list_prompts()}
        prompt = prompts.get(name)
        if prompt is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown prompt '{name}'. Prompts: {', '.join(sorted(prompts)) or 'none'}.",
                data={"name": name},
            )
        given = arguments or {}
        missing = [arg.name for arg in prompt.arguments or [] if arg.required and arg.name not in given]
        if missing:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Prompt '{name}' needs the argument(s): {', '.join(missing)}.",
                data={"name": name, "missing": missing},
            )
        try:
            return await super().get_prompt(name, arguments, context)
        except MCPError:
            raise
        except ValueError as exc:  # the SDK wraps every failure: ValueError <- ValueError <- cause
            cause = exc.__cause__.__cause__ if exc.__cause__ is not None else None
            if isinstance(cause, ValidationError):
                message = describe_validation_error(f"prompt '{name}'", cause)
                raise MCPError(code=INVALID_PARAMS, message=message, data={"name": name}) from None
            logger.error("Prompt %r raised an unexpected exception", name, exc_info=cause or exc)
            raise MCPError(code=INTERNAL_ERROR, message=f"Error rendering prompt '{name}'.") from None

    def static_resource(
        self, uri: str, *, name: str, title: str, description: str, mime_type: str
    ) -> Callable[[ResourceReader], ResourceReader]:
        """Register a fixed-URI resource whose reader gets the request `Context` (the SDK's static
        resources get none, so they could not check the caller's identity)."""

        def register(read: ResourceReader) -> ResourceReader:
            listing = Resource(uri=uri, name=name, title=title, description=description, mime_type=mime_type)
            self._static_resources[uri] = _StaticResource(listing, read)
            return read

        return register

    def resource_lister(self, lister: ResourceLister) -> ResourceLister:
        """Register what resources/list shows the caller after the static resources (paged)."""
        self._resource_lister = lister
        return lister

    def completer(
        self, argument: str, *, prompt: str | None = None, template: str | None = None
    ) -> Callable[[Completer], Completer]:
        """Register completion values for `argument` of a prompt or of a resource template."""
        if (prompt is None) == (template is None):
            raise ValueError("name exactly one of prompt= or template=")
        key = ("ref/prompt", prompt, argument) if prompt is not None else ("ref/resource", template, argument)

        def register(complete: Completer) -> Completer:
            if not self._completers:  # completions are advertised once something completes
                self._lowlevel_server.add_request_handler(
                    "completion/complete", CompleteRequestParams, self._complete
                )
            self._completers[cast(tuple[str, str, str], key)] = complete
            return complete

        return register

    async def list_resources(self) -> list[Resource]:
        """The static resources (the SDK's and ours), without the caller's own."""
        return [
            *await super().list_resources(),
            *(entry.listing for entry in self._static_resources.values()),
        ]

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        """Read a resource: one of our static ones with the request context, else the SDK's."""
        entry = self._static_resources.get(str(uri))
        if entry is None:
            return await super().read_resource(uri, context)
        try:
            content = await entry.read(context if context is not None else Context(mcp_server=self))
        except (MCPError, ResourceError):
            raise
        except Exception as exc:
            raise UnexpectedResourceError(f"Error reading resource {uri}") from exc
        return [ReadResourceContents(content=content, mime_type=entry.listing.mime_type)]

    async def _list_resources_for_caller(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> ListResourcesResult:
        resources = await self.list_resources() if params.cursor is None else []
        next_cursor = None
        if self._resource_lister is not None:
            page, next_cursor = await self._resource_lister(self._context(ctx), params.cursor)
            resources.extend(page)
        elif params.cursor is not None:
            raise MCPError(code=INVALID_PARAMS, message="Invalid cursor: this listing has one page.")
        return ListResourcesResult(resources=resources, next_cursor=next_cursor)

    async def _complete(
        self, ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams
    ) -> CompleteResult:
        ref, argument = params.ref, params.argument.name
        if isinstance(ref, PromptReference):
            key = ("ref/prompt", ref.name, argument)
            prompt = next((entry for entry in await self.list_prompts() if entry.name == ref.name), None)
            if prompt is None:
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt '{ref.name}'.")
            known = {arg.name for arg in prompt.arguments or []}
        else:
            key = ("ref/resource", ref.uri, argument)
            templates = {entry.uri_template for entry in await self.list_resource_templates()}
            if ref.uri not in templates:
                raise MCPError(code=INVALID_PARAMS, message=f"Unknown resource template '{ref.uri}'.")
            known = set(UriTemplate.parse(ref.uri).variable_names)
        if argument not in known:
            raise MCPError(code=INVALID_PARAMS, message=f"'{argument}' is not an argument of {key[1]}.")
        complete = self._completers.get(key)
        if complete is None:
            return CompleteResult(completion=Completion(values=[], total=0, has_more=False))
        context_arguments = (params.context.arguments if params.context else None) or {}
        try:
            values = list(await complete(self._context(ctx), params.argument.value, context_arguments))
        except MCPError:
            raise
        except Exception:
            logger.exception("Completing %r of %r raised an unexpected exception", argument, key[1])
            raise MCPError(code=INTERNAL_ERROR, message=f"Error completing '{argument}'.") from None
        more = len(values) > MAX_COMPLETIONS  # then how many there are in all is not known
        return CompleteResult(
            completion=Completion(
                values=values[:MAX_COMPLETIONS], total=None if more else len(values), has_more=more
            )
        )

    def _context(self, ctx: ServerRequestContext[Any, Any]) -> Context[Any, Any]:
        return Context(request_context=ctx, mcp_server=self)

    async def run_stdio_async(self) -> None:
        """Serve over stdio; on pipes (as under an MCP client) without the SDK's reader threads.
        A line that is not a JSON-RPC message gets a JSON-RPC error reply."""
        async with pipe_stdio() as pipes:
            stdin, stdout = pipes if pipes is not None else (None, None)
            async with stdio_server(cast(Any, stdin), cast(Any, stdout)) as (read_stream, write_stream):
                lowlevel = self._lowlevel_server
                await lowlevel.run(
                    MalformedLineReplies(read_stream, write_stream),
                    write_stream,
                    lowlevel.create_initialization_options(),
                )


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
        # No change notifications are sent (the tool, prompt and resource lists are fixed, and
        # resources/subscribe is not served), so none is advertised.
        subscriptions=False,
        middleware=[CallLog()],  # each call as part of the backend request it is for, logged once
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


class TrimHeaderValues:
    """ASGI middleware: header values without the optional whitespace around them (RFC 9110 5.5:
    it is not part of the value). uvicorn's parser keeps trailing whitespace, and the SDK compares
    `Mcp-Name` and its kin with the request body as they arrive."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if any(value[:1] in (b" ", b"\t") or value[-1:] in (b" ", b"\t") for _, value in headers):
                scope = {**scope, "headers": [(name, value.strip(b" \t")) for name, value in headers]}
        await self.app(scope, receive, send)


def http_app(
    server: MCPServer[Any], *, host: str, allowed_hosts: list[str], metrics_token: SecretStr | None = None
) -> Starlette:
    """The streamable HTTP app at `/mcp` (stateless, for modern and legacy clients alike, JSON
    responses; header values trimmed), `GET /healthz` for container health checks, and `GET
    /metrics` (METRICS_TOKEN when set, else open when listening on loopback, else loopback
    clients only: plumbing.metrics)."""
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(host, allowed_hosts),
        host=host,
    )
    app.router.routes.append(Route(HEALTH_PATH, healthz, methods=["GET"]))
    app.add_middleware(TrimHeaderValues)
    access = MetricsAccess(metrics_token, loopback_only_service=is_loopback(host))
    app.add_middleware(MetricsEndpoint, access=access)  # outside the bearer-token check of /mcp
    return app
