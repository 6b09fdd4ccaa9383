"""Tool calls with side effects leave a record, and a retry does not repeat them.

Every MCP tool not marked read-only is journaled: before its call is sent, a pending record and a
task item showing it ("Add task — Running…") are committed (`backend.store.tool_calls`); after it
answered, both are settled (done with a summary of what the model was given, or failed). A backend
killed meanwhile leaves the record pending: the next read of the thread shows it as interrupted
("add_task was interrupted; it may have run").

The UI's retry (`threads.retry_after_item`) removes the turn's items and runs the turn again. A
call the removed turn made (the same tool with the same arguments, for the same user message) is
then not sent again: the model is given the recorded result (done), or told that the earlier call
was interrupted and may have run (once; a repeat after that is sent). Calls that only read are not
journaled, nor those of a run resumed after approvals (their confirmations say what happened).

Each journaled call carries an idempotency key in its `_meta` (`backend.idempotency_keys`): its
record's id, or, for that repeat of an interrupted call, the interrupted call's key. A tool server
that deduplicates on the key (the tasks server's add_task) then carries out once a call whose
first attempt it had already done when the backend was killed, before the record was settled.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import anyio
from agents import FunctionTool, Tool
from agents.tool import ToolOriginType, _FailureHandlingFunctionToolInvoker, get_function_tool_origin
from agents.tool_context import ToolContext
from chatkit.agents import AgentContext
from chatkit.types import ThreadItem, ThreadItemAddedEvent, ThreadItemDoneEvent, UserMessageItem

from backend.context import RequestContext
from backend.idempotency_keys import sending
from backend.store import SqlStore
from backend.store.tool_calls import Status, ToolCallRecord, record_item

logger = logging.getLogger(__name__)
Invoke = Callable[[ToolContext[Any], str], Awaitable[Any]]
# The user message the current run answers: a call's record names its turn by it.
TURN: ContextVar[str | None] = ContextVar("tool_journal_turn", default=None)


def begin_turn(history: list[ThreadItem]) -> None:
    """Name the turn the next run answers (set before the run starts: its task copies it)."""
    TURN.set(next((item.id for item in reversed(history) if isinstance(item, UserMessageItem)), None))


def fingerprint(turn: str | None, tool: str, arguments: str) -> str:
    """The same call of the same turn: the turn's user message, the tool, its arguments as JSON."""
    try:
        canonical = json.dumps(json.loads(arguments or "{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = arguments
    return hashlib.sha256(json.dumps([turn, tool, canonical]).encode()).hexdigest()


def as_text(output: Any) -> str:
    """A tool's output as text (a string, a text part, or a list of parts)."""
    if isinstance(output, str):
        return output
    if isinstance(output, dict):
        return str(output.get("text", ""))
    if isinstance(output, list):
        return "\n".join(as_text(part) for part in output)
    return str(output)


def journaled_kind(tool: Tool) -> bool:
    """Whether calls of `tool` are journaled: an MCP tool not annotated read-only."""
    if not isinstance(tool, FunctionTool):
        return False
    origin = get_function_tool_origin(tool)
    if origin is None or origin.type != ToolOriginType.MCP:
        return False
    annotations = getattr(tool, "_mcp_annotations", None)
    return getattr(annotations, "read_only_hint", None) is not True  # mcp_types names it in snake case


class ToolJournal:
    """Journals the calls of the hub's tools on the store's records."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._journaled: dict[int, tuple[Tool, Tool]] = {}

    def wrap(self, tools: list[Tool]) -> list[Tool]:
        """`tools`, those with side effects journaled: the same objects while the tools are the
        same (the agent built on them is cached by their identity)."""
        known, wrapped = self._journaled, []
        self._journaled = {}
        for tool in tools:
            entry = known.get(id(tool))
            if entry is None or entry[0] is not tool:
                entry = (tool, self._journaled_copy(tool) if journaled_kind(tool) else tool)
            self._journaled[id(tool)] = entry
            wrapped.append(entry[1])
        return wrapped

    def _journaled_copy(self, tool: Tool) -> Tool:
        assert isinstance(tool, FunctionTool)
        copied = copy.copy(tool)
        title = getattr(tool, "_mcp_title", None) or tool.name
        invoker = copied.on_invoke_tool
        if isinstance(invoker, _FailureHandlingFunctionToolInvoker):  # the SDK's error handling
            # stays outside: a call that raises is recorded failed, then told to the model as before.
            inner = self._around(title, invoker._invoke_tool_impl)
            copied.on_invoke_tool = _FailureHandlingFunctionToolInvoker(
                inner, invoker._on_handled_error, function_tool=copied
            )
        else:
            copied.on_invoke_tool = self._around(title, invoker)
        return copied

    def _around(self, title: str, invoke: Invoke) -> Invoke:
        async def journaled(ctx: ToolContext[Any], arguments: str) -> Any:
            agent_context = ctx.context
            if not isinstance(agent_context, AgentContext):
                return await invoke(ctx, arguments)
            return await self._call(agent_context, ctx, title, invoke, arguments)

        return journaled

    async def _call(
        self, agent: AgentContext[Any], ctx: ToolContext[Any], title: str, invoke: Invoke, arguments: str
    ) -> Any:
        thread, context = agent.thread, agent.request_context
        turn = TURN.get()
        if turn is None:  # a run resumed after approvals: its confirmations record its calls
            return await invoke(ctx, arguments)
        call = fingerprint(turn, ctx.tool_name, arguments)
        if earlier := await self.store.tool_calls.earlier(thread.id, call, context):
            return await self._replay(agent, earlier, context)
        record_id = "tcr_" + secrets.token_hex(16)
        record = ToolCallRecord(
            id=record_id,
            thread_id=thread.id,
            item_id=self.store.generate_item_id("task", thread, context),
            call_id=ctx.tool_call_id,
            tool=title,
            fingerprint=call,
            status="pending",
            output="",
            created_at=datetime.now(),
            idempotency_key=record_id,  # its own, unless it repeats a call reported interrupted
        )
        item = record_item(record, record.created_at)
        record = await self.store.tool_calls.begin(record, context)  # committed before the call is sent
        if record.idempotency_key != record_id:
            logger.info(
                "A %s call in thread %s repeats one that was interrupted: sent with its idempotency key",
                record.tool,
                thread.id,
            )
        await self.store.add_thread_item(thread.id, item, context)
        await agent.stream(ThreadItemAddedEvent(item=item))
        try:
            with sending(record.idempotency_key):  # in the call's `_meta`
                output = await invoke(ctx, arguments)
        except asyncio.CancelledError:  # the run was stopped (the client left): it may have run
            await self._settle(agent, record, "interrupted", "", context, stream=False)
            raise
        except Exception:
            await self._settle(agent, record, "failed", "", context)
            raise
        await self._settle(agent, record, "done", as_text(output), context)
        return output

    async def _settle(
        self,
        agent: AgentContext[Any],
        record: ToolCallRecord,
        status: Status,
        output: str,
        context: RequestContext,
        *,
        stream: bool = True,
    ) -> None:
        settled = dataclasses.replace(record, status=status, output=output)
        item = record_item(settled, record.created_at)
        try:
            with anyio.CancelScope(shield=True):
                await self.store.tool_calls.settle(record.id, status, output, context)
                await self.store.save_item(record.thread_id, item, context)
        except Exception:  # the record stays pending: the next read shows it as interrupted
            logger.exception(
                "The record of a %s call in thread %s could not be settled", record.tool, record.thread_id
            )
            return
        if stream:
            await agent.stream(ThreadItemDoneEvent(item=item))

    async def _replay(
        self, agent: AgentContext[Any], earlier: ToolCallRecord, context: RequestContext
    ) -> str:
        """The answer to a call a removed turn already made: its recorded result, or (once) that it
        was interrupted. The record moves to the new item that shows it."""
        thread = agent.thread
        item_id = self.store.generate_item_id("task", thread, context)
        done = earlier.status == "done"
        status: Status = "done" if done else "reported"
        moved = dataclasses.replace(earlier, item_id=item_id, thread_id=thread.id, status=status)
        item = record_item(moved, datetime.now(), repeated=done)
        await self.store.tool_calls.settle(earlier.id, status, earlier.output, context, item_id=item_id)
        await agent.stream(ThreadItemDoneEvent(item=item))
        logger.info(
            "A %s call in thread %s was not repeated by the retry (%s)",
            earlier.tool,
            thread.id,
            earlier.status,
        )
        if done:
            return earlier.output
        return (
            f"{earlier.tool} was already called with these arguments for this message, by an earlier "
            "attempt that was interrupted: it may have run. Check whether it did before calling it again."
        )
