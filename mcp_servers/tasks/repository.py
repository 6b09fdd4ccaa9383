"""Task persistence: every query is scoped by the owner it is given. No MCP here."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcp_servers.common.db import is_sqlite, session_factory
from mcp_servers.common.search_terms import search_terms
from mcp_servers.tasks import search
from mcp_servers.tasks.migrations import HISTORY
from mcp_servers.tasks.models import Priority, Task, TaskRow, TaskStatus
from plumbing import migrations
from plumbing.migrations import Migration

StatusFilter = Literal["all", "pending", "completed"]
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32: no i, l, o, u
_ID_ATTEMPTS = 5
_INSERT = insert(TaskRow.__table__)  # type: ignore[attr-defined]


class TaskNotFoundError(LookupError):
    """No task with this id belongs to this owner (another user's task is reported the same way)."""

    def __init__(self, task_id: str) -> None:
        super().__init__(task_id)
        self.task_id = task_id


@dataclass(frozen=True, slots=True)
class Added:
    """The task an idempotent add stored, or found already stored for its key (`created` false)."""

    task: Task
    created: bool


@dataclass(frozen=True, slots=True)
class TaskPage:
    """A page of tasks; `next_after` is the keyset position of the next page, `None` on the last."""

    tasks: list[Task]
    total: int
    next_after: int | None


def new_task_id() -> str:
    """A short, typeable id with 60 random bits, e.g. `task_7k2m9x4p1q3z`."""
    return "task_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


class TaskRepository:
    """Tasks on one database (SQLite or Postgres)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = session_factory(engine)
        self._sqlite = is_sqlite(engine)

    async def prepare(self, *, migrate: bool = True) -> Migration | None:
        """Bring the tasks table, its indexes and its word search to the newest schema (Alembic,
        under the schema lock); with `migrate=False` only check that they are (else `SchemaOutOfDate`)."""
        return await migrations.prepare(self._engine, HISTORY, migrate=migrate)

    async def add(
        self,
        *,
        owner: str,
        title: str,
        description: str = "",
        due_date: date | None = None,
        priority: Priority = Priority.medium,
    ) -> Task:
        """Store a new pending task for `owner`."""
        added = await self._insert(owner, None, title, description, due_date, priority)
        return added.task

    async def add_once(
        self,
        *,
        owner: str,
        key: str,
        title: str,
        description: str = "",
        due_date: date | None = None,
        priority: Priority = Priority.medium,
    ) -> Added:
        """Store a new pending task for `owner` unless one was stored with the idempotency key
        `key` for `owner` already: that one then (`created` false), as it is now. Calls with the
        same key at the same time store one task (the unique index decides). Keys are scoped by
        owner: another user's key never matches."""
        return await self._insert(owner, key, title, description, due_date, priority)

    async def _insert(
        self,
        owner: str,
        key: str | None,
        title: str,
        description: str,
        due_date: date | None,
        priority: Priority,
    ) -> Added:
        now = datetime.now(UTC)
        for attempt in range(_ID_ATTEMPTS):
            row = TaskRow(
                id=new_task_id(),
                owner=owner,
                title=title,
                description=description,
                priority=priority.value,
                due_date=due_date,
                created_at=now,
                updated_at=now,
                idempotency_key=key,
            )
            try:
                # One INSERT, without the ORM's unit of work (half the cost of session.add + commit);
                # a key seen before costs the failed INSERT and one read.
                async with self._engine.begin() as connection:
                    await connection.execute(_INSERT, row.model_dump(exclude={"pk"}))
                return Added(Task.from_row(row), created=True)
            except IntegrityError:
                if key is not None and (stored := await self._by_key(owner, key)) is not None:
                    return Added(stored, created=False)  # this key's task, stored before or just now
                if attempt == _ID_ATTEMPTS - 1:  # else an id collision (about 2^-60): draw again
                    raise
        raise AssertionError("unreachable")

    async def _by_key(self, owner: str, key: str) -> Task | None:
        statement = select(TaskRow).where(col(TaskRow.owner) == owner, col(TaskRow.idempotency_key) == key)
        async with self._sessions() as session:
            row = (await session.exec(statement)).first()
        return Task.from_row(row) if row is not None else None

    async def get(self, *, owner: str, task_id: str) -> Task:
        """One of `owner`'s tasks, or `TaskNotFoundError`."""
        async with self._sessions() as session:
            return Task.from_row(await self._row(session, owner, task_id))

    async def list(
        self,
        *,
        owner: str,
        status: StatusFilter = "all",
        query: str | None = None,
        limit: int = 20,
        after: int | None = None,
    ) -> TaskPage:
        """`owner`'s tasks, newest first, filtered by status and by words in title or description
        (case-insensitive; the last word matches as a prefix; a query without words matches nothing)."""
        terms = search_terms(query) if query is not None else []
        if query is not None and not terms:
            return TaskPage(tasks=[], total=0, next_after=None)
        if terms and self._sqlite:
            return await self._search_sqlite(owner, status, terms, limit, after)
        filters: list[ColumnElement[bool]] = [col(TaskRow.owner) == owner]
        if status != "all":
            filters.append(col(TaskRow.status) == status)
        if terms:
            filters.append(search.postgres_clause(terms))
        page_filters = [*filters, col(TaskRow.pk) < after] if after is not None else filters
        # Plain rows, not ORM objects: a page is read, never changed (a third of the cost).
        columns = TaskRow.__table__.columns  # type: ignore[attr-defined]
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(*columns).where(*page_filters).order_by(col(TaskRow.pk).desc()).limit(limit + 1)
                )
            ).all()
            if after is None and len(rows) <= limit:
                total = len(rows)  # the whole list fits on this first page: no need to count
            else:
                count = select(func.count()).select_from(TaskRow).where(*filters)
                total = (await connection.execute(count)).scalar_one()
        return _page(list(rows), total, limit)

    async def agenda(self, *, owner: str, due_by: date, limit: int = 50) -> TaskPage:
        """`owner`'s pending tasks that are due by `due_by` (overdue ones too) or are high priority
        without a due date: soonest due first, then by priority; `total` counts every pending task."""
        pending = [col(TaskRow.owner) == owner, col(TaskRow.status) == TaskStatus.pending.value]
        due = col(TaskRow.due_date)
        wanted = or_(due <= due_by, and_(due.is_(None), col(TaskRow.priority) == Priority.high.value))
        rank = case({Priority.high.value: 0, Priority.medium.value: 1}, value=col(TaskRow.priority), else_=2)
        columns = TaskRow.__table__.columns  # type: ignore[attr-defined]
        statement = (
            select(*columns)
            .where(*pending, wanted)
            .order_by(due.is_(None), due, rank, col(TaskRow.pk).desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
            count = select(func.count()).select_from(TaskRow).where(*pending)
            total = (await connection.execute(count)).scalar_one()
        return _page(list(rows), total, limit)

    async def ids_starting_with(self, *, owner: str, prefix: str, limit: int = 100) -> Sequence[str]:
        """The ids of `owner`'s tasks that start with `prefix` (as typed: case-sensitive), newest first."""
        statement = (
            select(col(TaskRow.id))
            .where(col(TaskRow.owner) == owner, col(TaskRow.id).startswith(prefix, autoescape=True))
            .order_by(col(TaskRow.pk).desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            return list((await connection.execute(statement)).scalars())

    async def _search_sqlite(
        self, owner: str, status: StatusFilter, terms: Sequence[str], limit: int, after: int | None
    ) -> TaskPage:
        match = {"match": search.sqlite_match(owner, status, terms)}
        below = " AND rowid < :after" if after is not None else ""
        ranked = (
            f"SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH :match{below} ORDER BY rowid DESC LIMIT :n"
        )
        async with self._sessions() as session:
            connection = await session.connection()
            hits = await connection.execute(text(ranked), {**match, "after": after, "n": limit + 1})
            pks = [pk for (pk,) in hits]
            statement = select(TaskRow).where(col(TaskRow.pk).in_(pks), col(TaskRow.owner) == owner)
            rows = (await session.exec(statement.order_by(col(TaskRow.pk).desc()))).all()
            counted = await connection.execute(
                text("SELECT count(*) FROM tasks_fts WHERE tasks_fts MATCH :match"), match
            )
        return _page(list(rows), counted.scalar_one(), limit)

    async def update(
        self,
        *,
        owner: str,
        task_id: str,
        title: str | None = None,
        description: str | None = None,
        due_date: date | None = None,
        priority: Priority | None = None,
    ) -> Task:
        """Change the given fields of one of `owner`'s tasks (`None` leaves a field as it is)."""
        async with self._sessions() as session:
            row = await self._row(session, owner, task_id)
            if title is not None:
                row.title = title
            if description is not None:
                row.description = description
            if due_date is not None:
                row.due_date = due_date
            if priority is not None:
                row.priority = priority.value
            row.updated_at = datetime.now(UTC)
            session.add(row)
            await session.commit()
            return Task.from_row(row)

    async def set_status(self, *, owner: str, task_id: str, status: TaskStatus) -> Task:
        """Complete or reopen one of `owner`'s tasks; setting the status it already has changes nothing."""
        async with self._sessions() as session:
            row = await self._row(session, owner, task_id)
            if row.status != status.value:
                now = datetime.now(UTC)
                row.status = status.value
                row.completed_at = now if status is TaskStatus.completed else None
                row.updated_at = now
                session.add(row)
                await session.commit()
            return Task.from_row(row)

    async def delete(self, *, owner: str, task_id: str) -> Task:
        """Delete one of `owner`'s tasks and return it as it was."""
        async with self._sessions() as session:
            row = await self._row(session, owner, task_id)
            task = Task.from_row(row)
            await session.delete(row)
            await session.commit()
            return task

    @staticmethod
    async def _row(session: AsyncSession, owner: str, task_id: str) -> TaskRow:
        statement = select(TaskRow).where(col(TaskRow.owner) == owner, col(TaskRow.id) == task_id)
        row = (await session.exec(statement)).first()
        if row is None:
            raise TaskNotFoundError(task_id)
        return row


def _page(rows: list[Any], total: int, limit: int) -> TaskPage:
    """A page from up to `limit + 1` rows (the extra one says another page follows)."""
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(
        tasks=[Task.from_row(row) for row in rows],
        total=total,
        next_after=rows[-1].pk if more and rows else None,
    )
