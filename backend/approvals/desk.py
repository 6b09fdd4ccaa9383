"""The approval desk: a run paused for the user's decision, the confirmations it shows, and what a
decision does. Running the agent is the ChatKit server's; this keeps the records and widgets.

A paused run is stored server side (the Agents SDK's serialized `RunState`), one approval per tool
call it waits on, each shown as its own confirmation. A decision settles its approval once; the
run resumes when none of its approvals is pending any more, so a turn that asked for two calls
goes on when both are decided. A new message in the thread expires what is pending.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from agents import RunResultStreaming
from chatkit.store import NotFoundError
from chatkit.types import ThreadMetadata, WidgetItem

from backend.approvals.describe import describe_call
from backend.context import RequestContext
from backend.mcp.hub import McpHub
from backend.store import SqlStore
from backend.store.approvals import Approval
from shared_widgets import BUILTIN, WidgetLibrary, WidgetState
from shared_widgets.approval import ApprovalView

IdentityMeta = Callable[[str], dict[str, Any]]
TEMPLATE = "approval"
NOTES = {
    "approved": "Approved.",
    "rejected": "Rejected: it was not run, nothing was changed.",
    "expired": "Expired: the conversation went on without a decision.",
}
LATE = "Expired: it was not decided within {minutes} minutes. Ask again if it is still wanted."
WAITING = " It runs once the other requests of this reply are decided."


def rejection_message(tool: str) -> str:
    """What the model is told of a call the user rejected (the offline model says it as it is)."""
    return f"You declined, so {tool} was not run and nothing was changed."


@dataclass(frozen=True)
class Resume:
    """A paused run to go on with: its stored state and every decision on its calls."""

    state: dict[str, Any]
    approvals: list[Approval]

    def approved(self, call_id: str | None) -> bool:
        """Whether the call with this id was approved (anything else counts as rejected)."""
        return any(
            approval.call_id == call_id and approval.status == "approved" for approval in self.approvals
        )


@dataclass(frozen=True)
class Decided:
    """A decision's outcome: the confirmation, settled, and the run to resume (when it is time)."""

    widget: WidgetItem | None
    resume: Resume | None


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


