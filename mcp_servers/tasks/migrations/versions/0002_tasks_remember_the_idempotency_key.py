"""A task remembers the idempotency key of the add_task call that created it (unique per owner)

A second add_task with the same key (a repeat of a call that may have run) gets that task
instead of another (`mcp_servers.common.idempotency`). Adds the nullable column and the unique
index where they are missing; the tasks already there have no key (NULLs never collide, on SQLite
as on Postgres). Plain ALTER TABLE on SQLite too: the table is not copied, so the word-search
triggers stay.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMN = "idempotency_key"
INDEX = "ix_tasks_owner_idempotency_key"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if COLUMN not in {column["name"] for column in inspector.get_columns("tasks")}:
        op.add_column("tasks", sa.Column(COLUMN, sa.String(length=100), nullable=True))
    if INDEX not in {index["name"] for index in inspector.get_indexes("tasks")}:
        op.create_index(INDEX, "tasks", ["owner", COLUMN], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="tasks")
    op.drop_column("tasks", COLUMN)  # in place on SQLite too (3.35+): the triggers stay
