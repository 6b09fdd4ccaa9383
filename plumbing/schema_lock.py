"""The schema lock: processes starting together on one database change its schema one at a time."""

from __future__ import annotations

from sqlalchemy import Connection, text


def lock_schema(connection: Connection, key: int) -> None:
    """Hold the schema for the rest of this connection's transaction: SQLite takes its write lock
    (`BEGIN IMMEDIATE`), Postgres the advisory lock `key` (any constant the sharing processes agree on)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
