"""Word search over a user's tasks, fast at 100,000 tasks per user.

SQLite: an FTS5 table kept in step by triggers holds, beside title and description, the owner
(as one exact token: `o` + hex of its UTF-8 bytes, an injective mapping) and the status, so one
MATCH finds exactly the caller's matching tasks in rowid order and counts them without touching
the other rows. Postgres: a generated `tsvector` with a GIN index beside the owner index, its words cut and
folded as on SQLite (`postgres_text`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, text

from mcp_servers.common.postgres_text import words_vector
from mcp_servers.common.search_terms import fts5_query, tsquery

SQLITE_DDL = (
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
SQLITE_BACKFILL = (
    "INSERT INTO tasks_fts(rowid, owner_key, status, title, description) "
    "SELECT pk, 'o' || hex(owner), status, title, description FROM tasks"
)
POSTGRES_DDL = (
    "ALTER TABLE tasks ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS "
    f"({words_vector('title')} || {words_vector('description')}) STORED",
    "CREATE INDEX IF NOT EXISTS ix_tasks_search ON tasks USING GIN (search)",
)


def sqlite_match(owner: str, status: str, terms: Sequence[str]) -> str:
    """The FTS5 expression for `owner`'s tasks with `status` ("all" for any) whose words match."""
    parts = [f'owner_key : "o{owner.encode().hex()}"']
    if status != "all":
        parts.append(f'status : "{status}"')
    parts.append(f"{{title description}} : ({fts5_query(terms, match_all=True)})")
    return " AND ".join(parts)


def postgres_clause(terms: Sequence[str]) -> ColumnElement[bool]:
    """A WHERE clause for tasks whose words match (combined with the owner filter by the caller)."""
    clause = text("tasks.search @@ to_tsquery('simple', :task_words)")
    return clause.bindparams(task_words=tsquery(terms, match_all=True))  # type: ignore[return-value]
