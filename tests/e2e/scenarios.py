"""Scenarios shared by the e2e modules: protocol constants, bad tokens, tool checks and round trips."""

from __future__ import annotations

import time
from typing import Any

import jwt
from mcp import Client
from mcp_types import ResourceTemplateReference, Tool

from mcp_servers.common.identity import AUDIENCE, IDENTITY_META_KEY, TokenCodec
from tests.conftest import SECRET

RAW_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}

# The protocol eras of the official client: `mode` -> the version it ends up speaking.
MODES = ["auto", "legacy"]
PROTOCOL = {"auto": "2026-07-28", "legacy": "2025-11-25"}
# What both servers serve, so what they advertise: no change notifications, no subscriptions.
CAPABILITIES = {
    "tools": {"listChanged": False},
    "resources": {"subscribe": False, "listChanged": False},
    "prompts": {"listChanged": False},
    "completions": {},
}
TASK_TEMPLATE = ResourceTemplateReference(type="ref/resource", uri="tasks://tasks/{task_id}")

TASKS_TOOLS = {
    "add_task",
    "list_tasks",
    "get_task",
    "update_task",
    "complete_task",
    "reopen_task",
    "delete_task",
}
ITEMS_TOOLS = {"search_items", "get_item", "list_categories"}
READ_ONLY = {"list_tasks", "get_task"} | ITEMS_TOOLS
IDEMPOTENT = READ_ONLY | {"complete_task", "reopen_task"}
NOT_IDEMPOTENT = {"add_task", "update_task", "delete_task"}
DESTRUCTIVE = {"delete_task"}


def as_user(token: str) -> dict[str, Any]:
    """The `_meta` that carries an identity token, as the backend sends it."""
    return {IDENTITY_META_KEY: token}


def bad_tokens() -> dict[str, str]:
    """Tokens that are present but must never be trusted, by what is wrong with them."""
    now = int(time.time())
    claims = {"sub": "mallory", "aud": AUDIENCE, "iat": now, "exp": now + 6 * 3600}
    return {
        "forged": jwt.encode(claims, "another-secret-of-the-same-length-0123456789ab", "HS256"),
        "expired": TokenCodec(SECRET).mint("mallory", ttl_seconds=-120),
        "wrong_audience": jwt.encode({**claims, "aud": "other"}, SECRET, "HS256"),
        "alg_none": jwt.encode(claims, None, "none"),
        "no_exp": jwt.encode({"sub": "mallory", "aud": AUDIENCE, "iat": now}, SECRET, "HS256"),
        "garbage": "not-a-jwt",
    }


def check_tools(tools: list[Tool], expected: set[str]) -> None:
    """The listing names exactly `expected`, each with an output schema and the annotations that
    docs/architecture.md ("The tool contracts") promises."""
    assert {tool.name for tool in tools} == expected
    for tool in tools:
        assert tool.output_schema, f"{tool.name} declares no output schema"
        assert tool.output_schema.get("type") == "object", tool.name
        hints = tool.annotations
        assert hints is not None, f"{tool.name} has no annotations"
        assert hints.read_only_hint is (tool.name in READ_ONLY), tool.name
        assert hints.destructive_hint is (tool.name in DESTRUCTIVE), tool.name
        if tool.name in IDEMPOTENT:
            assert hints.idempotent_hint is True, tool.name
        if tool.name in NOT_IDEMPOTENT:
            assert hints.idempotent_hint is False, tool.name


async def call_ok(client: Client, tool: str, args: dict[str, Any], meta: dict[str, Any] | None = None) -> Any:
    """Call a tool that must succeed; its structured content."""
    result = await client.call_tool(tool, args, meta=meta)
    assert not result.is_error, result.content
    assert result.content[0].text
    assert result.structured_content is not None
    return result.structured_content


async def call_error(
    client: Client, tool: str, args: dict[str, Any], meta: dict[str, Any] | None = None
) -> str:
    """Call a tool that must fail with a tool error; its message."""
    result = await client.call_tool(tool, args, meta=meta)
    assert result.is_error, result.structured_content
    text = result.content[0].text
    assert text
    return text


async def tasks_round_trip(client: Client, meta: dict[str, Any] | None = None) -> None:
    """Every tasks tool once, in order, on a caller with no tasks yet: add, get, update, complete, reopen,
    list, delete."""
    args = {"title": "Buy milk", "description": "2 litres", "due_date": "2026-12-24", "priority": "high"}
    created = await call_ok(client, "add_task", args, meta)
    task_id = created["task_id"]
    assert created["status"] == "created"
    assert created["task"]["id"] == task_id
    assert (created["task"]["status"], created["task"]["priority"]) == ("pending", "high")
    assert created["task"]["due_date"] == "2026-12-24"
    got = await call_ok(client, "get_task", {"task_id": task_id}, meta)
    assert (got["id"], got["title"], got["description"]) == (task_id, "Buy milk", "2 litres")
    updated = await call_ok(client, "update_task", {"task_id": task_id, "title": "Buy oat milk"}, meta)
    assert (updated["status"], updated["title"]) == ("updated", "Buy oat milk")
    assert (updated["task"]["title"], updated["task"]["priority"]) == ("Buy oat milk", "high")
    completed = await call_ok(client, "complete_task", {"task_id": task_id}, meta)
    assert (completed["status"], completed["task"]["status"]) == ("completed", "completed")
    assert completed["task"]["completed_at"] is not None
    reopened = await call_ok(client, "reopen_task", {"task_id": task_id}, meta)
    assert (reopened["status"], reopened["task"]["status"]) == ("reopened", "pending")
    assert reopened["task"]["completed_at"] is None
    listed = await call_ok(client, "list_tasks", {}, meta)
    assert [task["id"] for task in listed["tasks"]] == [task_id]
    assert (listed["total"], listed["next_cursor"]) == (1, None)
    assert (await call_ok(client, "list_tasks", {"status": "completed"}, meta))["total"] == 0
    assert (await call_ok(client, "list_tasks", {"query": "oat"}, meta))["total"] == 1
    deleted = await call_ok(client, "delete_task", {"task_id": task_id}, meta)
    assert (deleted["status"], deleted["task_id"]) == ("deleted", task_id)
    assert "No task" in await call_error(client, "get_task", {"task_id": task_id}, meta)
    assert (await call_ok(client, "list_tasks", {}, meta))["total"] == 0


async def items_round_trip(client: Client, meta: dict[str, Any] | None = None) -> None:
    """The items tools on the packaged catalog: categories, a search, and one item read back."""
    categories = await call_ok(client, "list_categories", {}, meta)
    assert categories["total_items"] > 0
    assert categories["categories"]
    found = await call_ok(client, "search_items", {"query": "lamp", "limit": 3}, meta)
    assert found["items"]
    assert found["total"] >= len(found["items"])
    first = found["items"][0]
    item = await call_ok(client, "get_item", {"item_id": first["id"]}, meta)
    assert (item["id"], item["name"]) == (first["id"], first["name"])
    assert "No item" in await call_error(client, "get_item", {"item_id": "itm_missing"}, meta)
