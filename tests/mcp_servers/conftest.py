"""In-memory MCP clients (the official `mcp` client) connected to freshly built servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client

from mcp_servers.common.identity import IDENTITY_META_KEY, TokenCodec
from mcp_servers.items.server import create_items_server
from mcp_servers.items.settings import ItemsSettings
from mcp_servers.tasks.server import create_tasks_server
from mcp_servers.tasks.settings import TasksSettings
from tests.conftest import SECRET


def as_user(codec: TokenCodec, user: str) -> dict[str, Any]:
    """The `_meta` that makes a call act for `user`, as the backend sends it."""
    return {IDENTITY_META_KEY: codec.mint(user)}


@pytest.fixture
def tasks_settings(sqlite_url: str, tmp_path) -> TasksSettings:
    return TasksSettings(
        TASKS_DATABASE_URL=sqlite_url,
        MCP_AUTH_SECRET=SECRET,
        MCP_LOCAL_USER="local-owner",
        MCP_AUTH_SECRET_FILE=tmp_path / "unused-secret",
    )


@pytest.fixture
async def tasks_client(tasks_settings: TasksSettings) -> AsyncIterator[Client]:
    """A client of an in-memory tasks server (a call without a token acts for the local user)."""
    async with Client(create_tasks_server(tasks_settings, transport="memory")) as client:
        yield client


@pytest.fixture(scope="session")
def items_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One seeded catalog database for the session (the catalog is read-only for tools)."""
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('items') / 'items.db'}"


@pytest.fixture
async def items_client(items_db: str, tmp_path) -> AsyncIterator[Client]:
    """A client of an in-memory items server on the packaged catalog."""
    settings = ItemsSettings(
        ITEMS_DATABASE_URL=items_db, MCP_AUTH_SECRET=SECRET, MCP_AUTH_SECRET_FILE=tmp_path / "unused-secret"
    )
    async with Client(create_items_server(settings, transport="memory")) as client:
        yield client
