"""Baseline: the tasks store as it was made before there were migrations.

Creates only what is missing, so a database made by that code is adopted as it is: the table with
its indexes, then the word search (an FTS5 table kept in step by triggers on SQLite, a generated
`tsvector` column with a GIN index on Postgres).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mcp_servers.common.postgres_text import words_vector

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS tasks_fts USING fts5("
    "owner_key, status, title, description, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS tasks_fts_insert AFTER INSERT ON tasks BEGIN "
    "INSERT INTO tasks_fts(rowid, owner_key, status, title, description) "
    "VALUES (new.pk, 'o' || hex(new.owner), new.status, new.title, new.description); END",
    "CREATE TRIGGER IF NOT EXISTS tasks_fts_delete AFTER DELETE ON tasks BEGIN "
    "DELETE FROM tasks_fts WHERE rowid = old.pk; END",
    "CREATE TRIGGER IF NOT EXISTS tasks_fts_update AFTER UPDATE OF owner, status, title, description "
    "ON tasks BEGIN DELETE FROM tasks_fts WHERE rowid = old.pk; "
    "INSERT INTO tasks_fts(rowid, owner_key, status, title, description) "
    "VALUES (new.pk, 'o' || hex(new.owner), new.status, new.title, new.description); END",
)
# A new word index takes in the tasks already there.
SQLITE_BACKFILL = (
    "INSERT INTO tasks_fts(rowid, owner_key, status, title, description) "
    "SELECT pk, 'o' || hex(owner), status, title, description FROM tasks"
)
# The expression is the one the queries fold words with: a change to it comes with a revision
# that rebuilds the column.
POSTGRES_SEARCH = (
    "ALTER TABLE tasks ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS "
    f"({words_vector('title')} || {words_vector('description')}) STORED",
    "CREATE INDEX IF NOT EXISTS ix_tasks_search ON tasks USING GIN (search)",
)


def baseline() -> sa.MetaData:
    """The table and indexes of revision 0001, frozen here (the model moves on without them)."""
    metadata = sa.MetaData()
    sa.Table(
        "tasks",
        metadata,
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index("ix_tasks_owner_pk", "owner", "pk"),
        sa.Index("ix_tasks_owner_status_pk", "owner", "status", "pk"),
    )
    return metadata


def upgrade() -> None:
    bind = op.get_bind()
    baseline().create_all(bind, checkfirst=True)
    if bind.dialect.name != "sqlite":
        for statement in POSTGRES_SEARCH:
            op.execute(statement)
        return
    indexed = sa.inspect(bind).has_table("tasks_fts")
    for statement in SQLITE_SEARCH:
        op.execute(statement)
    if not indexed:
        op.execute(SQLITE_BACKFILL)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS tasks_fts")
    baseline().drop_all(bind, checkfirst=True)
