"""Paused runs and their approvals, scoped by their owner.

A run paused for approval is stored with one approval per tool call it waits on. A decision moves
an approval from `pending` once (a second decision finds nothing to move); the run is claimed, by
deleting it, by the one decision that leaves none of its approvals pending, so it resumes once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backend.context import RequestContext
from backend.store.models import APPROVALS, PAUSED_RUNS, THREADS
from backend.timestamps import from_storage

Status = Literal["pending", "approved", "rejected", "expired"]
Decision = Literal["approved", "rejected"]


@dataclass(frozen=True)
class Approval:
    """One tool call waiting for (or given) the user's decision."""

    id: str
    thread_id: str
    run_id: str
    item_id: str
    call_id: str
    server: str
    tool: str
    status: Status
    created_at: datetime  # naive local time, as the Store hands out times


def _approval(row: Any) -> Approval:
    return Approval(
        id=row.id,
        thread_id=row.thread_id,
        run_id=row.run_id,
        item_id=row.item_id,
        call_id=row.call_id,
        server=row.server,
        tool=row.tool,
        status=row.status,
        created_at=from_storage(row.created_at),
    )


_COLUMNS = [
    APPROVALS.c[name] for name in ("id", "thread_id", "run_id", "item_id", "call_id", "server", "tool")
]
_SELECT = select(*_COLUMNS, APPROVALS.c.status, APPROVALS.c.created_at)


class Approvals:
    """The store's paused runs and approvals."""

    def __init__(self, engine: AsyncEngine, single: AsyncEngine) -> None:
        self._engine, self._single = engine, single

    async def pause(
        self, *, run_id: str, thread_id: str, state: str, approvals: list[Approval], context: RequestContext
    ) -> bool:
        """Store a paused run and its approvals in one transaction; False when the thread is not
        the caller's."""
        owner, now = context.user_id, datetime.now(UTC)
        async with self._engine.begin() as connection:
            mine = select(THREADS.c.id).where(THREADS.c.id == thread_id, THREADS.c.owner == owner)
            if (await connection.execute(mine)).first() is None:
                return False
            run = {"id": run_id, "owner": owner, "thread_id": thread_id, "created_at": now, "state": state}
            await connection.execute(insert(PAUSED_RUNS).values(run))
            rows = [
                {
                    "id": approval.id,
                    "owner": owner,
                    "thread_id": thread_id,
                    "run_id": run_id,
                    "item_id": approval.item_id,
                    "call_id": approval.call_id,
                    "server": approval.server,
                    "tool": approval.tool,
                    "status": "pending",
                    "created_at": now,
                }
                for approval in approvals
            ]
            await connection.execute(insert(APPROVALS), rows)
        return True

    async def load(self, approval_id: str, context: RequestContext) -> Approval | None:
        """One of the caller's approvals, or None."""
        statement = _SELECT.where(APPROVALS.c.id == approval_id, APPROVALS.c.owner == context.user_id)
        async with self._single.connect() as connection:
            row = (await connection.execute(statement)).first()
        return _approval(row) if row is not None else None

    async def settle(
        self,
        approval_id: str,
        status: Decision | Literal["expired"],
        context: RequestContext,
        *,
        thread_id: str | None = None,
        created_after: datetime | None = None,
    ) -> Approval | None:
        """Move one of the caller's pending approvals (of `thread_id`, created after
        `created_after`, when given) to `status`; None when it is not one any more (decided
        already, expired, elsewhere): a decision is used once."""
        conditions = [
            APPROVALS.c.id == approval_id,
            APPROVALS.c.owner == context.user_id,
            APPROVALS.c.status == "pending",
        ]
        if thread_id is not None:
            conditions.append(APPROVALS.c.thread_id == thread_id)
        if created_after is not None:
            conditions.append(APPROVALS.c.created_at > created_after.astimezone(UTC))
        statement = (
            update(APPROVALS)
            .where(*conditions)
            .values(status=status, decided_at=datetime.now(UTC))
            .returning(*_COLUMNS, APPROVALS.c.status, APPROVALS.c.created_at)
        )
        async with self._single.begin() as connection:
            row = (await connection.execute(statement)).first()
        return _approval(row) if row is not None else None

    async def expire_thread(self, thread_id: str, context: RequestContext) -> list[Approval]:
        """Settle every pending approval of one of the caller's threads as expired (the thread moved
        on) and drop its paused runs; the approvals that were pending."""
        owner = context.user_id
        pending = and_(
            APPROVALS.c.thread_id == thread_id, APPROVALS.c.owner == owner, APPROVALS.c.status == "pending"
        )
        async with self._single.connect() as connection:  # the usual case, nothing pending: a read only
            if (await connection.execute(select(APPROVALS.c.id).where(pending).limit(1))).first() is None:
                return []
        statement = (
            update(APPROVALS)
            .where(pending)
            .values(status="expired", decided_at=datetime.now(UTC))
            .returning(*_COLUMNS, APPROVALS.c.status, APPROVALS.c.created_at)
        )
        async with self._engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
            if rows:
                await connection.execute(
                    delete(PAUSED_RUNS).where(
                        PAUSED_RUNS.c.thread_id == thread_id, PAUSED_RUNS.c.owner == owner
                    )
                )
        return [_approval(row) for row in rows]

    async def claim_run(self, run_id: str, context: RequestContext) -> tuple[str, list[Approval]] | None:
        """A paused run whose approvals are all decided, taken out of the store (so it resumes once),
        with those decisions; None while some are pending, or when another decision took it."""
        owner = context.user_id
        pending = (
            select(func.count())
            .select_from(APPROVALS)
            .where(APPROVALS.c.run_id == run_id, APPROVALS.c.owner == owner, APPROVALS.c.status == "pending")
            .scalar_subquery()
        )
        claim = (
            delete(PAUSED_RUNS)
            .where(and_(PAUSED_RUNS.c.id == run_id, PAUSED_RUNS.c.owner == owner, pending == 0))
            .returning(PAUSED_RUNS.c.state)
        )
        decisions = _SELECT.where(APPROVALS.c.run_id == bindparam("run_id"), APPROVALS.c.owner == owner)
        async with self._engine.begin() as connection:
            state = (await connection.execute(claim)).scalar()
            if state is None:
                return None
            rows = (await connection.execute(decisions, {"run_id": run_id})).all()
        return state, [_approval(row) for row in rows]


async def delete_for_thread(connection: AsyncConnection, thread_id: str, owner: str) -> None:
    """Drop the approvals and paused runs of one of `owner`'s threads (inside the caller's transaction)."""
    await connection.execute(
        delete(APPROVALS).where(APPROVALS.c.thread_id == thread_id, APPROVALS.c.owner == owner)
    )
    await connection.execute(
        delete(PAUSED_RUNS).where(PAUSED_RUNS.c.thread_id == thread_id, PAUSED_RUNS.c.owner == owner)
    )
