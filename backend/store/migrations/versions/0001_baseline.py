"""Baseline: the chat store as `create_all` made it before there were migrations.

Creates only the tables that are missing, so a database made by that code is adopted as it is.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only auto-increments an INTEGER PRIMARY KEY; Postgres gets a BIGSERIAL.
BIG_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str, **kwargs: object) -> sa.Column[str]:
    return sa.Column(name, sa.String(255), nullable=False, **kwargs)  # type: ignore[arg-type]


def _owner() -> sa.Column[str]:
    return sa.Column("owner", sa.String(200), nullable=False)


def _moment(name: str = "created_at", *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _thread(*, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        "thread_id", sa.String(255), sa.ForeignKey("chat_threads.id", ondelete="CASCADE"), nullable=nullable
    )


def baseline() -> sa.MetaData:
    """The tables and indexes of revision 0001, frozen here (the models move on without them)."""
    metadata = sa.MetaData()
    sa.Table(
        "chat_threads",
        metadata,
        sa.Column("pk", BIG_PK, primary_key=True),
        _id("id", unique=True),
        _owner(),
        _moment(),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Index("ix_chat_threads_owner_created_pk", "owner", "created_at", "pk"),
    )
    sa.Table(
        "chat_items",
        metadata,
        sa.Column("pk", BIG_PK, primary_key=True),
        _id("id", unique=True),
        _thread(),
        _owner(),
        _moment(),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Index("ix_chat_items_thread_created_pk", "thread_id", "created_at", "pk"),
    )
    sa.Table(
        "chat_attachments",
        metadata,
        _id("id", primary_key=True),
        _owner(),
        sa.Column("thread_id", sa.String(255), nullable=True, index=True),
        _moment(),
        sa.Column("data", sa.Text(), nullable=False),
    )
    sa.Table(
        "chat_attachment_files",
        metadata,
        sa.Column(
            "attachment_id",
            sa.String(255),
            sa.ForeignKey("chat_attachments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _owner(),
        sa.Column("mime_type", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    sa.Table(
        "chat_feedback",
        metadata,
        sa.Column("pk", BIG_PK, primary_key=True),
        _owner(),
        _thread(),
        sa.Column(
            "item_id", sa.String(255), sa.ForeignKey("chat_items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        _moment(),
        sa.Index("ux_chat_feedback_item_owner", "item_id", "owner", unique=True),
        sa.Index("ix_chat_feedback_thread", "thread_id"),
    )
    sa.Table(
        "chat_widget_states",
        metadata,
        _id("item_id", primary_key=True),
        _owner(),
        _thread(),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Index("ix_chat_widget_states_thread", "thread_id"),
    )
    sa.Table(
        "chat_paused_runs",
        metadata,
        _id("id", primary_key=True),
        _owner(),
        _thread(),
        _moment(),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Index("ix_chat_paused_runs_thread", "thread_id"),
    )
    sa.Table(
        "chat_approvals",
        metadata,
        _id("id", primary_key=True),
        _owner(),
        _thread(),
        _id("run_id"),
        _id("item_id"),
        _id("call_id"),
        sa.Column("server", sa.String(200), nullable=False),
        sa.Column("tool", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _moment(),
        _moment("decided_at", nullable=True),
        sa.Index("ix_chat_approvals_thread_status", "thread_id", "status"),
        sa.Index("ix_chat_approvals_run", "run_id"),
    )
    return metadata


def upgrade() -> None:
    baseline().create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    baseline().drop_all(op.get_bind(), checkfirst=True)
