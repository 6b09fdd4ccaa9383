"""Tool calls with side effects leave a record in the thread, written before the call is sent and
settled after it answered: on real processes, a backend SIGKILLed after a task was added (and while
a slow tool ran) shows both calls when the thread is reloaded by the next backend (the slow one as
interrupted), and the UI's retry of that turn does not add the task a second time."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from chatkit.types import ThreadStreamEvent

from backend.db import create_engine
from mcp_servers.tasks.repository import TaskRepository
from tests.backend.conftest import parse_sse, user_input, user_token
from tests.e2e.conftest import SHIPPED_MCP_CONFIG, model_env, run_backend
from tests.providers.fake_llm import FakeLLM, Text, ToolCall, running

pytestmark = pytest.mark.e2e
USER = "alice"
HEADERS = {"Authorization": f"Bearer {user_token(USER)}", "Content-Type": "application/json"}
SLOW_MCP = Path(__file__).resolve().parents[1] / "e2e" / "slow_mcp.py"


@pytest.fixture
async def model() -> AsyncIterator[FakeLLM]:
    async with running() as fake:
        yield fake


def tools_config(directory: Path) -> Path:
    """The shipped tasks server and the slow test server (its calls take as long as asked)."""
    tasks = json.loads(SHIPPED_MCP_CONFIG.read_text())["mcpServers"]["tasks"]
    slow = {"command": sys.executable, "args": [str(SLOW_MCP)], "timeout_seconds": 60}
    config = directory / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"tasks": tasks, "slow": slow}}))
    return config


async def task_titles(tasks_db: Path) -> list[str]:
    """The user's task titles, read through the tasks server's repository."""
    engine = create_engine(f"sqlite+aiosqlite:///{tasks_db}")
    try:
        return [task.title for task in (await TaskRepository(engine).list(owner=USER, limit=100)).tasks]
    finally:
        await engine.dispose()


async def post(http: httpx2.AsyncClient, url: str, type_: str, **params: Any) -> httpx2.Response:
    response = await http.post(url, content=json.dumps({"type": type_, "params": params}), headers=HEADERS)
    assert response.status_code == 200, response.text
    return response


async def retry_turn(
    http: httpx2.AsyncClient, url: str, thread_id: str, items: list[dict[str, Any]]
) -> list[ThreadStreamEvent]:
    """The UI's retry of the thread's first turn (`threads.retry_after_item` on its user message)."""
    user_message = next(item for item in items if item["type"] == "user_message")
    response = await post(
        http, url, "threads.retry_after_item", thread_id=thread_id, item_id=user_message["id"]
    )
    return parse_sse(response.content)


def tasks_shown(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(title, content) of the thread's task items: the records of its tool calls."""
    return [(item["task"]["title"], item["task"]["content"]) for item in items if item["type"] == "task"]


async def test_a_killed_turn_shows_its_calls_and_a_retry_does_not_repeat_them(
    tmp_path: Path, model: FakeLLM
) -> None:
    env = model_env(tmp_path, model.base_url, MCP_CONFIG=str(tools_config(tmp_path)))
    model.push(
        ToolCall("add_task", {"title": "buy milk"}),
        ToolCall("slow_echo", {"text": "hi", "seconds": 20}),
    )
    with run_backend(tmp_path, env) as first:
        async with httpx2.AsyncClient(timeout=30) as http:
            body = json.dumps({"type": "threads.create", "params": {"input": user_input("add buy milk")}})
            received = b""
            async with http.stream("POST", first.chatkit_url, content=body, headers=HEADERS) as response:
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if b'"type":"widget"' in received and len(model.requests) >= 2:
                        break  # the task is added; the model asked for the slow call
                await asyncio.sleep(1.0)  # the slow call is under way
                first.process.kill()  # SIGKILL: nothing settles, nothing is written after this
                first.process.wait(timeout=10)
    thread_id = next(e.thread.id for e in parse_sse(received) if e.type == "thread.created")
    assert await task_titles(tmp_path / "tasks.db") == ["buy milk"]

    with run_backend(tmp_path, env) as second:
        async with httpx2.AsyncClient(timeout=30) as http:
            items = (
                await post(http, second.chatkit_url, "items.list", thread_id=thread_id, order="asc")
            ).json()["data"]
            shown = tasks_shown(items)
            assert [title for title, _ in shown] == ["Add task", "slow_echo"], items
            assert shown[0][1].startswith("Done: Task created"), shown
            assert "interrupted" in shown[1][1] and "may have run" in shown[1][1], shown

            # The UI's retry: the turn's items go, the model asks for the same call again.
            model.push(ToolCall("add_task", {"title": "buy milk"}), Text("Added buy milk."))
            events = await retry_turn(http, second.chatkit_url, thread_id, items)
            assert events[-1].type != "error", events[-1]
            replies = [
                e.item.content[0].text  # type: ignore[union-attr]
                for e in events
                if e.type == "thread.item.done" and e.item.type == "assistant_message"
            ]
            assert replies == ["Added buy milk."]
            assert await task_titles(tmp_path / "tasks.db") == ["buy milk"]  # not added twice
            # The model was given the earlier call's result instead of a second call.
            follow_up = json.dumps(model.requests[-1].body)
            assert "Task created" in follow_up

            items = (
                await post(http, second.chatkit_url, "items.list", thread_id=thread_id, order="asc")
            ).json()["data"]
            shown = tasks_shown(items)
            assert len(shown) == 1 and "not repeated" in shown[0][1], shown


