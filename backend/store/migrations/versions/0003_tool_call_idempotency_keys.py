"""Tool call records keep the idempotency key their call was sent with (backend.idempotency_keys)

A repeat of an interrupted call is sent with that call's key; a record without one (written
before this revision) uses its id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 15:26:24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_tool_calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_tool_calls", schema=None) as batch_op:
        batch_op.drop_column("idempotency_key")
