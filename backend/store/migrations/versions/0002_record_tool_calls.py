"""Record tool calls with side effects (backend.tool_journal)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 14:30:04.885551
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_tool_calls",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("thread_id", sa.String(length=255), nullable=False),
        sa.Column("item_id", sa.String(length=255), nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("tool", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_threads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chat_tool_calls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_chat_tool_calls_thread_fingerprint", ["thread_id", "fingerprint"], unique=False
        )
        batch_op.create_index("ix_chat_tool_calls_thread_status", ["thread_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_tool_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_tool_calls_thread_status")
        batch_op.drop_index("ix_chat_tool_calls_thread_fingerprint")

    op.drop_table("chat_tool_calls")
