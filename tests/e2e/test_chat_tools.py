"""The whole path: ChatKit request → agent (offline model) → MCP servers as real stdio processes →
widget + reply in the SSE stream and in the Store."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from chatkit.types import AssistantMessageItem, ProgressUpdateEvent, ThreadItemDoneEvent, WidgetItem
from fastapi import FastAPI

from backend.app import create_app
from backend.settings import BackendSettings
from shared_widgets import offered_actions
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_input, user_token
from tests.conftest import SECRET
from tests.e2e.conftest import Launcher, server_env

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).resolve().parents[2] / "mcp_servers.json"
TASK_ID = re.compile(r"task_[0-9a-z]{12}")


@pytest.fixture
async def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The backend with the shipped MCP config: both servers as stdio children on temporary databases."""
    monkeypatch.setenv("TASKS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}")
    monkeypatch.setenv("ITEMS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'items.db'}")
    settings = BackendSettings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=CONFIG,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://t", timeout=60
    ) as client:
        yield client


async def turn(
    client: ChatKitClient, thread_id: str | None, text: str
) -> tuple[str, list, str, list[WidgetItem]]:
    """One user message; (thread id, events, assistant text, widgets)."""
    if thread_id is None:
        thread_id, events = await client.create_thread(text)
    else:
        events = await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input(text))
    done = [event.item for event in events if isinstance(event, ThreadItemDoneEvent)]
    replies = [item for item in done if isinstance(item, AssistantMessageItem)]
    assert len(replies) == 1, [event.type for event in events]
    widgets = [item for item in done if isinstance(item, WidgetItem)]
    return thread_id, events, replies[0].content[0].text, widgets


async def test_tasks_and_search_through_the_agent(http: httpx2.AsyncClient, app: FastAPI) -> None:
    """Add, list, complete, rename and delete a task and search items in plain words; widgets and
    replies arrive in the stream and stay in the Store."""
    alice = ChatKitClient(http, user_token("alice"))
    thread_id, events, text, widgets = await turn(alice, None, "add task buy milk")
    assert any(isinstance(event, ProgressUpdateEvent) and event.text == "Add task…" for event in events)
    assert text.startswith("Task created:")
    task_id = TASK_ID.search(text).group()
    assert len(widgets) == 1
    assert "buy milk" in widgets[0].widget.model_dump_json()

    _, _, text, widgets = await turn(alice, thread_id, "list tasks")
    assert text.startswith("1 task(s) found")
    assert "buy milk" in widgets[0].widget.model_dump_json()

    _, _, text, _ = await turn(alice, thread_id, f"complete task {task_id}")
    assert text.startswith("Task completed:")
    _, _, text, _ = await turn(alice, thread_id, f"rename task {task_id} to buy oat milk")
    assert text.startswith("Task updated:")
    assert "buy oat milk" in text
    _, _, text, widgets = await turn(alice, thread_id, "show completed tasks")
    assert "buy oat milk" in widgets[0].widget.model_dump_json()
    # Deleting asks first (delete_task is destructive): the turn ends with a confirmation.
    events = await alice.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input(f"delete task {task_id}")
    )
    confirmation = next(
        e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)
    )
    assert not [
        e for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    ]
    approve = next(
        o for o in offered_actions(confirmation.widget.model_dump()) if o.type == "approval.approve"
    )
    action = {"type": approve.type, "payload": dict(approve.payload)}
    events = await alice.stream(
        "threads.custom_action", thread_id=thread_id, item_id=confirmation.id, action=action
    )
    replies = [
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    ]
    assert [reply.content[0].text.split(":")[0] for reply in replies] == ["Task deleted"]

    _, _, text, widgets = await turn(alice, thread_id, "search desk lamp")
    assert re.match(r"\d+ item\(s\) found", text)
    assert "Desk Lamp" in widgets[0].widget.model_dump_json()

    stored = (await alice.call("items.list", thread_id=thread_id, limit=100, order="asc"))["data"]
    assert sum(item["type"] == "widget" for item in stored) == 8  # one per tool call, and the confirmation
    assert sum(item["type"] == "assistant_message" for item in stored) == 7


async def test_users_never_see_each_others_tasks(http: httpx2.AsyncClient) -> None:
    """Two users chat with the same MCP connections: Bob cannot list or change Alice's task."""
    alice, bob = ChatKitClient(http, user_token("alice")), ChatKitClient(http, user_token("bob"))
    _, _, text, _ = await turn(alice, None, "add task alice's secret")
    task_id = TASK_ID.search(text).group()
    _, _, text, widgets = await turn(bob, None, "list tasks")
    assert text.startswith("0 task(s) found")
    assert "secret" not in widgets[0].widget.model_dump_json()
    _, _, text, _ = await turn(bob, None, f"complete task {task_id}")
    assert "No task with id" in text
    _, _, text, _ = await turn(alice, None, "list pending tasks")
    assert "alice's secret" in text


async def test_readiness_reports_the_tool_servers(http: httpx2.AsyncClient) -> None:
    """/readyz lists every MCP server and its state."""
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["mcp"] == {"tasks": "ok", "items": "ok"}


async def test_tools_over_streamable_http_and_no_tool_listing_once_warm(
    launcher: Launcher, packaged_catalog: Path, tmp_path: Path
) -> None:
    """The same turns with both servers over HTTP (the backend authenticates its connection and
    sends each user in `_meta`). The tools are listed once, at start: no turn lists them on the
    wire, not even the first ones arriving together."""
    env = server_env(launcher.directory)
    tasks, items = launcher.http("tasks-mcp", env), launcher.http("items-mcp", env)
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"tasks": {"url": tasks.url}, "items": {"url": items.url}}}))
    settings = BackendSettings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=config,
        MCP_AUTH_SECRET=SECRET,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        listings = 0
        for server in await app.state.hub.servers():
            session = server.session
            original = session.list_tools

            async def counted(*args: object, original=original, **kwargs: object) -> object:
                nonlocal listings
                listings += 1
                return await original(*args, **kwargs)

            session.list_tools = counted
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://t", timeout=60
        ) as http:
            users = [ChatKitClient(http, user_token(f"http-{n}")) for n in range(6)]
            first = await asyncio.gather(
                *(turn(user, None, f"add task over http {n}") for n, user in enumerate(users))
            )
            for _, _, text, widgets in first:
                assert text.startswith("Task created:")
                assert len(widgets) == 1
            thread_id = first[0][0]
            for text_in in ("list tasks", "search lamp", "list tasks"):
                _, _, text, widgets = await turn(users[0], thread_id, text_in)
                assert len(widgets) == 1
            assert listings == 0
