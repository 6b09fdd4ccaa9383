"""A client that disconnects stops its turn: on real processes (backend under uvicorn, both tool
servers over stdio, the scripted model over HTTP), a tool call the model sends after the client
left is never executed, and the thread keeps the partial reply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from backend.db import create_engine
from mcp_servers.tasks.repository import TaskRepository
from tests.backend.conftest import parse_sse, user_input, user_token
from tests.e2e.conftest import model_env, run_backend
from tests.providers.fake_llm import FakeLLM, Text, ToolCall, running

pytestmark = pytest.mark.e2e
USER = "alice"
HEADERS = {"Authorization": f"Bearer {user_token(USER)}", "Content-Type": "application/json"}
PARTIAL = "Adding it to your list now"
TOOL_CALL_AFTER_SECONDS = 2.0


@pytest.fixture
async def model() -> AsyncIterator[FakeLLM]:
    """The scripted model, one frame every 50 ms."""
    async with running(frame_delay=0.05) as fake:
        yield fake


async def task_titles(tasks_db: Path, owner: str) -> list[str]:
    """The titles of `owner`'s tasks, read through the tasks server's repository."""
    engine = create_engine(f"sqlite+aiosqlite:///{tasks_db}")
    try:
        page = await TaskRepository(engine).list(owner=owner, limit=100)
        return [task.title for task in page.tasks]
    finally:
        await engine.dispose()


async def call(http: httpx2.AsyncClient, url: str, type_: str, **params: object) -> dict:  # type: ignore[type-arg]
    """A non-streaming ChatKit request that must succeed; its JSON body."""
    response = await http.post(url, content=json.dumps({"type": type_, "params": params}), headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_client_that_leaves_stops_the_turn_and_keeps_the_partial_reply(
    tmp_path: Path, model: FakeLLM
) -> None:
    model.push(
        ToolCall(
            "add_task",
            {"title": "buy milk"},
            before=(PARTIAL,),  # one delta: all of it reaches the client before it leaves
            pause=TOOL_CALL_AFTER_SECONDS,
        ),
        Text("Task added."),  # the follow-up a turn that went on would ask for
    )
    env = model_env(tmp_path, model.base_url)
    with run_backend(tmp_path, env) as backend:
        async with httpx2.AsyncClient(timeout=30) as http:
            body = json.dumps({"type": "threads.create", "params": {"input": user_input("add buy milk")}})
            received = b""
            async with http.stream("POST", backend.chatkit_url, content=body, headers=HEADERS) as response:
                assert response.status_code == 200
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if b"assistant_message.content_part.text_delta" in received:
                        break  # the reply has started: the client goes away
            thread_id = next(e.thread.id for e in parse_sse(received) if e.type == "thread.created")

            await asyncio.sleep(TOOL_CALL_AFTER_SECONDS + 3)  # past the tool call, and its follow-up

            assert await task_titles(tmp_path / "tasks.db", USER) == [], backend.logs()
            assert len(model.requests) == 1  # the run stopped: no follow-up request to the model
            items = (await call(http, backend.chatkit_url, "items.list", thread_id=thread_id, order="asc"))[
                "data"
            ]
            replies = [item for item in items if item["type"] == "assistant_message"]
            assert [reply["content"][0]["text"] for reply in replies] == [PARTIAL], items
            assert not any(item["type"] == "widget" for item in items)

            # The thread goes on normally afterwards (the unused follow-up is dropped first).
            assert len(model.script) == 1
            model.script.clear()
            model.push(Text("Hello again."))
            response = await http.post(
                backend.chatkit_url,
                content=json.dumps(
                    {
                        "type": "threads.add_user_message",
                        "params": {"thread_id": thread_id, "input": user_input("hi")},
                    }
                ),
                headers=HEADERS,
            )
            assert response.status_code == 200
            done = [e for e in parse_sse(response.content) if e.type == "thread.item.done"]
            assert [e.item.content[0].text for e in done if e.item.type == "assistant_message"] == [  # type: ignore[union-attr]
                "Hello again."
            ]
