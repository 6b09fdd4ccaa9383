"""Property-based: arbitrary text never breaks search_items or add_task, and the server stays correct.

Hypothesis drives synchronous examples; each calls the in-memory server through an anyio portal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from mcp_servers.items.server import create_items_server
from mcp_servers.items.settings import ItemsSettings
from mcp_servers.tasks.server import create_tasks_server
from mcp_servers.tasks.settings import TasksSettings
from tests.conftest import SECRET

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
SYNTAX = st.text(alphabet='"*()-:^+ANDORNOTNEAR \x00lamp', max_size=40)


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as portal:
        yield portal


@pytest.fixture
def items(portal: BlockingPortal, items_db: str, tmp_path) -> Iterator[Client]:
    settings_ = ItemsSettings(
        ITEMS_DATABASE_URL=items_db, MCP_AUTH_SECRET=SECRET, MCP_AUTH_SECRET_FILE=tmp_path / "s"
    )
    with portal.wrap_async_context_manager(
        Client(create_items_server(settings_, transport="memory"))
    ) as client:
        yield client


@pytest.fixture
def tasks(portal: BlockingPortal, tasks_settings: TasksSettings) -> Iterator[Client]:
    with portal.wrap_async_context_manager(
        Client(create_tasks_server(tasks_settings, transport="memory"))
    ) as client:
        yield client


def test_search_items_survives_any_text(portal: BlockingPortal, items: Client) -> None:
    """Any query string gives results or none (never a tool error), with consistent counts."""

    @FUZZ
    @given(query=st.text(max_size=300) | SYNTAX)
    def check(query: str) -> None:
        result = portal.call(items.call_tool, "search_items", {"query": query, "limit": 5})
        assert not result.is_error, (query, result.content)
        data: dict[str, Any] = result.structured_content
        assert data["total"] >= len(data["items"])
        assert (data["next_cursor"] is None) == (data["total"] <= len(data["items"]))

    check()
    alive = portal.call(items.call_tool, "search_items", {"query": "lamp"})
    assert not alive.is_error
    assert alive.structured_content["total"] > 0


def test_add_task_stores_any_valid_title_exactly(portal: BlockingPortal, tasks: Client) -> None:
    """Any title is either stored exactly (stripped) or refused with an argument error."""
    stored = 0

    @FUZZ
    @given(title=st.text(max_size=250))
    def check(title: str) -> None:
        nonlocal stored
        result = portal.call(tasks.call_tool, "add_task", {"title": title})
        stripped = title.strip()
        if len(title) > 200 or not stripped or any(unicodedata.category(c) == "Cc" for c in stripped):
            assert result.is_error
            assert result.content[0].text.startswith("Invalid arguments for add_task")
            return
        assert not result.is_error, result.content
        stored += 1
        fetched = portal.call(tasks.call_tool, "get_task", {"task_id": result.structured_content["task_id"]})
        assert fetched.structured_content["title"] == stripped

    check()
    listing = portal.call(tasks.call_tool, "list_tasks", {"limit": 1})
    assert listing.structured_content["total"] == stored
