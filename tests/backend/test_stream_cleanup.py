"""A client that hangs up mid-reply leaves no task behind: the event loop never reports a task
destroyed pending or an exception nobody retrieved (ChatKit's event merge reads in tasks of its own)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
import uvicorn
from agents import Agent

from backend.agent.offline import OfflineModel
from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import user_input, user_token


class SlowModel(OfflineModel):
    """The offline model with a pause before each event, so a client can hang up mid-reply."""

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for event in super().stream_response(*args, **kwargs):
            await asyncio.sleep(0.05)
            yield event


@pytest.fixture
async def served(settings: BackendSettings) -> AsyncIterator[str]:
    """The app (slow offline model) under uvicorn in this event loop; its base URL."""
    agent = Agent(name="slow", instructions="", model=SlowModel())
    config = uvicorn.Config(create_app(settings, agent=agent), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_hanging_up_mid_reply_leaves_no_task_behind(served: str) -> None:
    loop = asyncio.get_running_loop()
    reports: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reports.append(str(context.get("message"))))
    try:
        headers = {"Authorization": f"Bearer {user_token('alice')}"}
        async with httpx2.AsyncClient(base_url=served, timeout=30) as http:
            for attempt in range(5):
                payload = {"type": "threads.create", "params": {"input": user_input(f"hang up {attempt}")}}
                async with http.stream("POST", "/chatkit", json=payload, headers=headers) as response:
                    async for line in response.aiter_lines():
                        if "text_delta" in line:
                            break  # leave mid-reply
            await asyncio.sleep(1.0)  # the server notices and cancels each turn
            listed = await http.post("/chatkit", json={"type": "threads.list", "params": {}}, headers=headers)
            assert listed.status_code == 200  # still serving
        for _ in range(3):
            gc.collect()
            await asyncio.sleep(0.05)
    finally:
        loop.set_exception_handler(previous)
    assert reports == []