STALLING_TASKS = Path(__file__).resolve().parent / "stalling_tasks_mcp.py"


def stalling_tools_config(directory: Path) -> Path:
    """The tasks server, stalled after the commit of its first add_task (`stalling_tasks_mcp`)."""
    tasks = json.loads(SHIPPED_MCP_CONFIG.read_text())["mcpServers"]["tasks"]
    stall_once = directory / "stall-once"
    stall_once.touch()
    env = {**tasks["env"], "STALL_ONCE_FILE": str(stall_once)}
    stalling = {"command": sys.executable, "args": [str(STALLING_TASKS)], "env": env, "timeout_seconds": 60}
    config = directory / "mcp-stalling.json"
    config.write_text(json.dumps({"mcpServers": {"tasks": stalling}}))
    return config


async def wait_for_titles(tasks_db: Path, expected: list[str], seconds: float = 20.0) -> None:
    """Until the user's tasks are `expected` (the tool server committed)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while await task_titles(tasks_db) != expected:  # the database is there: the backend is ready
        assert asyncio.get_running_loop().time() < deadline, "the tool server did not commit in time"
        await asyncio.sleep(0.1)


async def test_a_call_done_before_its_record_settled_is_not_done_again_when_the_model_repeats_it(
    tmp_path: Path, model: FakeLLM
) -> None:
    """SIGKILL after the tasks server committed add_task but before it answered (the record is
    still pending); on the retry the model is told the call may have run and asks for it again
    anyway: the repeat carries the first call's idempotency key, so the task is there once. A
    deliberate second identical call in one turn still adds a second task."""
    env = model_env(tmp_path, model.base_url, MCP_CONFIG=str(stalling_tools_config(tmp_path)))
    tasks_db = tmp_path / "tasks.db"
    model.push(ToolCall("add_task", {"title": "buy milk"}))
    with run_backend(tmp_path, env) as first:
        async with httpx2.AsyncClient(timeout=30) as http:
            body = json.dumps({"type": "threads.create", "params": {"input": user_input("add buy milk")}})
            received = b""
            async with http.stream("POST", first.chatkit_url, content=body, headers=HEADERS) as response:
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if b'"Running' in received:
                        break  # the record is written and the call sent
                await wait_for_titles(tasks_db, ["buy milk"])  # committed; the answer is stalled
                first.process.kill()  # SIGKILL: the record stays pending
                first.process.wait(timeout=10)
    thread_id = next(e.thread.id for e in parse_sse(received) if e.type == "thread.created")

    with run_backend(tmp_path, env) as second:
        async with httpx2.AsyncClient(timeout=30) as http:
            items = (
                await post(http, second.chatkit_url, "items.list", thread_id=thread_id, order="asc")
            ).json()["data"]
            shown = tasks_shown(items)
            assert len(shown) == 1 and "interrupted" in shown[0][1], shown

            # The retry: told the call may have run, the model asks for it once more regardless.
            model.push(
                ToolCall("add_task", {"title": "buy milk"}),
                ToolCall("add_task", {"title": "buy milk"}),
                Text("Added buy milk."),
            )
            events = await retry_turn(http, second.chatkit_url, thread_id, items)
            assert events[-1].type != "error", events[-1]
            assert await task_titles(tasks_db) == ["buy milk"]  # the repeat did not add it again
            assert "may have run" in json.dumps(model.requests[-2].body)
            assert "already added" in json.dumps(model.requests[-1].body)  # the server's answer

            # Two identical calls in one fresh turn are two calls: each has its own key.
            model.push(
                ToolCall("add_task", {"title": "buy bread"}),
                ToolCall("add_task", {"title": "buy bread"}),
                Text("Added it twice, as asked."),
            )
            body = json.dumps({"type": "threads.create", "params": {"input": user_input("bread twice")}})
            response = await http.post(second.chatkit_url, content=body, headers=HEADERS)
            assert parse_sse(response.content)[-1].type != "error"
            assert await task_titles(tasks_db) == ["buy bread", "buy bread", "buy milk"]
