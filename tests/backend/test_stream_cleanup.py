"""A client that hangs up mid-reply leaves no task behind: the event loop never reports a task
destroyed pending or an exception nobody retrieved (ChatKit's event merge reads in tasks of its own)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import httpx2
import pytest

from backend.settings import BackendSettings
from tests.backend.conftest import user_input, user_token
from tests.backend.slow_served import slow_app_served


@pytest.fixture
async def served(settings: BackendSettings) -> AsyncIterator[str]:
    """The app (slow offline model) under uvicorn on a free loopback port; its base URL."""
    async with slow_app_served(settings) as url:
        yield url


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
