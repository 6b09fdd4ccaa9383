"""The tasks tools through the official MCP client, in memory: schemas, round trips, errors, isolation."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from mcp import Client

from mcp_servers.common.identity import IDENTITY_META_KEY, TokenCodec
from mcp_servers.tasks.settings import TasksSettings
from tests.mcp_servers.conftest import as_user

TOOLS = {"add_task", "list_tasks", "get_task", "update_task", "complete_task", "reopen_task", "delete_task"}


async def call(client: Client, tool: str, args: dict[str, Any], meta: dict[str, Any] | None = None) -> Any:
    """Call a tool that must succeed and return its structured content."""
    result = await client.call_tool(tool, args, meta=meta)
    assert not result.is_error, result.content
    assert result.content[0].text  # the one-line summary for the model
    return result.structured_content


async def error(client: Client, tool: str, args: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    """Call a tool that must fail and return its error text."""
    result = await client.call_tool(tool, args, meta=meta)
    assert result.is_error, result.structured_content
    assert result.structured_content is None
    return result.content[0].text


async def test_listing_shows_schemas_and_annotations(tasks_client: Client) -> None:
    """Every tool declares input and output schemas and the annotations docs/architecture.md promises."""
    tools = {tool.name: tool for tool in (await tasks_client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert tool.description
    read_only = {name for name, tool in tools.items() if tool.annotations.read_only_hint}
    idempotent = {name for name, tool in tools.items() if tool.annotations.idempotent_hint}
    destructive = {name for name, tool in tools.items() if tool.annotations.destructive_hint}
    assert read_only == {"list_tasks", "get_task"}
    assert idempotent == {"list_tasks", "get_task", "complete_task", "reopen_task"}
    assert destructive == {"delete_task"}
    add_schema = tools["add_task"].input_schema
    assert add_schema["required"] == ["title"]
    assert add_schema["properties"]["title"]["maxLength"] == 200
    assert set(tools["add_task"].output_schema["properties"]) >= {"task_id", "status", "title", "task"}
    assert set(tools["list_tasks"].output_schema["properties"]) == {"tasks", "total", "next_cursor"}


async def test_every_tool_round_trips(tasks_client: Client) -> None:
    """add, get, update, complete, reopen, list and delete work on one task end to end."""
    added = await call(
        tasks_client,
        "add_task",
        {"title": "  Buy milk ", "description": "2 litres", "due_date": "2026-12-24", "priority": "high"},
    )
    task_id = added["task_id"]
    assert added["status"] == "created" and added["title"] == "Buy milk"
    assert added["task"] | {"created_at": None, "updated_at": None} == {
        "id": task_id,
        "title": "Buy milk",
        "description": "2 litres",
        "status": "pending",
        "priority": "high",
        "due_date": "2026-12-24",
        "created_at": None,
        "updated_at": None,
        "completed_at": None,
    }
    assert (await call(tasks_client, "get_task", {"task_id": task_id}))["title"] == "Buy milk"
    updated = await call(
        tasks_client, "update_task", {"task_id": task_id, "title": "Buy oat milk", "priority": "low"}
    )
    assert (updated["status"], updated["task"]["title"], updated["task"]["priority"]) == (
        "updated",
        "Buy oat milk",
        "low",
    )
    assert updated["task"]["description"] == "2 litres"
    completed = await call(tasks_client, "complete_task", {"task_id": task_id})
    assert completed["status"] == "completed" and completed["task"]["completed_at"]
    assert (await call(tasks_client, "list_tasks", {"status": "completed"}))["total"] == 1
    assert (await call(tasks_client, "list_tasks", {"status": "pending"}))["total"] == 0
    reopened = await call(tasks_client, "reopen_task", {"task_id": task_id})
    assert reopened["task"]["status"] == "pending" and reopened["task"]["completed_at"] is None
    listed = await call(tasks_client, "list_tasks", {"query": "OAT"})
    assert [task["id"] for task in listed["tasks"]] == [task_id]
    deleted = await call(tasks_client, "delete_task", {"task_id": task_id})
    assert deleted["status"] == "deleted" and deleted["task"]["title"] == "Buy oat milk"
    assert "No task with id" in await error(tasks_client, "get_task", {"task_id": task_id})


async def test_list_pages_with_cursor(tasks_client: Client) -> None:
    """list_tasks pages newest first through next_cursor without gaps or repeats."""
    titles = [f"task {n:02d}" for n in range(23)]
    for title in titles:
        await call(tasks_client, "add_task", {"title": title})
    seen, cursor = [], None
    while True:
        page = await call(tasks_client, "list_tasks", {"limit": 10} | ({"cursor": cursor} if cursor else {}))
        assert page["total"] == 23
        seen += [task["title"] for task in page["tasks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(titles))


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("add_task", {}, "title"),
        ("add_task", {"title": ""}, "title"),
        ("add_task", {"title": "   "}, "title"),
        ("add_task", {"title": "x" * 201}, "title"),
        ("add_task", {"title": "nul\x00byte"}, "control characters"),
        ("add_task", {"title": "ok", "description": "nul\x00byte"}, "NUL"),
        ("add_task", {"title": "ok", "description": "d" * 2001}, "description"),
        ("add_task", {"title": "ok", "priority": "urgent"}, "priority"),
        ("add_task", {"title": "ok", "due_date": "next tuesday"}, "due_date"),
        ("add_task", {"title": "ok", "due_date": "2026-02-30"}, "due_date"),
        ("add_task", {"title": 42}, "title"),
        ("list_tasks", {"status": "done"}, "status"),
        ("list_tasks", {"limit": 0}, "limit"),
        ("list_tasks", {"limit": 101}, "limit"),
        ("list_tasks", {"cursor": "not-a-cursor"}, "cursor"),
        ("list_tasks", {"cursor": "eyJhZnRlciI6ICJ4In0"}, "cursor"),
        ("get_task", {}, "task_id"),
        ("get_task", {"task_id": "task_doesnotexist"}, "No task with id"),
        ("update_task", {"task_id": "task_doesnotexist", "title": "x"}, "No task with id"),
        ("update_task", {"task_id": "task_doesnotexist"}, "Nothing to update"),
        ("update_task", {"task_id": "t", "priority": "urgent"}, "priority"),
        ("complete_task", {"task_id": ""}, "task_id"),
        ("complete_task", {"task_id": "task_doesnotexist"}, "No task with id"),
        ("reopen_task", {"task_id": "task_doesnotexist"}, "No task with id"),
        ("delete_task", {"task_id": "task_doesnotexist"}, "No task with id"),
        ("delete_task", {"task_id": ["a"]}, "task_id"),
    ],
)
async def test_bad_arguments_are_tool_errors(
    tasks_client: Client, tool: str, args: dict[str, Any], expected: str
) -> None:
    """Invalid arguments and missing records give an error naming the problem; the server keeps serving."""
    message = await error(tasks_client, tool, args)
    assert expected in message
    assert "validation error for" not in message and "errors.pydantic.dev" not in message
    assert (await call(tasks_client, "list_tasks", {}))["total"] == 0


async def test_users_cannot_reach_each_others_tasks(tasks_client: Client, codec: TokenCodec) -> None:
    """User B cannot list, get, update, complete, reopen or delete user A's task, by id or by query."""
    alice, bob = as_user(codec, "alice"), as_user(codec, "bob")
    task_id = (await call(tasks_client, "add_task", {"title": "alice secret plan"}, alice))["task_id"]
    for tool, args in [
        ("get_task", {"task_id": task_id}),
        ("update_task", {"task_id": task_id, "title": "pwned"}),
        ("complete_task", {"task_id": task_id}),
        ("reopen_task", {"task_id": task_id}),
        ("delete_task", {"task_id": task_id}),
    ]:
        assert "No task with id" in await error(tasks_client, tool, args, bob)
    for status in ("all", "pending", "completed"):
        page = await call(tasks_client, "list_tasks", {"status": status, "query": "secret"}, bob)
        assert page == {"tasks": [], "total": 0, "next_cursor": None}
    assert (await call(tasks_client, "list_tasks", {}))["total"] == 0  # nor the local user
    mine = await call(tasks_client, "get_task", {"task_id": task_id}, alice)
    assert (mine["title"], mine["status"]) == ("alice secret plan", "pending")


