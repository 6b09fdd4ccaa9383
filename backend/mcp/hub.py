"""Connections to the configured MCP servers: opened once, shared by all requests and users.

Identity rides on each call (`_meta`), never on the connection. A server that fails to start is
left out (its tools are missing, the rest work) and retried on later turns; a server whose
connection breaks during a call is reconnected (its process restarted) on the next turn, and one
whose connection ended between turns (a stdio child that died) on the turn that finds it so. A
server killed while it restarts fails to connect and is retried after RETRY_INTERVAL_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from agents import AgentBase, FunctionTool, RunContextWrapper, Tool
from agents.mcp import MCPServer, MCPServerManager, create_static_tool_filter
from agents.mcp.util import MCPToolCustomDataContext, MCPToolMetaContext, MCPUtil
from agents.tool import get_function_tool_origin
from mcp_types import CallToolResult, GetPromptResult
from mcp_types import Prompt as McpPrompt
from mcp_types import Tool as McpTool

from backend.mcp.approval_policy import sdk_policy, unknown_tools
from backend.mcp.config import McpConfigError, McpServerConfig
from backend.mcp.metered import MeteredStdio, MeteredStreamableHttp
from backend.metrics import count_tool_call, publish_mcp_status
from plumbing.logs import inherited_logging
from shared_widgets import BUILTIN, WidgetLibrary

logger = logging.getLogger(__name__)
RETRY_INTERVAL_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 20.0
MetaResolver = Callable[[MCPToolMetaContext], Awaitable[dict[str, Any] | None]]
DataExtractor = Callable[[MCPToolCustomDataContext], Awaitable[Mapping[str, Any] | None]]


class ToolUnavailable(Exception):
    """A direct tool call that could not reach its server; the message is written for the user."""


async def _prompts_of(server: MCPServer) -> list[McpPrompt]:
    """The prompts a server lists (none when it does not offer prompts or cannot list them)."""
    initialized = getattr(server, "server_initialize_result", None)
    capabilities = getattr(initialized, "capabilities", None)
    if capabilities is not None and capabilities.prompts is None:
        return []
    try:
        return list((await server.list_prompts()).prompts)
    except Exception as exc:  # a server's prompts are a nicety: its tools still work
        logger.warning("MCP server %r: could not list prompts: %r", server.name, exc)
        return []


def connection_lost(server: MCPServer) -> bool:
    """Whether a connected server's connection has ended (a stdio child that exited closes its
    stdout, and the session's receive loop stops at once). The mcp client exposes no public flag:
    its dispatcher's `_closed` is read, defaulting to "alive" should that internal change."""
    session = getattr(server, "session", None)
    dispatcher = getattr(session, "_dispatcher", None)
    return bool(getattr(dispatcher, "_closed", False))


