"""The ChatKit server: routes parsed requests, answers with the agent, keeps titles and feedback."""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from datetime import datetime
from typing import Any

import anyio
from agents import (
    Agent,
    MultiProvider,
    RunConfig,
    RunContextWrapper,
    Runner,
    RunResultStreaming,
    RunState,
    Tool,
)
from agents.items import ToolCallOutputItem
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import BaseStreamError, CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    Action,
    AssistantMessageContent,
    AssistantMessageItem,
    AttachmentsDeleteReq,
    ChatKitReq,
    FeedbackKind,
    ProgressUpdateEvent,
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

from backend.actions import Prepared, WidgetActions
from backend.agent import identity_memo
from backend.agent.attachments import AttachmentBudget, AttachmentContent
from backend.agent.failures import SERVER_FAILED, Failure, database_in_words, turn_failure
from backend.agent.history import HistoryConverter
from backend.agent.interrupted import answer_interrupted
from backend.agent.run_events import MergeReads, ending_cleanly
from backend.agent.stream_fixes import AssistantMessageRepair
from backend.agent.tool_events import ToolEvents
from backend.approvals import ApprovalDesk, Resume, outcome_note, rejection_message
from backend.context import TURN_TIMEZONE, RequestContext
from backend.mcp.hub import McpHub
from backend.mcp.prompts import prompt_input
from backend.request_checks import RequestRejected
from backend.store import SqlStore
from backend.stream_errors import ending_with_error_event
from backend.timestamps import for_the_wire
from backend.tool_journal import ToolJournal, as_text, begin_turn
from plumbing.logs import bind as bind_log_context

