"""What happens around each MCP tool call: identity in `_meta`, progress, and the result's widget."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from agents import Agent, RunContextWrapper, RunHooks, Tool
from agents.mcp.util import MCPToolCustomDataContext, MCPToolMetaContext
from chatkit.agents import AgentContext
from chatkit.types import ProgressUpdateEvent, ThreadItemDoneEvent, WidgetItem

from backend.idempotency_keys import key_meta
from backend.mcp.identity import IDENTITY_META_KEY, IdentityTokens
from backend.store import SqlStore
from plumbing.call_meta import outgoing
from shared_widgets import BUILTIN, WidgetLibrary

logger = logging.getLogger(__name__)


def _agent_context(run_context: RunContextWrapper[Any]) -> AgentContext[Any]:
    context = run_context.context
    if not isinstance(context, AgentContext):
        raise TypeError("tool calls run inside a ChatKit AgentContext")
    return context


class ToolEvents(RunHooks[Any]):
    """Identity for every call, a progress line while a tool runs, a widget for its result."""

    def __init__(self, secret: str, library: WidgetLibrary = BUILTIN) -> None:
        self._tokens = IdentityTokens(secret)
        self.library = library
        # The progress line of a tool: the MCP hub's (title, binding, name) once it is connected.
        self.progress: Callable[[Tool], str] = lambda tool: library.progress("", tool.name)

    async def identity(self, call: MCPToolMetaContext) -> dict[str, Any]:
        """The `_meta` of one tool call: a short-lived token for the end user of this run, and the
        call's idempotency key when it is journaled (`backend.idempotency_keys`)."""
        user_id = _agent_context(call.run_context).request_context.user_id
        return {**self.identity_meta(user_id), **key_meta()}

    def identity_meta(self, user_id: str) -> dict[str, Any]:
        """The `_meta` that makes a tool call act for `user_id` (also used by widget actions), with
        the request id and trace context of the request it is made for (`plumbing.call_meta`)."""
        return {IDENTITY_META_KEY: self._tokens.token_for(user_id), **outgoing()}

    async def on_tool_start(self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool) -> None:
        """Show the call while it runs."""
        await _agent_context(context).stream(ProgressUpdateEvent(icon="bolt", text=self.progress(tool)))

    async def widget(self, result: MCPToolCustomDataContext) -> Mapping[str, Any] | None:
        """Render a successful structured result as a widget and stream it into the thread; a widget
        with actions keeps what it was rendered from, for them."""
        if result.is_error or not result.structured_content:
            return None
        try:
            bound = self.library.bind_tool_result(
                result.server_name, result.tool_name, result.structured_content, result.arguments
            )
        except Exception:  # a template bug must not fail the tool call: the text reply still arrives
            logger.exception("Could not render %s/%s as a widget", result.server_name, result.tool_name)
            return None
        if bound is None:
            return None
        context = _agent_context(result.run_context)
        item = WidgetItem(
            id=context.store.generate_item_id("message", context.thread, context.request_context),
            thread_id=context.thread.id,
            created_at=datetime.now(),
            widget=bound.widget,
        )
        if isinstance(context.store, SqlStore) and bound.state.offers:
            await context.store.widget_states.save(
                context.thread.id, item.id, bound.state, context.request_context
            )
        await context.stream(ThreadItemDoneEvent(item=item))
        return None
