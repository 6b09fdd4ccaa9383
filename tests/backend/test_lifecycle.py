"""The app under uvicorn on a real port: SSE headers, stream cancellation, and a restart on the same file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx2
import pytest

from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import ChatKitClient, parse_sse, user_input, user_token
from tests.backend.slow_served import slow_app_served


@pytest.fixture
async def served(settings: BackendSettings) -> AsyncIterator[str]:
    """The app (slow offline model) under uvicorn on a free loopback port; its base URL."""
    async with slow_app_served(settings) as url:
        yield url


async def test_sse_over_a_real_socket(served: str) -> None:
    """threads.create streams SSE with no-cache and no proxy buffering; the reply arrives whole."""
    async with httpx2.AsyncClient(base_url=served, timeout=30) as http:
        client = ChatKitClient(http, user_token("alice"))
        response = await client.post(
            {"type": "threads.create", "params": {"input": user_input("over uvicorn")}}
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        types = [event.type for event in parse_sse(response.content)]
        assert types[0] == "thread.created"
        assert "thread.item.done" in types
        assert (await client.call("threads.list"))["data"][0]["title"] == "over uvicorn"


async def test_cancelled_stream_keeps_the_partial_reply(served: str) -> None:
    """A client that hangs up mid-reply leaves the partial reply in the thread, as the SDK intends."""
    headers = {"Authorization": f"Bearer {user_token('alice')}"}
    payload = {"type": "threads.create", "params": {"input": user_input("cancel me halfway")}}
    thread_id = None
    async with httpx2.AsyncClient(base_url=served, timeout=30) as http:
        async with http.stream("POST", "/chatkit", json=payload, headers=headers) as response:
            deltas = 0
            async for line in response.aiter_lines():
                if '"thread.created"' in line:
                    thread_id = line.split('"id":"', 1)[1].split('"', 1)[0]
                deltas += "text_delta" in line
                if deltas == 2:
                    break  # hang up mid-reply
        assert thread_id
        client = ChatKitClient(http, user_token("alice"))
        deadline = time.monotonic() + 10
        while True:
            items = (await client.call("items.list", thread_id=thread_id, order="asc"))["data"]
            if len(items) == 2 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert [item["type"] for item in items] == ["user_message", "assistant_message"]
        partial = items[1]["content"][0]["text"]
        assert partial
        assert partial.startswith("You said:")
        assert not partial.endswith("for all of them.")  # it really was cut short


async def test_conversations_survive_a_restart(settings: BackendSettings) -> None:
    """Write a conversation, stop the app, start a new one on the same SQLite file: all intact."""
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=first), base_url="http://t") as http:
            client = ChatKitClient(http, user_token("alice"))
            thread_id, _ = await client.create_thread("remember me")
            await client.stream("threads.add_user_message", thread_id=thread_id, input=user_input("and me"))
            before = await client.call("threads.get_by_id", thread_id=thread_id)
    second = create_app(settings)
    async with (
        second.router.lifespan_context(second),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=second), base_url="http://t") as http,
    ):
        client = ChatKitClient(http, user_token("alice"))
        assert await client.call("threads.get_by_id", thread_id=thread_id) == before
        assert len(before["items"]["data"]) == 4