logger = logging.getLogger(__name__)
identity_memo.install()
TITLE_WORDS = 6
TITLE_CHARS = 60
UNRESUMABLE = "This request can no longer be carried out (the server changed since it was asked). Ask again."


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
        approvals: ApprovalDesk | None = None,
        server_prompts: bool = True,
        attachments: AttachmentBudget | None = None,
    ) -> None:
        super().__init__(store=store, attachment_store=store)
        self.attachments = attachments or AttachmentBudget()  # how much of attached files the model reads
        self.server_prompts = server_prompts  # a message that names an MCP prompt brings its text
        self.sql_store = store
        self.agent = agent
        self.history_items = history_items
        self.hub = hub
        self.events = events
        self.actions = actions
        self.approvals = approvals
        self.converter = HistoryConverter()
        self.journal = ToolJournal(store)  # tool calls with side effects leave a record
        self.model_provider = MultiProvider()  # unused by our Model instances, but a run needs one
        self._tooled: tuple[tuple[int, ...], Agent[Any]] | None = None

    async def handle(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """`process()` for an already parsed request (the SDK's `process()` re-parses every call)."""
        if is_streaming_req(request):
            events = self._process_streaming_impl(request, context)  # a failure ends with an error event
            return StreamingResult(ending_with_error_event(events, self._serialize, self.sql_store.schema))
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
        events = database_in_words(self._respond(thread, input_user_message, context))
        async with aclosing(events):  # closed at once when the client leaves (the run is cancelled)
            async for event in events:
                yield event

    async def _respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: RequestContext
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        bind_log_context(thread_id=thread.id)  # a new thread's id is known from here on
        if thread.title is None and input_user_message is not None:
            thread.title = title_from(input_user_message)  # the SDK sends it as thread.updated
        if self.approvals is not None and input_user_message is not None:
            for settled in await self.approvals.expire(thread, context):  # the thread moved on
                yield ThreadItemReplacedEvent(item=settled)
        page = await self.store.load_thread_items(thread.id, None, self.history_items, "desc", context)
        history = list(reversed(page.data))
        history = await answer_interrupted(self.store, thread, history, input_user_message, context)
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        agent, tools = await self._turn_agent()
        files = AttachmentContent(self.sql_store, context, self.attachments, links=self.sql_store.links)
        converter = self.converter.with_attachments(await files.for_history(history))
        TURN_TIMEZONE.set(context.timezone)  # the run's task copies it: "tomorrow" is the user's
        begin_turn(history)  # and the turn its tool calls are recorded for (`tool_journal`)
        model_input = await converter.to_agent_input(history)
        model_input.extend(await self._chosen_prompt(input_user_message, context))  # type: ignore[arg-type]
        result = Runner.run_streamed(
            agent,
            model_input,
            context=agent_context,
            hooks=self.events if tools else None,
            run_config=RunConfig(model_provider=self.model_provider),
        )
        async for event in self._stream(thread, agent_context, result, context):
            yield event

    async def _chosen_prompt(
        self, message: UserMessageItem | None, context: RequestContext
    ) -> list[dict[str, Any]]:
        """The messages of the MCP prompt the user's message names (a start-screen prompt), if any."""
        if not self.server_prompts or message is None or self.hub is None or self.events is None:
            return []
        text = " ".join(part.text for part in message.content if isinstance(part, UserMessageTextContent))
        return await prompt_input(self.hub, text, self.events.identity_meta(context.user_id))

    async def _turn_agent(self) -> tuple[Agent[Any], list[Tool]]:
        """The agent for one run, with the servers' tools.

        A run of its own per turn: the SDK checks every run that shares an Agent object against
        the others on each step (a cost that grows with concurrent turns), and a shallow copy
        (~2 µs, unlike clone()) keeps them apart. The shared provider saves building one per run."""
        tools = self.journal.wrap(await self.hub.function_tools(self.agent)) if self.hub else []
        return copy.copy(self._with_tools(tools)), tools

    async def _stream(
        self,
        thread: ThreadMetadata,
        agent_context: AgentContext[Any],
        result: RunResultStreaming,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A run's events as ChatKit events; a run that stopped for approvals ends with them."""
        repair = AssistantMessageRepair(lambda: self.store.generate_item_id("message", thread, context))
        failures: list[Exception] = []
        reads = MergeReads()
        reads.watch(agent_context)
        try:
            async for event in stream_agent_response(agent_context, ending_cleanly(result, failures, reads)):
                yield repair(event)
            if failures:
                raise failures[0]
        except BaseStreamError:
            raise
        except (asyncio.CancelledError, GeneratorExit):  # the client left: stop the run (it runs in
            result.cancel()  # a task of its own) so that no later tool call executes; the SDK keeps
            reads.release()  # the partial reply (`handle_stream_cancelled`); the merge's reads end
            raise
        except Exception as exc:  # a provider failure, said in words (never the provider's body)
            failure = turn_failure(exc)  # the database lost, or a provider failure
            if failure is None:
                logger.exception("A turn of thread %s failed", thread.id)
                failure = SERVER_FAILED
            note = self._failure_note(thread, failure, context)
            try:
                with anyio.CancelScope(shield=True):  # the thread keeps the failed turn after a reload
                    await self.store.add_thread_item(thread.id, note, context)
            except Exception:  # the error event still says what happened
                logger.exception("The note of a failed turn of thread %s could not be saved", thread.id)
            raise CustomStreamError(failure.message, allow_retry=failure.allow_retry) from None
        if result.interruptions and self.approvals is not None:
            yield ProgressUpdateEvent(icon="lucide:shield-alert", text="Waiting for your approval")
            for confirmation in await self.approvals.pause(thread, result, context):
                yield ThreadItemDoneEvent(item=confirmation)

    def _failure_note(self, thread: ThreadMetadata, failure: Failure, context: RequestContext) -> ThreadItem:
        """The assistant message that stands for a reply that failed (a retry removes it)."""
        return AssistantMessageItem(
            id=self.store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=datetime.now(),
            content=[AssistantMessageContent(text=failure.note)],
        )

    async def _decide(
        self, thread: ThreadMetadata, prepared: Prepared, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Approve or reject a paused call: its confirmation settled, and the run resumed when it
        waited for nothing else."""
        assert self.approvals is not None and prepared.spec.decide is not None
        approval_id = str(prepared.payload.get("approval_id"))
        decided = await self.approvals.decide(thread, approval_id, prepared.spec.decide, context)
        if decided.widget is not None:
            yield ThreadItemReplacedEvent(item=decided.widget)
        if decided.resume is not None:
            async for event in self._resume(thread, decided.resume, context):
                yield event

    async def _resume(
        self, thread: ThreadMetadata, resume: Resume, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Go on with a paused run from its stored state: approved calls run (with this user's
        identity), rejected ones are refused and the model is told; then each of the run's
        confirmations settles, saying what happened."""
        assert self.approvals is not None
        agent, tools = await self._turn_agent()
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        try:
            state = await RunState.from_json(
                agent, resume.state, context_override=RunContextWrapper(context=agent_context)
            )
        except Exception:  # stored by another version, or for tools no longer configured
            logger.exception("A paused run of thread %s could not be restored", thread.id)
            for approval in resume.approvals:
                gone = await self.approvals.settled(approval, "expired", UNRESUMABLE, context)
                if gone is not None:
                    yield ThreadItemReplacedEvent(item=gone)
            raise CustomStreamError(UNRESUMABLE, allow_retry=False) from None
        for interruption in state.get_interruptions():
            if resume.approved(interruption.call_id):
                state.approve(interruption)
            else:
                state.reject(
                    interruption, rejection_message=rejection_message(interruption.name or "the tool")
                )
        result = Runner.run_streamed(
            agent,
            state,
            hooks=self.events if tools else None,
            run_config=RunConfig(model_provider=self.model_provider),
        )
        finished = False
        try:
            async for event in self._stream(thread, agent_context, result, context):
                yield event
            finished = True
        finally:  # every confirmation of the run settles, saying what happened (after a failure too)
            outputs = {
                str(item.raw_item.get("call_id") if isinstance(item.raw_item, dict) else ""): as_text(
                    item.output
                )
                for item in result.new_items
                if isinstance(item, ToolCallOutputItem)
            }
            with anyio.CancelScope(shield=True):
                settled = [
                    await self.approvals.settled(
                        approval,
                        approval.status,
                        outcome_note(approval.status, outputs.get(approval.call_id, "")),
                        context,
                    )
                    for approval in resume.approvals
                ]
                for item in settled if not finished else ():  # no event will carry them: save them
                    if item is not None:
                        await self.sql_store.save_item(thread.id, item, context)
        for item in settled:
            if item is not None:
                yield ThreadItemReplacedEvent(item=item)

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
            prepared = await self.actions.prepared(thread, action, sender, context)
            if prepared.spec.decide is not None and self.approvals is not None:
                async for event in self._decide(thread, prepared, context):
                    yield event
                return
            done = await self.actions.execute(thread, prepared, context)
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
        prepared = await self.actions.prepared(thread, action, sender, context)
        if prepared.spec.decide is not None and self.approvals is not None:
            # The resumed run cannot stream here: it runs to its end, saved as a stream would be,
            # and the answer is the settled confirmation (the reply shows when the thread reloads).
            replaced = sender
            stream = self._decide(thread, prepared, context)
            async for event in self._process_events(thread, context, lambda: stream):
                if isinstance(event, ThreadItemReplacedEvent) and event.item.id == sender.id:
                    replaced = event.item  # type: ignore[assignment]
            return SyncCustomActionResponse(updated_item=replaced)
        done = await self.actions.execute(thread, prepared, context)
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
