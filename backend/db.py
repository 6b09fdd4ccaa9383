"""The backend's database engine: SQLite (WAL, busy timeout, foreign keys) or Postgres.

Postgres goes through asyncpg. SQLite statements on this store take tens of microseconds, while
each await through aiosqlite's worker thread costs ~0.1 ms and one store call makes several of
them (~0.7 ms a call, most of a chat turn). So SQLite runs inline on the event-loop thread
through `InlineSqliteEngine`, the subset of `AsyncEngine` the store uses. The workers of one
machine may share a SQLite file (each store call is one statement or one short transaction, and a
writer that finds the file locked waits for it, blocking its own loop for that moment); backends
on several machines share Postgres.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import Connection, Engine
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from plumbing import engines
from plumbing.engines import is_sqlite

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "InlineSqliteEngine", "create_engine", "is_sqlite"]

SQLITE_BUSY_TIMEOUT_MS = 5_000


class InlineConnection:
    """An `AsyncConnection` look-alike whose awaits run the statement right away, on this thread."""

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        """Run a statement; the result is already complete."""
        return self.sync_connection.execute(statement, parameters, **kwargs)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Any:
        """Run raw SQL."""
        return self.sync_connection.exec_driver_sql(statement, parameters)

    async def run_sync(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call `function(sync_connection, ...)`."""
        return function(self.sync_connection, *args, **kwargs)

    async def commit(self) -> None:
        self.sync_connection.commit()

    async def rollback(self) -> None:
        self.sync_connection.rollback()


class InlineSqliteEngine:
    """The part of `AsyncEngine` the store uses, over a synchronous SQLite engine."""

    def __init__(self, engine: Engine) -> None:
        self.sync_engine = engine
        self.dialect = engine.dialect

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[InlineConnection]:
        """A connection from the pool."""
        with self.sync_engine.connect() as connection:
            yield InlineConnection(connection)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[InlineConnection]:
        """A connection in a transaction, committed on success."""
        with self.sync_engine.begin() as connection:
            yield InlineConnection(connection)

    def execution_options(self, **options: Any) -> InlineSqliteEngine:
        return InlineSqliteEngine(self.sync_engine.execution_options(**options))

    async def dispose(self) -> None:
        self.sync_engine.dispose()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The engine for `url`; a SQLite file gets its directory, WAL, a busy timeout and foreign keys.

    Failed statements keep their parameters (user ids, titles, message JSON) out of exception
    messages (`hide_parameters`), so no log that prints such an exception shows user data."""
    kwargs.setdefault("hide_parameters", True)
    return engines.create_engine(url, _inline_sqlite_engine, **kwargs)


def _inline_sqlite_engine(url: URL, kwargs: dict[str, Any]) -> AsyncEngine:
    kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    engine = create_sync_engine(url.set(drivername="sqlite+pysqlite"), **kwargs)
    engines.configure_sqlite_connections(engine, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
    return cast(AsyncEngine, InlineSqliteEngine(engine))
