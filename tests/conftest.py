"""Fixtures shared by every test: databases (SQLite files, the local Postgres), secrets, tokens."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from mcp_servers.common.db import create_engine
from mcp_servers.common.identity import TokenCodec

SECRET = "test-secret-for-identity-tokens-0123456789abcdef"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
_postgres_state: dict[str, str | None] = {}


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """All async tests run on asyncio."""
    return "asyncio"


async def postgres_unavailable_reason() -> str | None:
    """Why the Postgres tests cannot run here, or None when the server answers."""
    if "reason" not in _postgres_state:
        import asyncpg

        dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
        try:
            connection = await asyncio.wait_for(asyncpg.connect(dsn), timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            _postgres_state["reason"] = f"PostgreSQL at {POSTGRES_URL} does not answer: {exc!r}"
        else:
            await connection.close()
            _postgres_state["reason"] = None
    return _postgres_state["reason"]


@pytest.fixture
def codec() -> TokenCodec:
    """Mints identity tokens the servers under test accept."""
    return TokenCodec(SECRET)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh SQLite file, then on a fresh schema of the local Postgres
    (skipped, with the reason, when Postgres does not answer)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    reason = await postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = create_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """The URL of a new, empty database on the local Postgres, dropped afterwards (skips the test,
    with the reason, when Postgres does not answer): for whole apps and processes."""
    reason = await postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f"CREATE DATABASE {name}")
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """A chat database URL: a fresh SQLite file, then a fresh database on the local Postgres."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def restore_root() -> Iterator[None]:
    """The root logger's handlers and level as they were before the test (which may set up logging)."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
