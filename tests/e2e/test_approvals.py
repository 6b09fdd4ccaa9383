"""Approvals across real processes (`chatkit-backend`, the MCP servers, the offline model): a
rejected call never reaches the tool server (counted there), and a decision still works after the
backend restarted between the pause and the click, and when the click reaches another replica."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from tests.backend.conftest import parse_sse
from tests.backend.tool_app import User, control, has_control, raw, task_id_of
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import BackendProcess, Launcher, backend_env, run_backend, server_env
from tests.e2e.mcp_proxy import CountingProxy, serving

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def user_of(backend: BackendProcess, name: str = "carol") -> AsyncIterator[User]:
    async with httpx2.AsyncClient(base_url=backend.url, timeout=60) as http:
        yield User(http, name)


async def pause(user: User, thread_id: str, task_id: str) -> str:
    """Ask to delete a task; the confirmation's item id."""
    _, events = await user.say(f"delete task {task_id}", thread_id)
    confirmations = [e.item for e in events if e.type == "thread.item.done" and e.item.type == "widget"]
    assert len(confirmations) == 1 and has_control(confirmations[0], "approval.approve")
    return confirmations[0].id


async def click(user: User, thread_id: str, item_id: str, kind: str) -> list[str]:
    """Approve or reject the stored confirmation (read back first, as after a reload); the replies."""
    confirmation = await user.stored(thread_id, item_id)
    response = await user.client.post(
        user.request("stream", thread_id, item_id, kind, control(confirmation, kind))
    )
    assert response.status_code == 200, response.text
    events = parse_sse(response.content)
    assert not [event for event in events if event.type == "error"], events
    return [
        e.item.content[0].text
        for e in events
        if e.type == "thread.item.done" and e.item.type == "assistant_message"
    ]


def tasks_over_http(directory: Path, proxy_url: str) -> Path:
    config = directory / "mcp-http.json"
    config.write_text(
        json.dumps({"mcpServers": {"tasks": {"url": f"{proxy_url}/mcp", "timeout_seconds": 10}}})
    )
    return config


async def test_a_rejected_call_never_reaches_the_tool_server(tmp_path: Path, launcher: Launcher) -> None:
    tasks = launcher.http("tasks-mcp", server_env(tmp_path))
    proxy = CountingProxy(tasks.url)
    with (
        serving(proxy.app) as proxy_url,
        run_backend(
            tmp_path, backend_env(tmp_path, MCP_CONFIG=str(tasks_over_http(tmp_path, proxy_url)))
        ) as backend,
    ):
        async with user_of(backend) as user:
            thread_id, card = await user.widget("add task buy milk")
            task_id = task_id_of(card)
            confirmation = await pause(user, thread_id, task_id)
            assert proxy.calls["delete_task"] == 0 and proxy.calls["get_task"] == 1  # read, to ask in words
            assert await click(user, thread_id, confirmation, "approval.reject") == [
                "You declined, so delete_task was not run and nothing was changed."
            ]
            assert proxy.calls["delete_task"] == 0
            assert task_id in await user.tasks()
            confirmation = await pause(user, thread_id, task_id)
            replies = await click(user, thread_id, confirmation, "approval.approve")
            assert replies == [f"Task deleted: {task_id} 'buy milk' (pending, medium priority)."]
            assert proxy.calls["delete_task"] == 1


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def chat_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The backend's chat database, kept across its restarts: a SQLite file, or a Postgres database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


async def test_a_decision_after_a_restart(tmp_path: Path, chat_database: str) -> None:
    """Pause, stop the backend, start it again on the same databases, approve: the run resumes."""
    env = backend_env(tmp_path, DATABASE_URL=chat_database)
    with run_backend(tmp_path, env) as first:
        async with user_of(first) as user:
            thread_id, card = await user.widget("add task buy milk")
            task_id = task_id_of(card)
            confirmation = await pause(user, thread_id, task_id)
    with run_backend(tmp_path, env) as second:
        async with user_of(second) as user:
            assert task_id in await user.tasks()
            replies = await click(user, thread_id, confirmation, "approval.approve")
            assert replies == [f"Task deleted: {task_id} 'buy milk' (pending, medium priority)."]
            assert task_id not in await user.tasks()
            settled = await user.stored(thread_id, confirmation)
            assert "Approved: Task deleted" in raw(settled)


@pytest.mark.postgres
async def test_the_click_on_another_replica(tmp_path: Path) -> None:
    """Two backends on one Postgres (and one tasks database): the pause on one, the click on the other."""
    async with fresh_postgres_database() as chat_database:
        env = backend_env(tmp_path, DATABASE_URL=chat_database)
        with ExitStack() as stack:
            one, two = (stack.enter_context(run_backend(tmp_path, env)) for _ in range(2))
            async with user_of(one) as on_one, user_of(two) as on_two:
                thread_id, card = await on_one.widget("add task buy milk")
                task_id = task_id_of(card)
                confirmation = await pause(on_one, thread_id, task_id)
                assert await click(on_two, thread_id, confirmation, "approval.reject") == [
                    "You declined, so delete_task was not run and nothing was changed."
                ]
                confirmation = await pause(on_two, thread_id, task_id)
                replies = await click(on_one, thread_id, confirmation, "approval.approve")
                assert replies == [f"Task deleted: {task_id} 'buy milk' (pending, medium priority)."]
                assert task_id not in await on_two.tasks()
