"""Baseline: the catalog as it was made before there were migrations.

Creates only what is missing, so a database made by that code is adopted as it is: the table with
its indexes, then the search (on SQLite an FTS5 index over the table with its vocabulary and the
stored rankings of the heaviest prefixes; on Postgres a weighted, generated `tsvector` column with
a GIN index).

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
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5("
    "name, description, tags, content='items', content_rowid='pk', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts_vocab USING fts5vocab(items_fts, 'row')",
    "CREATE TABLE IF NOT EXISTS items_search_head ("
    "query TEXT NOT NULL, position INTEGER NOT NULL, pk INTEGER NOT NULL, PRIMARY KEY (query, position)"
    ") WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS items_search_head_total (query TEXT PRIMARY KEY, total INTEGER NOT NULL)",
)
# The expression is the one the queries fold words with: a change to it comes with a revision
# that rebuilds the column.
POSTGRES_SEARCH = (
    "ALTER TABLE items ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS ("
    f"setweight({words_vector('name')}, 'A') || "
    f"setweight({words_vector('tags')}, 'B') || "
    f"setweight({words_vector('description')}, 'C')) STORED",
    "CREATE INDEX IF NOT EXISTS ix_items_search ON items USING GIN (search)",
)


def baseline() -> sa.MetaData:
    """The table and indexes of revision 0001, frozen here (the model moves on without them)."""
    metadata = sa.MetaData()
    sa.Table(
        "items",
        metadata,
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("tags", sa.String(2000), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Index("ix_items_category_price", "category", "price"),
        sa.Index("ix_items_rating", "rating"),
    )
    return metadata


def upgrade() -> None:
    bind = op.get_bind()
    baseline().create_all(bind, checkfirst=True)
    if bind.dialect.name != "sqlite":
        for statement in POSTGRES_SEARCH:
            op.execute(statement)
        return
    indexed = sa.inspect(bind).has_table("items_fts")
    for statement in SQLITE_SEARCH:
        op.execute(statement)
    if not indexed:  # a new index takes in the products already there
        op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in ("items_search_head_total", "items_search_head", "items_fts_vocab", "items_fts"):
            op.execute(f"DROP TABLE IF EXISTS {table}")
    baseline().drop_all(bind, checkfirst=True)
