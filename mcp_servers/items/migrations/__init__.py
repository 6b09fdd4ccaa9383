"""The catalog's migrations (Alembic): `items-mcp migrate`, and every items server at start."""

from __future__ import annotations

from plumbing.migrations import History

HISTORY = History(
    store="items",
    script_location="mcp_servers.items:migrations",
    command="items-mcp migrate",
    lock_key=0x6D63705F736368,  # "mcp_sch": shared by the tool servers on one Postgres database
    tables=("items",),
    owns=("items", "items_*"),
    # Search, beside the model: FTS5 and stored rankings on SQLite, a tsvector column on Postgres.
    unmodelled=frozenset({"items_fts*", "items_search_head*", "items.search", "ix_items_search"}),
)
