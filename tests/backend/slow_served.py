"""The app with a slow offline model under uvicorn in the test's own event loop, for tests that
need a real socket (SSE over the wire, a client that hangs up mid-reply)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from agents import Agent

from backend.agent.offline import OfflineModel
from backend.app import create_app
from backend.settings import BackendSettings


class SlowModel(OfflineModel):
    """The offline model with a pause before each event, so a client can hang up mid-reply."""

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async for event in super().stream_response(*args, **kwargs):
            await asyncio.sleep(0.05)
            yield event


@asynccontextmanager
async def slow_app_served(settings: BackendSettings) -> AsyncIterator[str]:
    """The app (slow offline model) under uvicorn on a free loopback port; its base URL."""
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