class ApprovalDesk:
    """Pauses, confirmations and decisions for one backend."""

    def __init__(
        self,
        store: SqlStore,
        hub: McpHub | None,
        identity: IdentityMeta,
        *,
        ttl_seconds: int,
        library: WidgetLibrary = BUILTIN,
    ) -> None:
        self.store, self.hub, self.identity, self.ttl = store, hub, identity, timedelta(seconds=ttl_seconds)
        self.library = library

    async def pause(
        self, thread: ThreadMetadata, result: RunResultStreaming, context: RequestContext
    ) -> list[WidgetItem]:
        """Store a run that stopped for approvals; one confirmation widget per call (not yet streamed)."""
        run_id = _new_id("run")
        state = result.to_state().to_json(context_serializer=lambda _: {})  # the context is rebuilt
        items: list[WidgetItem] = []
        approvals: list[Approval] = []
        for interruption in result.interruptions:
            origin = interruption.tool_origin
            server = (origin.mcp_server_name if origin is not None else None) or "agent"
            tool = interruption.name or "tool"
            try:
                arguments = json.loads(interruption.arguments or "{}")
            except ValueError:
                arguments = {}
            arguments = arguments if isinstance(arguments, dict) else {}
            question, fields, destructive = await describe_call(
                self.hub, lambda: self.identity(context.user_id), server, tool, arguments
            )
            approval_id = _new_id("apr")
            view = ApprovalView(
                approval_id=approval_id,
                question=question,
                server=server,
                tool=tool,
                fields=fields,
                destructive=destructive,
                status="pending",
                note="",
            )
            rendered = self.library.render(WidgetState(template=TEMPLATE, data=view.model_dump()))
            item = WidgetItem(
                id=self.store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(),
                widget=rendered.widget,
            )
            await self.store.widget_states.save(thread.id, item.id, rendered.state, context)
            approvals.append(
                Approval(
                    id=approval_id,
                    thread_id=thread.id,
                    run_id=run_id,
                    item_id=item.id,
                    call_id=interruption.call_id or "",
                    server=server,
                    tool=tool,
                    status="pending",
                    created_at=item.created_at,
                )
            )
            items.append(item)
        stored = await self.store.approvals.pause(
            run_id=run_id, thread_id=thread.id, state=json.dumps(state), approvals=approvals, context=context
        )
        return items if stored else []

    async def expire(self, thread: ThreadMetadata, context: RequestContext) -> list[WidgetItem]:
        """The thread moved on: its pending approvals expire; their confirmations, settled."""
        expired = await self.store.approvals.expire_thread(thread.id, context)
        settled = [await self.settled(approval, "expired", NOTES["expired"], context) for approval in expired]
        return [item for item in settled if item is not None]

    async def decide(
        self,
        thread: ThreadMetadata,
        approval_id: str,
        decision: Literal["approve", "reject"],
        context: RequestContext,
    ) -> Decided:
        """Settle one approval (once); the run to resume when this was the last one it waited for."""
        status: Literal["approved", "rejected"] = "approved" if decision == "approve" else "rejected"
        settled = await self.store.approvals.settle(
            approval_id, status, context, thread_id=thread.id, created_after=datetime.now() - self.ttl
        )
        if settled is None:  # not pending, too old, or not of this thread: say which
            current = await self.store.approvals.load(approval_id, context)
            if current is None or current.thread_id != thread.id:
                return Decided(widget=None, resume=None)
            if current.status != "pending":
                return Decided(
                    await self.settled(current, current.status, already(current.status), context), None
                )
            late = await self.store.approvals.settle(approval_id, "expired", context)
            if late is None:  # decided this very moment by another click
                return await self.decide(thread, approval_id, decision, context)
            minutes = max(1, round(self.ttl.total_seconds() / 60))
            return Decided(await self.settled(late, "expired", LATE.format(minutes=minutes), context), None)
        claim = await self.store.approvals.claim_run(settled.run_id, context)
        if claim is None:  # the run waits for the other calls it asked about
            note = NOTES[status] + (WAITING if status == "approved" else "")
            return Decided(await self.settled(settled, status, note, context), None)
        state, decisions = claim
        # The confirmations settle once the run went on, saying what happened (see `outcome_note`).
        return Decided(None, Resume(state=json.loads(state), approvals=decisions))

    async def settled(
        self, approval: Approval, status: str, note: str, context: RequestContext
    ) -> WidgetItem | None:
        """An approval's confirmation re-rendered as `status` with `note` (no buttons), saved as its
        widget state; the item to replace (None when the confirmation is gone)."""
        stored = await self.store.widget_states.load(approval.thread_id, approval.item_id, context)
        if stored is None:
            return None
        state, version = stored
        data = {**state.data, "status": status, "note": note}
        rendered = self.library.render(state.model_copy(update={"data": data}))
        await self.store.widget_states.save(
            approval.thread_id, approval.item_id, rendered.state, context, expected=version
        )
        try:
            item = await self.store.load_item(approval.thread_id, approval.item_id, context)
        except NotFoundError:
            return None
        if not isinstance(item, WidgetItem):
            return None
        return item.model_copy(update={"widget": rendered.widget})


def outcome_note(status: str, output: str) -> str:
    """What a settled confirmation says once its run went on: an approved call's first line of
    output ("Approved: Task deleted: ..."), else what was decided."""
    said = output.strip().splitlines()
    if status == "approved" and said:
        return f"Approved: {said[0]}"
    return NOTES.get(status, NOTES["expired"])


def already(status: str) -> str:
    """Why a decision changed nothing: what was decided before."""
    return {
        "approved": "Already approved: a request is decided once.",
        "rejected": "Already rejected: a request is decided once.",
    }.get(status, NOTES["expired"])
