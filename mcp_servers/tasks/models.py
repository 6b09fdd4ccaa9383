"""Task storage (SQLModel table) and the public shapes the tools return."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime, Index
from sqlmodel import Field, SQLModel


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class TaskStatus(StrEnum):
    pending = "pending"
    completed = "completed"


class TaskRow(SQLModel, table=True):
    """One task, owned by one user. `pk` orders tasks (newest first) and is the keyset cursor."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_owner_pk", "owner", "pk"),
        Index("ix_tasks_owner_status_pk", "owner", "status", "pk"),
        Index("ix_tasks_owner_idempotency_key", "owner", "idempotency_key", unique=True),
    )

    pk: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=40, unique=True)
    owner: str = Field(max_length=200)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    priority: str = Field(default=Priority.medium.value, max_length=10)
    status: str = Field(default=TaskStatus.pending.value, max_length=10)
    due_date: date | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # The idempotency key of the add_task call that created it, if the call carried one: another
    # call with that key gets this task instead of a second one (unique per owner; NULLs never clash).
    idempotency_key: str | None = Field(default=None, max_length=100)


def as_utc(moment: datetime) -> datetime:
    """Timestamps are UTC everywhere; SQLite hands them back naive."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Task(BaseModel):
    """A task as tools return it."""

    id: str
    title: str
    description: str
    status: TaskStatus
    priority: Priority
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: TaskRow) -> Task:
        """The public view of a stored row."""
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            status=TaskStatus(row.status),
            priority=Priority(row.priority),
            due_date=row.due_date,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            completed_at=as_utc(row.completed_at) if row.completed_at else None,
        )


ChangeKind = Literal["created", "updated", "completed", "reopened", "deleted"]


class TaskChange(BaseModel):
    """The result of a mutation: what happened, to which task, and the task itself afterwards."""

    task_id: str
    status: ChangeKind
    title: str
    task: Task


class TaskList(BaseModel):
    """One page of a user's tasks, newest first."""

    tasks: list[Task]
    total: int = PydanticField(description="How many tasks match the filter, across all pages.")
    next_cursor: str | None = PydanticField(
        description="Pass as `cursor` for the next page; null on the last."
    )
