"""Chat store tables. Payloads are the SDK models as JSON text, so new item types need no migration;
the columns beside them are what queries filter and order by. Every row carries its owner's user id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, Table, Text
from sqlmodel import Field, SQLModel

# SQLite only auto-increments an INTEGER PRIMARY KEY; Postgres gets a BIGSERIAL.
BigPk = BigInteger().with_variant(Integer(), "sqlite")


def _timestamp() -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=False)


class ChatThreadRow(SQLModel, table=True):
    """Thread metadata; (created_at, pk) orders a user's threads and `pk` breaks ties."""

    __tablename__ = "chat_threads"
    __table_args__ = (Index("ix_chat_threads_owner_created_pk", "owner", "created_at", "pk"),)

    pk: int | None = Field(default=None, sa_type=BigPk, primary_key=True)
    id: str = Field(max_length=255, unique=True)
    owner: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_timestamp())
    title: str | None = Field(default=None, sa_type=Text)
    data: str = Field(sa_type=Text)


class ChatItemRow(SQLModel, table=True):
    """One thread item; (created_at, pk) orders a thread's items and `pk` breaks ties."""

    __tablename__ = "chat_items"
    __table_args__ = (Index("ix_chat_items_thread_created_pk", "thread_id", "created_at", "pk"),)

    pk: int | None = Field(default=None, sa_type=BigPk, primary_key=True)
    id: str = Field(max_length=255, unique=True)
    thread_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_threads.id", ondelete="CASCADE")])
    owner: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_timestamp())
    type: str = Field(max_length=64)
    data: str = Field(sa_type=Text)


class ChatAttachmentRow(SQLModel, table=True):
    """Attachment metadata; `thread_id` is set once a message that carries it is saved."""

    __tablename__ = "chat_attachments"

    id: str = Field(max_length=255, primary_key=True)
    owner: str = Field(max_length=200)
    thread_id: str | None = Field(default=None, max_length=255, index=True)
    created_at: datetime = Field(sa_column=_timestamp())
    data: str = Field(sa_type=Text)


class ChatAttachmentFileRow(SQLModel, table=True):
    """The uploaded bytes of one attachment."""

    __tablename__ = "chat_attachment_files"

    attachment_id: str = Field(
        max_length=255,
        primary_key=True,
        sa_column_args=[ForeignKey("chat_attachments.id", ondelete="CASCADE")],
    )
    owner: str = Field(max_length=200)
    mime_type: str = Field(max_length=200)
    size: int
    content: bytes = Field(sa_type=LargeBinary)


class ChatFeedbackRow(SQLModel, table=True):
    """A user's latest feedback on one item (one row per owner and item)."""

    __tablename__ = "chat_feedback"
    __table_args__ = (
        Index("ux_chat_feedback_item_owner", "item_id", "owner", unique=True),
        Index("ix_chat_feedback_thread", "thread_id"),
    )

    pk: int | None = Field(default=None, sa_type=BigPk, primary_key=True)
    owner: str = Field(max_length=200)
    thread_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_threads.id", ondelete="CASCADE")])
    item_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_items.id", ondelete="CASCADE")])
    kind: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_timestamp())


class ChatWidgetStateRow(SQLModel, table=True):
    """What a widget item with actions was rendered from (template, data, source call, ui state),
    kept server side for its actions; `version` guards against two actions updating it at once."""

    __tablename__ = "chat_widget_states"
    __table_args__ = (Index("ix_chat_widget_states_thread", "thread_id"),)

    item_id: str = Field(max_length=255, primary_key=True)
    owner: str = Field(max_length=200)
    thread_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_threads.id", ondelete="CASCADE")])
    version: int = Field(default=0, sa_type=BigInteger)
    data: str = Field(sa_type=Text)


class ChatPausedRunRow(SQLModel, table=True):
    """A run paused for the user's approval: the Agents SDK's serialized `RunState`, server side."""

    __tablename__ = "chat_paused_runs"
    __table_args__ = (Index("ix_chat_paused_runs_thread", "thread_id"),)

    id: str = Field(max_length=255, primary_key=True)
    owner: str = Field(max_length=200)
    thread_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_threads.id", ondelete="CASCADE")])
    created_at: datetime = Field(sa_column=_timestamp())
    state: str = Field(sa_type=Text)


class ChatApprovalRow(SQLModel, table=True):
    """One tool call of a paused run waiting for (or given) the user's decision; `status` moves
    from `pending` to `approved`, `rejected` or `expired` once."""

    __tablename__ = "chat_approvals"
    __table_args__ = (
        Index("ix_chat_approvals_thread_status", "thread_id", "status"),
        Index("ix_chat_approvals_run", "run_id"),
    )

    id: str = Field(max_length=255, primary_key=True)
    owner: str = Field(max_length=200)
    thread_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_threads.id", ondelete="CASCADE")])
    run_id: str = Field(max_length=255)
    item_id: str = Field(max_length=255)
    call_id: str = Field(max_length=255)
    server: str = Field(max_length=200)
    tool: str = Field(max_length=200)
    status: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_timestamp())
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ChatToolCallRow(SQLModel, table=True):
    """One tool call with side effects, recorded before it is sent and settled after it answered
    (`backend.tool_journal`): kept when a retry removes the turn's items, so the retry does not
    repeat it. `fingerprint` names the call within its turn (user message, tool, arguments)."""

    __tablename__ = "chat_tool_calls"
    __table_args__ = (
        Index("ix_chat_tool_calls_thread_fingerprint", "thread_id", "fingerprint"),
        Index("ix_chat_tool_calls_thread_status", "thread_id", "status"),
    )

    id: str = Field(max_length=255, primary_key=True)
    owner: str = Field(max_length=200)
    thread_id: str = Field(max_length=255, sa_column_args=[ForeignKey("chat_threads.id", ondelete="CASCADE")])
    item_id: str = Field(max_length=255)  # the thread item that shows the call
    call_id: str = Field(max_length=255)  # the model's
    tool: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status: str = Field(max_length=16)  # pending, done, failed, interrupted, reported, superseded
    output: str = Field(default="", sa_type=Text)  # what the model was given
    created_at: datetime = Field(sa_column=_timestamp())
    settled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # Sent in the call's `_meta` (`backend.idempotency_keys`): the record's id, or the key of the
    # interrupted call it repeats. NULL on records written before keys were kept: their id.
    idempotency_key: str | None = Field(default=None, max_length=255)


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


THREADS = _table(ChatThreadRow)
ITEMS = _table(ChatItemRow)
ATTACHMENTS = _table(ChatAttachmentRow)
FILES = _table(ChatAttachmentFileRow)
FEEDBACK = _table(ChatFeedbackRow)
WIDGET_STATES = _table(ChatWidgetStateRow)
PAUSED_RUNS = _table(ChatPausedRunRow)
APPROVALS = _table(ChatApprovalRow)
TOOL_CALLS = _table(ChatToolCallRow)
TABLES = [THREADS, ITEMS, ATTACHMENTS, FILES, FEEDBACK, WIDGET_STATES, PAUSED_RUNS, APPROVALS, TOOL_CALLS]
