"""The schema as the release before migrations made it at start (`create_all` on the models, then
each server's search DDL), kept verbatim here so that adoption is tested against what is really
out there, not against the baseline revision that is meant to match it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from backend.store.models import TABLES
from mcp_servers.common.postgres_text import words_vector
from mcp_servers.items.models import ItemRow
from mcp_servers.tasks.models import TaskRow

TASKS_SQLITE = (
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
TASKS_POSTGRES = (
    "ALTER TABLE tasks ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS "
    f"({words_vector('title')} || {words_vector('description')}) STORED",
    "CREATE INDEX IF NOT EXISTS ix_tasks_search ON tasks USING GIN (search)",
)
ITEMS_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5("
    "name, description, tags, content='items', content_rowid='pk', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts_vocab USING fts5vocab(items_fts, 'row')",
    "CREATE TABLE IF NOT EXISTS items_search_head ("
    "query TEXT NOT NULL, position INTEGER NOT NULL, pk INTEGER NOT NULL, PRIMARY KEY (query, position)"
    ") WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS items_search_head_total (query TEXT PRIMARY KEY, total INTEGER NOT NULL)",
)
ITEMS_POSTGRES = (
    "ALTER TABLE items ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS ("
    f"setweight({words_vector('name')}, 'A') || "
    f"setweight({words_vector('tags')}, 'B') || "
    f"setweight({words_vector('description')}, 'C')) STORED",
    "CREATE INDEX IF NOT EXISTS ix_items_search ON items USING GIN (search)",
)


LATER_TABLES = frozenset({"chat_tool_calls"})  # added by revisions after the baseline (0002)


async def create_chat(engine: AsyncEngine) -> None:
    """The chat store's `create_tables()` of that release."""
    async with engine.begin() as connection:
        legacy = [table for table in TABLES if table.name not in LATER_TABLES]
        await connection.run_sync(SQLModel.metadata.create_all, tables=legacy)


async def create_tasks(engine: AsyncEngine) -> None:
    """The tasks server's `create_tables()` of that release (on a new database)."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[TaskRow.__table__])  # type: ignore[attr-defined]
        sqlite = connection.dialect.name == "sqlite"
        for statement in TASKS_SQLITE if sqlite else TASKS_POSTGRES:
            await connection.exec_driver_sql(statement)


async def create_items(engine: AsyncEngine) -> None:
    """The items server's `create_tables()` of that release."""
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[ItemRow.__table__])  # type: ignore[attr-defined]
        sqlite = connection.dialect.name == "sqlite"
        for statement in ITEMS_SQLITE if sqlite else ITEMS_POSTGRES:
            await connection.exec_driver_sql(statement)


async def dump(engine: AsyncEngine, tables: list[str]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of `tables`, in primary-key order, for before/after comparisons."""
    rows = {}
    async with engine.connect() as connection:
        for table in tables:
            result = await connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            rows[table] = [tuple(row) for row in result]
    return rows
