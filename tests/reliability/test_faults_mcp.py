"""Tool-server faults against the real `chatkit-backend` process (its model the scripted fake, its
tool servers stdio children): a server killed between turns, a server killed during a call, a
tool slower than its `timeout_seconds`. The turn ends in words, /readyz says what is down at once
and `ok` once the server is back, and the next turn works (`thread_checks`)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import httpx2
import psutil
import pytest
from chatkit.types import ProgressUpdateEvent

from tests.backend.conftest import ChatKitClient, user_token
from tests.e2e.conftest import SHIPPED_MCP_CONFIG, BackendProcess, model_env, run_backend
from tests.providers.fake_llm import FakeLLM, Text, ToolCall, running
from tests.reliability.thread_checks import (
    Turn,
    assert_consistent,
    assert_recovered,
    live_events,
    say,
)

pytestmark = pytest.mark.e2e
SLOW_MCP = Path(__file__).resolve().parents[1] / "e2e" / "slow_mcp.py"
TOOL_TIMEOUT_SECONDS = 1.0


def tool_processes(backend: BackendProcess, marker: str) -> list[psutil.Process]:
    """The backend's running children whose command line names `marker`."""
    found = []
    for child in psutil.Process(backend.process.pid).children(recursive=True):
        try:
            if any(marker in part for part in child.cmdline()):
                found.append(child)
        except psutil.Error:  # exited meanwhile
            continue
    return found


def tool_outputs(fake: FakeLLM) -> dict[str, str]:
    """call id → what the model was told the call returned, from the last request it received."""
    messages = fake.requests[-1].body["messages"]
    return {m["tool_call_id"]: json.dumps(m["content"]) for m in messages if m["role"] == "tool"}


async def readiness(http: httpx2.AsyncClient, backend: BackendProcess) -> tuple[int, dict[str, Any]]:
    response = await http.get(backend.url + "/readyz")
    return response.status_code, response.json()


async def wait_readiness(
    http: httpx2.AsyncClient, backend: BackendProcess, server: str, state: str, seconds: float
) -> float:
    """Poll /readyz until `server` shows `state`; how long that took (fails after `seconds`)."""
    started = time.monotonic()
    while True:
        _, body = await readiness(http, backend)
        if body["mcp"].get(server) == state:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, (server, body)
        await anyio.sleep(0.02)


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeLLM]:
    async with running() as model:
        yield model


def config_file(directory: Path, slow_timeout: float, *, tasks: bool) -> Path:
    """An MCP config: the slow test server (with this timeout) and, if asked, the shipped tasks server."""
    servers: dict[str, Any] = {}
    if tasks:
        servers["tasks"] = json.loads(SHIPPED_MCP_CONFIG.read_text())["mcpServers"]["tasks"]
    servers["slow"] = {"command": sys.executable, "args": [str(SLOW_MCP)], "timeout_seconds": slow_timeout}
    path = directory / "mcp_servers.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, fake: FakeLLM) -> Iterator[BackendProcess]:
    """The backend with the tasks server and the slow server (20 s timeout) as stdio children."""
    directory = tmp_path_factory.mktemp("mcp-faults")
    config = config_file(directory, 20, tasks=True)
    env = model_env(directory, fake.base_url, MCP_CONFIG=str(config), LLM_MAX_RETRIES="0")
    with run_backend(directory, env) as process:
        yield process


@pytest.fixture
async def http(fake: FakeLLM) -> AsyncIterator[httpx2.AsyncClient]:
    fake.script.clear()
    fake.requests.clear()
    async with httpx2.AsyncClient(timeout=30) as client:
        yield client


async def test_a_server_killed_between_turns_is_down_at_once_and_back_on_the_next_turn(
    backend: BackendProcess, fake: FakeLLM, http: httpx2.AsyncClient
) -> None:
    async with httpx2.AsyncClient(base_url=backend.url, timeout=30) as base:
        user = ChatKitClient(base, user_token("alice"))
        fake.push(ToolCall("add_task", {"title": "survive a crash"}), Text("Added it."))
        first = await say(user, None, "remember to survive a crash")
        assert first.replies == ["Added it."] and first.thread_id
        assert (await readiness(http, backend))[0] == 200
        earlier = await assert_consistent(user, first.thread_id)

        (victim,) = tool_processes(backend, "tasks-mcp")
        victim.kill()
        victim.wait(5)
        down_after = await wait_readiness(http, backend, "tasks", "down: connection lost", 2)
        back_after = await wait_readiness(http, backend, "tasks", "ok", 20)  # the probe restarted it
        status, body = await readiness(http, backend)
        assert (status, body["mcp"]) == (200, {"tasks": "ok", "slow": "ok"}), body
        (restarted,) = tool_processes(backend, "tasks-mcp")
        assert restarted.pid != victim.pid

        listing = ToolCall("list_tasks", {})
        fake.push(listing, Text("You have one task."))
        turn = await say(user, first.thread_id, "what are my tasks?")
        assert turn.replies == ["You have one task."] and not turn.errors
        assert "survive a crash" in tool_outputs(fake)[listing.call_id]  # the stored task survived
        fake.push(Text("Still here."))
        await assert_recovered(user, first.thread_id, earlier, reply="Still here.")
    assert down_after < 1.0 and back_after < 15, (down_after, back_after)


