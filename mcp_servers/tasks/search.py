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

from mcp_servers.common.search_terms import fts5_query, tsquery


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
