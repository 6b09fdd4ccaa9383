"""Async database engines for the servers' data layers: SQLite (WAL, busy timeout) or Postgres.

SQLite statements here take tens of microseconds, while every driver call through aiosqlite's
worker thread costs ~0.1 ms, and one tool call makes a dozen of them. So a SQLite URL (written
`sqlite+aiosqlite://`, the documented form) runs on `sqlite+inline`: the standard pysqlite driver
called on the event-loop thread, inside SQLAlchemy's async layer, so the repositories keep their
`AsyncEngine` and `AsyncSession` code. Postgres goes through asyncpg.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

from plumbing import engines
from plumbing.engines import is_sqlite

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "create_engine", "is_sqlite", "session_factory"]

SQLITE_BUSY_TIMEOUT_MS = 10_000


async def _ready() -> None:
    return None


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """The asyncio layer's hook for drivers that fetch ahead; pysqlite reads rows on demand."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite under SQLAlchemy's asyncio extension: statements run at once, on the loop's thread."""

    is_async = True
    supports_statement_cache = True

    # The asyncio layer insists that every execution awaits once: give it an await that is done.
    def do_execute(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        await_(_ready())
        super().do_execute(cursor, statement, parameters, context)

    def do_execute_no_params(self, cursor: Any, statement: Any, context: Any = None) -> None:
        await_(_ready())
        super().do_execute_no_params(cursor, statement, context)

    def do_executemany(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        await_(_ready())
        super().do_executemany(cursor, statement, parameters, context)

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool


registry.register("sqlite.inline", __name__, "InlineSQLiteDialect")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; SQLite gets its directory created, WAL and a busy timeout."""
    return engines.create_engine(url, _inline_sqlite_engine, **kwargs)


def _inline_sqlite_engine(url: URL, kwargs: dict[str, Any]) -> AsyncEngine:
    kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "factory": _Connection})
    engine = create_async_engine(url.set(drivername="sqlite+inline"), **kwargs)
    engines.configure_sqlite_connections(engine.sync_engine, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """SQLModel async sessions on `engine` that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