async def test_a_server_killed_during_a_call_ends_the_call_in_words(
    backend: BackendProcess, fake: FakeLLM, http: httpx2.AsyncClient
) -> None:
    async with httpx2.AsyncClient(base_url=backend.url, timeout=30) as base:
        user = ChatKitClient(base, user_token("alice"))
        fake.push(Text("Hello."))
        first = await say(user, None, "hi")
        assert first.thread_id
        earlier = await assert_consistent(user, first.thread_id)

        call = ToolCall("slow_echo", {"text": "hi", "seconds": 15})
        fake.push(call, Text("The slow tool broke; try again later."))
        events = []
        async with aclosing(live_events(user, first.thread_id, "echo hi slowly")) as stream:
            async for event in stream:
                events.append(event)
                if isinstance(event, ProgressUpdateEvent):  # the call is running
                    await anyio.sleep(0.3)
                    (victim,) = tool_processes(backend, "slow_mcp.py")
                    victim.kill()
                    killed = time.monotonic()
        turn = Turn(200, events, first.thread_id)
        ended_after = time.monotonic() - killed
        assert not turn.errors and turn.replies == ["The slow tool broke; try again later."]
        told = tool_outputs(fake)[call.call_id]
        assert "slow tool server is unavailable right now" in told, told
        status, body = await readiness(http, backend)
        assert (status, body["mcp"]["slow"]) == (503, "down: connection lost"), body
        await wait_readiness(http, backend, "slow", "ok", 20)

        again = ToolCall("slow_echo", {"text": "quick", "seconds": 0.1})
        fake.push(again, Text("It echoed quick."))
        turn = await say(user, first.thread_id, "echo quick")
        assert turn.replies == ["It echoed quick."] and "quick" in tool_outputs(fake)[again.call_id]
        fake.push(Text("Still here."))
        await assert_recovered(user, first.thread_id, earlier, reply="Still here.")
    assert ended_after < 5, f"the turn ended {ended_after:.1f} s after the kill"


async def test_a_tool_slower_than_its_timeout_ends_the_turn_in_words(
    tmp_path: Path, fake: FakeLLM, http: httpx2.AsyncClient
) -> None:
    config = config_file(tmp_path, TOOL_TIMEOUT_SECONDS, tasks=False)
    env = model_env(tmp_path, fake.base_url, MCP_CONFIG=str(config), LLM_MAX_RETRIES="0")
    with run_backend(tmp_path, env) as backend:
        async with httpx2.AsyncClient(base_url=backend.url, timeout=30) as base:
            user = ChatKitClient(base, user_token("alice"))
            fake.push(Text("Hello."))
            first = await say(user, None, "hi")
            assert first.thread_id
            earlier = await assert_consistent(user, first.thread_id)

            call = ToolCall("slow_echo", {"text": "hi", "seconds": 5})
            fake.push(call, Text("The tool took too long."))
            started = time.monotonic()
            turn = await say(user, first.thread_id, "echo hi slowly")
            took = time.monotonic() - started
            assert not turn.errors and turn.replies == ["The tool took too long."]
            assert "did not answer in time" in tool_outputs(fake)[call.call_id]
            assert (await readiness(http, backend))[0] == 200  # slow, not down

            again = ToolCall("slow_echo", {"text": "quick", "seconds": 0.1})
            fake.push(again, Text("It echoed quick."))
            turn = await say(user, first.thread_id, "echo quick")
            assert turn.replies == ["It echoed quick."] and "quick" in tool_outputs(fake)[again.call_id]
            fake.push(Text("Still here."))
            await assert_recovered(user, first.thread_id, earlier, reply="Still here.")
    assert took < TOOL_TIMEOUT_SECONDS + 3, f"the turn took {took:.1f} s"
