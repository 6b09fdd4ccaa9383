"""Records of tool calls with side effects (`backend.tool_journal`), scoped by their owner, and the
thread items that show them.

A record is written (and committed) before its call is sent, as `pending`, with a task item in the
thread; it is settled after the call answered: `done` or `failed`, with what the model was given.
A record still pending that this process did not start (the backend that sent it was killed) is
`interrupted` when its thread is next read. Records outlive their items: a retry removes the turn's
items, and the record of a call the removed turn made keeps the retry from repeating it (`earlier`;
the model is given its result, or told once that it was interrupted: that record is then
`reported`). Every record names its call by an idempotency key, sent in the call's `_meta`: its
own id, except that a repeat of a reported call takes over that call's key (`begin`; the reported
record is then `superseded`), so the tool server sees the same call again and can carry it out once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from chatkit.types import CustomTask, TaskItem, ThreadItem
from sqlalchemy import and_, bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.context import RequestContext
from backend.store.models import ITEMS, TOOL_CALLS

Status = Literal["pending", "done", "failed", "interrupted", "superseded", "reported"]
SUMMARY_CHARS = 300
# A pending record written before this process started was sent by a backend that is gone.
PROCESS_STARTED = datetime.now(UTC)


@dataclass(frozen=True)
class ToolCallRecord:
    """One recorded call."""

    id: str
    thread_id: str
    item_id: str
    call_id: str
    tool: str  # its title, as shown
    fingerprint: str
    status: Status
    output: str
    created_at: datetime
    idempotency_key: str  # sent in the call's `_meta` (`backend.idempotency_keys`)


def summary(output: str) -> str:
    """The first line of a call's output, shortened: what its record shows."""
    line = next((line.strip() for line in output.splitlines() if line.strip()), "")
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def record_item(record: ToolCallRecord, created_at: datetime, *, repeated: bool = False) -> TaskItem:
    """The thread item that shows `record` (created at `created_at`, as the Store hands out times)."""
    if repeated:
        content = f"Done earlier; not repeated: {summary(record.output)}"
        task = CustomTask(title=record.tool, icon="check", content=content, status_indicator="complete")
    elif record.status == "pending":
        task = CustomTask(title=record.tool, icon="bolt", content="Running…", status_indicator="loading")
    elif record.status == "done":
        content = f"Done: {summary(record.output)}"
        task = CustomTask(title=record.tool, icon="check", content=content, status_indicator="complete")
    elif record.status == "failed":
        content = f"Failed: {summary(record.output)}" if record.output else "Failed."
        task = CustomTask(title=record.tool, icon="info", content=content, status_indicator="none")
    else:  # interrupted (and reported)
        content = f"{record.tool} was interrupted; it may have run."
        task = CustomTask(title=record.tool, icon="info", content=content, status_indicator="none")
    return TaskItem(id=record.item_id, thread_id=record.thread_id, created_at=created_at, task=task)


def _record(row: Any) -> ToolCallRecord:
    return ToolCallRecord(
        id=row.id,
        thread_id=row.thread_id,
        item_id=row.item_id,
        call_id=row.call_id,
        tool=row.tool,
        fingerprint=row.fingerprint,
        status=row.status,
        output=row.output,
        created_at=row.created_at,
        idempotency_key=row.idempotency_key or row.id,
    )


_COLUMNS = [
    TOOL_CALLS.c[name]
    for name in (
        "id",
        "thread_id",
        "item_id",
        "call_id",
        "tool",
        "fingerprint",
        "status",
        "output",
        "created_at",
        "idempotency_key",
    )
]
_ITEM_GONE = ~exists().where(ITEMS.c.id == TOOL_CALLS.c.item_id)
_EARLIER = (
    select(*_COLUMNS)
    .where(
        TOOL_CALLS.c.thread_id == bindparam("thread_id"),
        TOOL_CALLS.c.owner == bindparam("owner"),
        TOOL_CALLS.c.fingerprint == bindparam("fingerprint"),
        TOOL_CALLS.c.status.in_(["done", "interrupted", "pending"]),
        _ITEM_GONE,  # its turn was removed (a retry); within the turn a repeat is the model's choice
    )
    .order_by(TOOL_CALLS.c.created_at.desc())
    .limit(1)
)
# The newest call of the same turn, tool and arguments that the model was told may have run.
_REPORTED = (
    select(TOOL_CALLS.c.id, TOOL_CALLS.c.idempotency_key)
    .where(
        TOOL_CALLS.c.thread_id == bindparam("thread_id"),
        TOOL_CALLS.c.owner == bindparam("owner"),
        TOOL_CALLS.c.fingerprint == bindparam("fingerprint"),
        TOOL_CALLS.c.status == "reported",
    )
    .order_by(TOOL_CALLS.c.created_at.desc())
    .limit(1)
)
_STALE = select(*_COLUMNS).where(
    TOOL_CALLS.c.thread_id == bindparam("thread_id"),
    TOOL_CALLS.c.owner == bindparam("owner"),
    TOOL_CALLS.c.status == "pending",
    TOOL_CALLS.c.item_id.in_(bindparam("item_ids", expanding=True)),
    TOOL_CALLS.c.created_at < bindparam("started"),
)


