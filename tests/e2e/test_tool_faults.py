"""Faults at the tool edge: a server killed mid-conversation, a tool slower than its timeout."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import psutil
import pytest
from agents import Agent
from agents.testing import ScriptedModel, assistant_message, function_call
from fastapi import FastAPI

from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_token
from tests.e2e.test_chat_tools import CONFIG, turn

pytestmark = pytest.mark.e2e


def settings_for(tmp_path: Path, config: Path) -> BackendSettings:
    return BackendSettings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=config,
    )


@pytest.fixture
async def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    monkeypatch.setenv("TASKS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}")
    monkeypatch.setenv("ITEMS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'items.db'}")
    application = create_app(settings_for(tmp_path, CONFIG))
    async with application.router.lifespan_context(application):
        yield application


def tool_processes(script: str) -> list[psutil.Process]:
    """The running stdio MCP servers started by this test process."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if any(script in part for part in child.cmdline())
    ]


async def test_a_killed_server_is_down_at_once_and_restarted_on_the_next_turn(app: FastAPI) -> None:
    """A killed stdio server shows as down on /readyz right away; the next turn restarts it and works."""
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://t", timeout=60
    ) as http:
        alice = ChatKitClient(http, user_token("alice"))
        thread_id, _, text, _ = await turn(alice, None, "add task survive a crash")
        assert text.startswith("Task created:")
        assert (await http.get("/readyz")).status_code == 200
        (victim,) = tool_processes("tasks-mcp")
        victim.kill()
        killed = time.monotonic()
        while True:
            ready = await http.get("/readyz")
            if ready.status_code == 503 or time.monotonic() - killed > 1:
                break
            await anyio.sleep(0.02)
        assert ready.status_code == 503
        assert ready.json()["mcp"]["tasks"] == "down: connection lost"
        assert ready.json()["mcp"]["items"] == "ok"
        _, _, text, widgets = await turn(alice, thread_id, "list tasks")  # restarted for this turn
        assert text.startswith("1 task(s) found")
        assert "survive a crash" in widgets[0].widget.model_dump_json()
        assert (await http.get("/readyz")).json()["mcp"]["tasks"] == "ok"
        assert tool_processes("tasks-mcp")[0].pid != victim.pid


async def test_a_tool_slower_than_its_timeout_ends_the_call_not_the_turn(tmp_path: Path) -> None:
    """A call past the server's timeout becomes a tool error the model can explain; the turn ends promptly."""
    config = tmp_path / "mcp.json"
    slow = {
        "command": sys.executable,
        "args": [str(Path(__file__).with_name("slow_mcp.py"))],
        "timeout_seconds": 0.5,
    }
    config.write_text(json.dumps({"mcpServers": {"slow": slow}}))
    model = ScriptedModel(
        [
            [function_call("slow_echo", {"text": "hi", "seconds": 5}, call_id="call_slow")],
            [assistant_message("The slow tool timed out.", item_id="msg_after_timeout")],
        ]
    )
    app = create_app(
        settings_for(tmp_path, config), agent=Agent(name="scripted", instructions="", model=model)
    )
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://t", timeout=60
        ) as http:
            alice = ChatKitClient(http, user_token("alice"))
            started = time.monotonic()
            _, _, text, _ = await turn(alice, None, "call the slow tool")
            assert time.monotonic() - started < 4
    assert text == "The slow tool timed out."
    tool_output = next(item for item in model.last_call.input if item.get("type") == "function_call_output")
    assert "did not answer in time" in json.dumps(tool_output)


async def test_a_server_that_cannot_start_leaves_the_backend_up(tmp_path: Path) -> None:
    """A server that fails to start is reported by /readyz; the agent says its tools are missing."""
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"tasks": {"command": str(tmp_path / "no-such-server")}}}))
    app = create_app(settings_for(tmp_path, config))
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://t", timeout=60
        ) as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["mcp"]["tasks"].startswith("down")
            alice = ChatKitClient(http, user_token("alice"))
            _, _, text, _ = await turn(alice, None, "list tasks")
            assert "can't reach the list_tasks tool" in text


async def test_allow_and_deny_lists_shape_what_the_agent_can_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only allowed, not denied tools reach the agent; a denied tool is answered as unavailable."""
    monkeypatch.setenv("TASKS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}")
    shipped = json.loads(CONFIG.read_text())["mcpServers"]["tasks"]
    tasks = shipped | {
        "allow_tools": ["add_task", "list_tasks", "delete_task"],
        "deny_tools": ["delete_task"],
    }
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"tasks": tasks}}))
    app = create_app(settings_for(tmp_path, config))
    async with app.router.lifespan_context(app):
        names = {tool.name for tool in await app.state.hub.function_tools(Agent(name="probe"))}
        assert names == {"add_task", "list_tasks"}
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://t", timeout=60
        ) as http:
            alice = ChatKitClient(http, user_token("alice"))
            _, _, text, _ = await turn(alice, None, "delete task task_0123456789ab")
            assert "can't reach the delete_task tool" in text