async def test_no_token_acts_for_the_local_user(tasks_client: Client, codec: TokenCodec) -> None:
    """In memory and over stdio, a call without a token belongs to MCP_LOCAL_USER."""
    await call(tasks_client, "add_task", {"title": "mine"})
    assert (await call(tasks_client, "list_tasks", {}, as_user(codec, "local-owner")))["total"] == 1
    assert (await call(tasks_client, "list_tasks", {}, as_user(codec, "someone-else")))["total"] == 0


@pytest.mark.parametrize(
    "token",
    [
        TokenCodec("another-secret-that-is-long-enough-0123456789").mint("alice"),
        "not.a.jwt",
        "",
        12345,
    ],
)
async def test_a_present_but_invalid_token_is_refused(tasks_client: Client, token: Any) -> None:
    """A bad `_meta` token is refused, never treated as absent (no fallback to the local user)."""
    message = await error(tasks_client, "add_task", {"title": "x"}, {IDENTITY_META_KEY: token})
    assert message.startswith("Refused")
    assert (await call(tasks_client, "list_tasks", {}))["total"] == 0


async def test_an_unexpected_failure_is_logged_and_reported_generically(
    tasks_client: Client, tasks_settings: TasksSettings, caplog: pytest.LogCaptureFixture
) -> None:
    """A database fault reaches the caller as a generic error, its traceback goes to the log,
    and the server keeps serving once the fault is gone."""
    await call(tasks_client, "add_task", {"title": "before the fault"})
    database = tasks_settings.database_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("ALTER TABLE tasks RENAME TO tasks_hidden")
    try:
        message = await error(tasks_client, "list_tasks", {})
    finally:
        with sqlite3.connect(database) as connection:
            connection.execute("ALTER TABLE tasks_hidden RENAME TO tasks")
    assert message == "Error executing tool list_tasks"
    crashes = [record for record in caplog.records if record.levelno == logging.ERROR and record.exc_info]
    assert crashes
    assert "no such table" in str(crashes[-1].exc_info[1].__cause__)
    assert (await call(tasks_client, "list_tasks", {}))["total"] == 1