class McpHub:
    """The MCP servers of the config, each in its own manager so one can restart alone."""

    def __init__(
        self,
        configs: Mapping[str, McpServerConfig],
        *,
        meta_resolver: MetaResolver,
        data_extractor: DataExtractor,
        service_token: str | None = None,
        library: WidgetLibrary = BUILTIN,
    ) -> None:
        self._configs = dict(configs)
        self.library = library
        self._service_token = service_token
        self._meta_resolver = meta_resolver
        self._data_extractor = data_extractor
        self._managers: dict[str, MCPServerManager] = {}
        self._broken: set[str] = set()
        self._restarting: set[str] = set()  # being reconnected right now (down until it is back)
        self._retry: asyncio.Task[list[MCPServer]] | None = None  # a probe's retry, in the background
        self._last_attempt: dict[str, float] = {}
        self._tools: dict[str, list[Tool]] = {}  # per server, converted once per connection
        # Every offered tool, per server, as last listed (kept while the server is down).
        self._listed: dict[str, dict[str, McpTool]] = {}
        # The line shown while a tool runs, per (server, tool), from its title or its binding.
        self._progress: dict[tuple[str, str], str] = {}
        self._misfits: dict[str, list[str]] = {}
        # Each server's prompts (MCP `prompts/list`), as last listed; the page offers them.
        self._prompts: dict[str, list[McpPrompt]] = {}
        # One conversion at a time per server: the turns that arrive together on a cold cache
        # wait for it instead of each listing and converting the tools again.
        self._converting: dict[str, asyncio.Lock] = {name: asyncio.Lock() for name in self._configs}
        for name, config in self._configs.items():
            server = self._build(name, config)
            # Starting a process takes longer than a call may: connecting gets its own, larger bound.
            connect_timeout = max(config.timeout_seconds, CONNECT_TIMEOUT_SECONDS)
            self._managers[name] = MCPServerManager(
                [server], connect_timeout_seconds=connect_timeout, connect_in_parallel=True
            )

    def _build(self, name: str, config: McpServerConfig) -> MCPServer:
        common: dict[str, Any] = {
            "name": name,
            "cache_tools_list": True,
            "client_session_timeout_seconds": config.timeout_seconds,
            "tool_filter": create_static_tool_filter(
                allowed_tool_names=config.allow_tools, blocked_tool_names=config.deny_tools or None
            ),
            "tool_meta_resolver": self._meta_resolver,
            "custom_data_extractor": self._data_extractor,
            "require_approval": sdk_policy(config.require_approval),
            "failure_error_function": self._failure_message(name),
        }
        if config.command is not None:
            env = {**inherited_logging(), **config.env}  # a child logs as we do, unless told otherwise
            params = {"command": config.command, "args": config.args, "env": env or None}
            if config.cwd:
                params["cwd"] = config.cwd
            return MeteredStdio(params=params, **common)  # type: ignore[arg-type]
        # Over HTTP the connection itself must authenticate (401 otherwise): the backend's own
        # service identity, unless the config names a header. The user still rides in `_meta`.
        headers = dict(config.headers)
        if self._service_token and not any(key.lower() == "authorization" for key in headers):
            headers["Authorization"] = f"Bearer {self._service_token}"
        http = {"url": config.url, "headers": headers, "timeout": config.timeout_seconds}
        return MeteredStreamableHttp(params=http, **common)  # type: ignore[arg-type]

    def _failed(self, name: str, error: Exception) -> bool:
        """Note a failed call; True when it timed out (a broken connection is restarted next turn)."""
        if "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower():
            return True
        self._broken.add(name)
        logger.warning("MCP server %r failed during a call: %s", name, error)
        return False

    def _failure_message(self, name: str) -> Callable[[RunContextWrapper[Any], Exception], str]:
        def message(_: RunContextWrapper[Any], error: Exception) -> str:
            if self._failed(name, error):
                return f"The {name} tool server did not answer in time. Please try again in a moment."
            return (
                f"The {name} tool server is unavailable right now; it will be restarted on the next "
                "message. Please try again in a moment."
            )

        return message

    async def start(self, agent: AgentBase) -> None:
        """Connect every server and convert its tools for `agent`; failures are logged and left
        for a later turn."""
        for name, manager in self._managers.items():
            self._last_attempt[name] = time.monotonic()
            await manager.__aenter__()
            for server, error in manager.errors.items():
                logger.warning("MCP server %r could not start: %r", server.name, error)
        try:
            await self.function_tools(agent)
        except Exception as exc:  # a server that lists no tools now is retried on a turn
            logger.warning("MCP tools could not be listed at start: %r", exc)
        for name, offered in self._listed.items():
            unknown = unknown_tools(self._configs[name].require_approval, offered)
            if unknown:
                await self.close()
                raise McpConfigError(
                    f"MCP config, server {name!r}: require_approval names tools the server does not "
                    f"offer: {', '.join(unknown)} (it offers {', '.join(sorted(offered)) or 'none'})"
                )
            misfits = self._misfits.get(name)
            if misfits:
                await self.close()
                raise McpConfigError(f"MCP config, server {name!r}, widgets: " + " | ".join(misfits))

    async def close(self) -> None:
        """Close every connection (stdio servers' processes end)."""
        if self._retry is not None:
            self._retry.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._retry
        for manager in self._managers.values():
            await manager.__aexit__(None, None, None)

    def _notice_lost(self) -> None:
        """Mark broken every server whose connection ended since (its process died)."""
        for name, manager in self._managers.items():
            if name in self._broken or name in self._restarting:  # known, or its old connection
                continue
            if any(map(connection_lost, manager.active_servers)):
                logger.warning("MCP server %r: its connection ended (the process exited?)", name)
                self._broken.add(name)

    async def servers(self) -> list[MCPServer]:
        """The connected servers for this turn, after retrying broken, dead or failed ones."""
        retry = self._retry
        if retry is not None and not retry.done() and retry is not asyncio.current_task():
            await asyncio.wait({retry})  # a probe's restart is under way: this turn gets its tools
        self._notice_lost()
        now = time.monotonic()
        for name, manager in self._managers.items():
            # A connection that broke is restarted at once; a server that will not start is
            # retried at most every RETRY_INTERVAL_SECONDS.
            waited = now - self._last_attempt.get(name, 0.0) >= RETRY_INTERVAL_SECONDS
            if name in self._broken or (manager.failed_servers and waited):
                self._last_attempt[name] = now
                self._broken.discard(name)
                self._tools.pop(name, None)
                self._restarting.add(name)
                try:
                    await manager.reconnect(failed_only=False)
                finally:
                    self._restarting.discard(name)
                if manager.failed_servers:
                    logger.warning("MCP server %r is still down: %r", name, list(manager.errors.values()))
        self.status()  # publishes chatkit_mcp_server_up as this turn found the servers
        return [server for manager in self._managers.values() for server in manager.active_servers]

    async def function_tools(self, agent: AgentBase) -> list[Tool]:
        """The tools of the connected servers as Agents SDK function tools.

        The SDK would list (from its cache), deep-copy and convert every tool on every model call:
        ~10 ms of a tool turn here. The conversion is done once per connection instead; each tool
        still calls its server with the per-call identity and widget hooks of that server.
        """
        tools: list[Tool] = []
        for server in await self.servers():
            if server.name not in self._tools:
                async with self._converting[server.name]:
                    if server.name not in self._tools:  # another turn may have done it meanwhile
                        converted = await MCPUtil.get_function_tools(
                            server, False, RunContextWrapper(context=None), agent
                        )
                        self._learn(server.name, server.cached_tools or [], converted)
                        self._prompts[server.name] = await _prompts_of(server)
                        self._tools[server.name] = converted
            tools.extend(self._tools[server.name])
        return tools

    def _learn(self, name: str, listed: list[McpTool], converted: list[Tool]) -> None:
        """Note what a server offers, its tools' progress lines, and whether its widgets fit."""
        offered = {tool.name for tool in converted}
        self._listed[name] = {tool.name: tool for tool in listed if tool.name in offered}
        for tool in listed:
            title = tool.title or (tool.annotations.title if tool.annotations is not None else None)
            self._progress[name, tool.name] = self.library.progress(name, tool.name, title)
        misfits = self.library.misfits(name, {tool.name: tool.output_schema for tool in listed})
        self._misfits[name] = misfits
        for misfit in misfits:  # at start these stop the backend; later, results fall back to generic widgets
            logger.error("MCP server %r: %s", name, misfit)

    def progress(self, tool: Tool) -> str:
        """The line to show while `tool` runs (its MCP title, its binding's label, or its name)."""
        origin = get_function_tool_origin(tool) if isinstance(tool, FunctionTool) else None
        server = origin.mcp_server_name if origin is not None else None
        known = self._progress.get((server, tool.name)) if server is not None else None
        return known or self.library.progress(server or "", tool.name)

    def prompts(self) -> list[tuple[str, McpPrompt]]:
        """Every prompt the servers offer, as (server, prompt), in config order."""
        return [(name, prompt) for name in self._configs for prompt in self._prompts.get(name, [])]

    async def get_prompt(self, server: str, name: str, meta: dict[str, Any]) -> GetPromptResult:
        """One prompt of `server` (`prompts/get`, no arguments) with `meta` on the request (the
        user's identity); `ToolUnavailable` when the server is not connected."""
        connection = {connection.name: connection for connection in await self.servers()}.get(server)
        session = getattr(connection, "session", None)
        if connection is None or session is None:
            raise ToolUnavailable(f"The {server} tool server is unavailable right now.")
        timeout = self._configs[server].timeout_seconds
        return await asyncio.wait_for(session.get_prompt(name, None, meta=meta), timeout)

    def configured(self, server: str) -> bool:
        """Whether the config has a server of this name (enabled)."""
        return server in self._configs

    def tools(self, server: str) -> list[McpTool]:
        """The tools `server` offers (as last listed)."""
        return list(self._listed.get(server, {}).values())

    def tool(self, server: str, name: str) -> McpTool | None:
        """One tool `server` offers (as last listed), or None."""
        return self._listed.get(server, {}).get(name)

    def tool_schema(self, server: str, tool: str) -> dict[str, Any] | None:
        """The input schema of `tool` when `server` offers it (as last listed), else None."""
        listed = self.tool(server, tool)
        return listed.input_schema if listed is not None else None

    async def call_tool(
        self, server: str, tool: str, arguments: dict[str, Any], meta: dict[str, Any]
    ) -> CallToolResult:
        """Call one tool directly (a widget action, no model involved), with `meta` on the request.
        A server that cannot be reached raises `ToolUnavailable`; the tool's own errors come back
        as a result with `is_error`."""
        connected = {connection.name: connection for connection in await self.servers()}
        connection = connected.get(server)
        if connection is None:
            count_tool_call(server, tool, "unavailable")  # the calls that reach a connection count there
            raise ToolUnavailable(
                f"The {server} tool server is unavailable right now. Try again in a moment."
            )
        try:
            return await connection.call_tool(tool, arguments, meta=meta)
        except Exception as error:
            what = "did not answer in time" if self._failed(server, error) else "is unavailable right now"
            raise ToolUnavailable(f"The {server} tool server {what}. Try again in a moment.") from error

    def retry_soon(self) -> None:
        """Give broken or failed servers their retry (`servers()`) in the background, one at a time:
        a readiness probe answers at once instead of waiting for a restart."""
        if self._retry is None or self._retry.done():
            self._retry = asyncio.create_task(self._retry_quietly())

    async def _retry_quietly(self) -> list[MCPServer]:
        try:
            return await self.servers()
        except Exception as exc:  # the next probe or turn tries again
            logger.warning("MCP servers could not be retried: %r", exc)
            return []

    def status(self) -> dict[str, str]:
        """`ok`, or why a server is down, for /readyz (a server whose process died is down at once)."""
        self._notice_lost()
        states = {}
        for name, manager in self._managers.items():
            if name in self._broken:
                states[name] = "down: connection lost"
            elif name in self._restarting:
                states[name] = "down: restarting"
            elif manager.failed_servers:
                error = next(iter(manager.errors.values()), None)
                states[name] = f"down: {type(error).__name__ if error else 'not connected'}"
            else:
                states[name] = "ok"
        publish_mcp_status(states)
        return states
