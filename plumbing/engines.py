"""Async engines from database URLs: the part every store of ours shares.

Postgres (any URL that is not SQLite) goes through `create_async_engine` with a pre-ping pool. For
SQLite the file's directory is created, then the store's own factory builds the engine (each store
runs SQLite its own way), and `configure_sqlite_connections` sets up every connection it opens.
When the process traces, every statement gets a span (`plumbing.sql_spans`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from plumbing import sqlite, tracing

SqliteFactory = Callable[[URL, dict[str, Any]], AsyncEngine]


def is_sqlite(engine: AsyncEngine) -> bool:
    """Whether the engine talks to SQLite (the data layers pick their SQL dialect by this)."""
    return engine.dialect.name == "sqlite"


def create_engine(url: str, sqlite_engine: SqliteFactory, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`: Postgres with `pool_pre_ping`, or `sqlite_engine(url, kwargs)`
    once a SQLite file's directory exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return _traced(create_async_engine(url, **kwargs))
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return _traced(sqlite_engine(parsed, kwargs))


def _traced(engine: AsyncEngine) -> AsyncEngine:
    """`engine`, whose statements get spans when this process traces (`plumbing.sql_spans`)."""
    if tracing.enabled():
        from plumbing.sql_spans import trace_statements

        trace_statements(engine.sync_engine)
    return engine


def configure_sqlite_connections(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Give every connection `engine` opens WAL, the busy timeout and the rest (`plumbing.sqlite`)."""

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        sqlite.configure(dbapi_connection, busy_timeout_ms=busy_timeout_ms)
