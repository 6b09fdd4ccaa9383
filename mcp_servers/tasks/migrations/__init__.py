"""The tasks store's migrations (Alembic): `tasks-mcp migrate`, and every tasks server at start."""

from __future__ import annotations

from plumbing.migrations import History

HISTORY = History(
    store="tasks",
    script_location="mcp_servers.tasks:migrations",
    command="tasks-mcp migrate",
    lock_key=0x6D63705F736368,  # "mcp_sch": shared by the tool servers on one Postgres database
    tables=("tasks",),
    owns=("tasks", "tasks_*"),
    # Word search, beside the model: FTS5 on SQLite, a generated tsvector column on Postgres.
    unmodelled=frozenset({"tasks_fts*", "tasks.search", "ix_tasks_search"}),
)