class ToolCalls:
    """The store's tool call records."""

    def __init__(self, engine: AsyncEngine, single: AsyncEngine) -> None:
        self._engine = engine  # for `begin`, one transaction
        self._single = single  # every other call here is one statement

    async def begin(self, record: ToolCallRecord, context: RequestContext) -> ToolCallRecord:
        """Write a pending record (committed when this returns: before the call is sent), and
        return it as written: a repeat of a call the model was told may have run (`reported`, the
        same call of the same thread) takes over that call's idempotency key, once (that record is
        then `superseded`; a later repeat in the same turn is a call of its own)."""
        row = {
            "id": record.id,
            "owner": context.user_id,
            "thread_id": record.thread_id,
            "item_id": record.item_id,
            "call_id": record.call_id,
            "tool": record.tool,
            "fingerprint": record.fingerprint,
            "status": record.status,
            "output": "",
            "created_at": datetime.now(UTC),
            "idempotency_key": record.idempotency_key,
        }
        params = {"thread_id": record.thread_id, "owner": context.user_id, "fingerprint": record.fingerprint}
        async with self._engine.begin() as connection:
            reported = (await connection.execute(_REPORTED, params)).first()
            if reported is not None:
                taken = await connection.execute(
                    update(TOOL_CALLS)
                    .where(TOOL_CALLS.c.id == reported.id, TOOL_CALLS.c.status == "reported")
                    .values(status="superseded", settled_at=datetime.now(UTC))
                )
                if taken.rowcount == 1:  # not taken by a repeat made at the same time
                    key: str = reported.idempotency_key or reported.id
                    row["idempotency_key"] = key
                    record = dataclasses.replace(record, idempotency_key=key)
            await connection.execute(insert(TOOL_CALLS).values(row))
        return record

    async def settle(
        self,
        record_id: str,
        status: Status,
        output: str,
        context: RequestContext,
        *,
        item_id: str | None = None,
    ) -> None:
        """Settle a record with what the model was given (and move it to the item `item_id` that
        shows it now, when given)."""
        change: dict[str, Any] = {"status": status, "output": output, "settled_at": datetime.now(UTC)}
        if item_id is not None:
            change["item_id"] = item_id
        mine = and_(TOOL_CALLS.c.id == record_id, TOOL_CALLS.c.owner == context.user_id)
        async with self._single.begin() as connection:
            await connection.execute(update(TOOL_CALLS).where(mine).values(change))

    async def earlier(
        self, thread_id: str, fingerprint: str, context: RequestContext
    ) -> ToolCallRecord | None:
        """The newest record of the same call (same turn, tool and arguments) whose items a retry
        removed, if any."""
        params = {"thread_id": thread_id, "owner": context.user_id, "fingerprint": fingerprint}
        async with self._single.connect() as connection:
            row = (await connection.execute(_EARLIER, params)).first()
        return _record(row) if row is not None else None

    async def interrupted(self, items: list[ThreadItem], context: RequestContext) -> dict[str, TaskItem]:
        """The items of `items` that show a record still pending that a backend gone since then
        sent, settled as interrupted (by item id; the caller saves them). A page without a pending
        record costs nothing."""
        pending = {
            item.id: item
            for item in items
            if isinstance(item, TaskItem) and item.task.status_indicator == "loading"
        }
        if not pending:
            return {}
        params = {
            "thread_id": next(iter(pending.values())).thread_id,
            "owner": context.user_id,
            "item_ids": list(pending),
            "started": PROCESS_STARTED,
        }
        async with self._single.connect() as connection:
            stale = [_record(row) for row in (await connection.execute(_STALE, params)).all()]
        settled: dict[str, TaskItem] = {}
        for record in stale:
            await self.settle(record.id, "interrupted", "", context)
            gone = dataclasses.replace(record, status="interrupted")
            settled[record.item_id] = record_item(gone, pending[record.item_id].created_at)
        return settled
