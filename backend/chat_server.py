"""The ChatKit server: routes parsed requests, answers with the agent, keeps titles and feedback."""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import openai
from agents import Agent, MultiProvider, RunConfig, Runner, Tool
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    Action,
    AttachmentsDeleteReq,
    ChatKitReq,
    FeedbackKind,
    SyncCustomActionResponse,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    is_streaming_req,
)
from pydantic import BaseModel

from backend.actions import WidgetActions
from backend.agent import identity_memo
from backend.agent.history import HistoryConverter
from backend.agent.stream_fixes import AssistantMessageRepair
from backend.agent.tool_events import ToolEvents
from backend.context import RequestContext
from backend.mcp.hub import McpHub
from backend.request_checks import RequestRejected
from backend.store import SqlStore
from backend.timestamps import for_the_wire

logger = logging.getLogger(__name__)
identity_memo.install()
TITLE_WORDS = 6
# Provider answers that a retry cannot fix: bad key, no access, unknown model, invalid request.
REFUSALS = (
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    openai.NotFoundError,
    openai.BadRequestError,
)
PROVIDER_REFUSED = (
    "The AI provider refused this request. The server's provider key or model settings need "
    "attention; retrying will not help."
)
TITLE_CHARS = 60


def title_from(message: UserMessageItem) -> str | None:
    """A thread title from the first words of a user message."""
    text = " ".join(part.text for part in message.content if isinstance(part, UserMessageTextContent))
    words = re.sub(r"\s+", " ", text).strip().split(" ")
    title = " ".join(words[:TITLE_WORDS])[:TITLE_CHARS].strip()
    if not title:
        return None
    return title + ("…" if len(words) > TITLE_WORDS or len(title) == TITLE_CHARS else "")


class ChatServer(ChatKitServer[RequestContext]):
    """ChatKit on our Store and agent. Requests arrive parsed and checked (see `request_checks`)."""

    def __init__(
        self,
        store: SqlStore,
        agent: Agent[Any],
        *,
        history_items: int,
        hub: McpHub | None = None,
        events: ToolEvents | None = None,
        actions: WidgetActions | None = None,
    ) -> None:
        super().__init__(store=store, attachment_store=store)
        self.sql_store = store
        self.agent = agent
        self.history_items = history_items
        self.hub = hub
        self.events = events
        self.actions = actions
        self.converter = HistoryConverter()
        self.model_provider = MultiProvider()  # unused by our Model instances, but a run needs one
        self._tooled: tuple[tuple[int, ...], Agent[Any]] | None = None

    async def handle(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """`process()` for an already parsed request (the SDK's `process()` re-parses every call)."""
        if is_streaming_req(request):
            return StreamingResult(self._process_streaming(request, context))
        if isinstance(request, AttachmentsDeleteReq):
            # The SDK deletes through the attachment store and then the store: both are ours.
            await self.sql_store.delete_attachment(request.params.attachment_id, context)
            return NonStreamingResult(b"{}")
        return NonStreamingResult(await self._process_non_streaming(request, context))

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[ThreadItem], context: RequestContext
    ) -> None:
        """Keep the partial reply (the SDK's behaviour), shielded from the cancellation in progress."""
        with anyio.CancelScope(shield=True):
            await super().handle_stream_cancelled(thread, pending_items, context)

    async def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Run the agent on the newest items of the thread and stream its answer."""
        if thread.title is None and input_user_message is not None:
            thread.title = title_from(input_user_message)  # the SDK sends it as thread.updated
        page = await self.store.load_thread_items(thread.id, None, self.history_items, "desc", context)
        history = list(reversed(page.data))
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        tools = await self.hub.function_tools(self.agent) if self.hub else []
        # A run of its own per turn: the SDK checks every run that shares an Agent object against
        # the others on each step (a cost that grows with concurrent turns), and a shallow copy
        # (~2 µs, unlike clone()) keeps them apart. The shared provider saves building one per run.
        agent = copy.copy(self._with_tools(tools))
        result = Runner.run_streamed(
            agent,
            await self.converter.to_agent_input(history),
            context=agent_context,
            hooks=self.events if tools else None,
            run_config=RunConfig(model_provider=self.model_provider),
        )
        repair = AssistantMessageRepair(lambda: self.store.generate_item_id("message", thread, context))
        try:
            async for event in stream_agent_response(agent_context, result):
                yield repair(event)
        except REFUSALS as exc:  # retrying cannot help: say so (other errors end with a retry offer)
            logger.warning("The model provider refused the request: %s", exc)
            raise CustomStreamError(PROVIDER_REFUSED, allow_retry=False) from None

    def _with_tools(self, tools: list[Tool]) -> Agent[Any]:
        """The agent with the servers' tools; cloned only when the tools change (a clone costs ~1 ms)."""
        if not tools:
            return self.agent
        key = tuple(id(tool) for tool in tools)
        if self._tooled is None or self._tooled[0] != key:
            self._tooled = (key, self.agent.clone(tools=[*self.agent.tools, *tools]))
        return self._tooled[1]

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A widget action, streamed: the clicked widget replaced in place, new widgets added."""
        if self.actions is None or sender is None:
            raise CustomStreamError("This widget action cannot run here.", allow_retry=False)
        try:
            done = await self.actions.run(thread, action, sender, context)
        except RequestRejected as exc:  # checked before streaming; here only if the widget changed since
            raise CustomStreamError(exc.message, allow_retry=False) from None
        if done.sender is not None:
            yield ThreadItemReplacedEvent(item=done.sender)
        for item in done.added:  # the SDK saves them; hidden context items are not sent
            yield ThreadItemDoneEvent(item=item)

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        """A widget action answered at once with the clicked widget's new form; saved here (the SDK
        does not save what `sync_action` returns)."""
        if self.actions is None or sender is None:
            raise RequestRejected(400, "invalid_action", "This widget action cannot run here.")
        done = await self.actions.run(thread, action, sender, context)
        if done.sender is not None:
            await self.sql_store.save_item(thread.id, done.sender, context)
        for item in done.added:
            await self.sql_store.add_thread_item(thread.id, item, context)
        return SyncCustomActionResponse(updated_item=done.sender or sender)

    def _serialize(self, obj: BaseModel) -> bytes:
        """What the SDK sends for `obj`, with every timestamp in UTC (see `backend.timestamps`), and
        widgets serialized as the trees they keep (`serialize_as_any`: see `WidgetTree`)."""
        return (
            for_the_wire(obj)
            .model_dump_json(
                by_alias=True, exclude_none=True, context={"exclude_metadata": True}, serialize_as_any=True
            )
            .encode("utf-8")
        )

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: RequestContext
    ) -> None:
        """Persist feedback on the caller's items."""
        await self.sql_store.save_feedback(thread_id, item_ids, feedback, context)
