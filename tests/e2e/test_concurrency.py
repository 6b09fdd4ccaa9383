"""Concurrent writes over HTTP on one SQLite file: nothing lost, nothing crossed between users."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_servers.common.identity import TokenCodec
from tests.e2e.conftest import HttpConnector, Launcher, server_env
from tests.e2e.scenarios import call_ok

pytestmark = pytest.mark.e2e

USERS = ("alice", "bob")
PER_USER = 25


async def test_concurrent_adds_from_two_users(
    launcher: Launcher, mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """50 add_task calls at once (25 per user, one client each): every one lands with its own user."""
    server = launcher.http("tasks-mcp", server_env(launcher.directory))
    results: dict[str, Any] = {}

    async def add(client: Client, title: str) -> None:
        results[title] = await call_ok(client, "add_task", {"title": title})

    async with (
        mcp_http(server.url, codec.mint("alice")) as alice,
        mcp_http(server.url, codec.mint("bob")) as bob,
    ):
        clients = {"alice": alice, "bob": bob}
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for number in range(PER_USER):
                    for user in USERS:
                        group.start_soon(add, clients[user], f"{user}-{number:02d}")
        assert len(results) == PER_USER * len(USERS)
        assert all(result["status"] == "created" for result in results.values())
        assert len({result["task_id"] for result in results.values()}) == PER_USER * len(USERS)
        for user in USERS:
            listed = await call_ok(clients[user], "list_tasks", {"limit": 100})
            titles = sorted(task["title"] for task in listed["tasks"])
            assert titles == [f"{user}-{number:02d}" for number in range(PER_USER)]
            assert (listed["total"], listed["next_cursor"]) == (PER_USER, None)
            ids = {task["id"] for task in listed["tasks"]}
            assert ids == {results[title]["task_id"] for title in titles}
