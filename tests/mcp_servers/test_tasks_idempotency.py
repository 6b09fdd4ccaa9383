"""add_task with an idempotency key in `_meta`, through the official MCP client in memory: one
task per (user, key) with the same result every time, another user's key never matching, and
calls without a key as before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mcp import Client

from mcp_servers.common.identity import TokenCodec
from plumbing.identity import IDEMPOTENCY_KEY_META_KEY
from tests.mcp_servers.conftest import as_user

KEY = "tcr_5f0c1e2d3b4a69788796a5b4c3d2e1f0"
ARGS = {"title": "Buy milk", "due_date": "2026-12-24", "priority": "high"}


def keyed(codec: TokenCodec, user: str, key: Any) -> dict[str, Any]:
    """The `_meta` of a call for `user` carrying `key`, as the backend sends it."""
    return {**as_user(codec, user), IDEMPOTENCY_KEY_META_KEY: key}


async def add(client: Client, meta: dict[str, Any], args: dict[str, Any] = ARGS) -> tuple[Any, str]:
    """add_task that must succeed: its structured result and its text."""
    result = await client.call_tool("add_task", args, meta=meta)
    assert not result.is_error, result.content
    return result.structured_content, result.content[0].text


async def titles(client: Client, meta: dict[str, Any]) -> list[str]:
    listed = await client.call_tool("list_tasks", {"limit": 100}, meta=meta)
    return [task["title"] for task in listed.structured_content["tasks"]]


async def test_the_same_key_twice_adds_one_task_with_the_same_result(
    tasks_client: Client, codec: TokenCodec
) -> None:
    first, first_text = await add(tasks_client, keyed(codec, "alice", KEY))
    again, again_text = await add(tasks_client, keyed(codec, "alice", KEY))
    assert again == first and first["status"] == "created"
    assert first_text.startswith("Task created:") and "already added" not in first_text
    assert again_text.startswith("Task already added:") and first["task_id"] in again_text
    assert await titles(tasks_client, as_user(codec, "alice")) == ["Buy milk"]


async def test_different_keys_add_two_tasks(tasks_client: Client, codec: TokenCodec) -> None:
    one, _ = await add(tasks_client, keyed(codec, "alice", KEY))
    two, text = await add(tasks_client, keyed(codec, "alice", KEY[:-1] + "1"))
    assert one["task_id"] != two["task_id"] and "already added" not in text
    assert await titles(tasks_client, as_user(codec, "alice")) == ["Buy milk", "Buy milk"]


async def test_another_users_key_makes_that_users_own_task(tasks_client: Client, codec: TokenCodec) -> None:
    alices, _ = await add(tasks_client, keyed(codec, "alice", KEY), {"title": "Alice's secret"})
    bobs, text = await add(tasks_client, keyed(codec, "bob", KEY), {"title": "Bob's errand"})
    assert bobs["task_id"] != alices["task_id"] and bobs["task"]["title"] == "Bob's errand"
    assert "Alice" not in text and "already added" not in text
    assert await titles(tasks_client, as_user(codec, "bob")) == ["Bob's errand"]
    assert await titles(tasks_client, as_user(codec, "alice")) == ["Alice's secret"]


async def test_calls_without_a_key_add_a_task_each(tasks_client: Client, codec: TokenCodec) -> None:
    one, _ = await add(tasks_client, as_user(codec, "alice"))
    two, _ = await add(tasks_client, as_user(codec, "alice"))
    assert one["task_id"] != two["task_id"]
    assert len(await titles(tasks_client, as_user(codec, "alice"))) == 2


async def test_calls_with_one_key_at_the_same_time_add_one_task(
    tasks_client: Client, codec: TokenCodec
) -> None:
    results = await asyncio.gather(*(add(tasks_client, keyed(codec, "alice", KEY)) for _ in range(6)))
    assert len({result["task_id"] for result, _ in results}) == 1
    assert sum(text.startswith("Task created:") for _, text in results) == 1
    assert await titles(tasks_client, as_user(codec, "alice")) == ["Buy milk"]


@pytest.mark.parametrize("key", ["", 42, "x" * 101, "line\nbreak"])
async def test_a_malformed_key_is_refused_and_adds_nothing(
    tasks_client: Client, codec: TokenCodec, key: Any
) -> None:
    result = await tasks_client.call_tool("add_task", ARGS, meta=keyed(codec, "alice", key))
    assert result.is_error and "idempotency key" in result.content[0].text
    assert await titles(tasks_client, as_user(codec, "alice")) == []


async def test_other_tools_ignore_the_key(tasks_client: Client, codec: TokenCodec) -> None:
    """complete/reopen are idempotent and update sets values: a key changes nothing about them."""
    added, _ = await add(tasks_client, as_user(codec, "alice"))
    meta = keyed(codec, "alice", KEY)
    for tool, args, status in [
        ("update_task", {"task_id": added["task_id"], "title": "Buy oat milk"}, "updated"),
        ("update_task", {"task_id": added["task_id"], "priority": "low"}, "updated"),
        ("complete_task", {"task_id": added["task_id"]}, "completed"),
        ("reopen_task", {"task_id": added["task_id"]}, "reopened"),
    ]:
        result = await tasks_client.call_tool(tool, args, meta=meta)
        assert not result.is_error and result.structured_content["status"] == status, result.content
    task = (
        await tasks_client.call_tool("get_task", {"task_id": added["task_id"]}, meta=meta)
    ).structured_content
    assert (task["title"], task["priority"], task["status"]) == ("Buy oat milk", "low", "pending")
