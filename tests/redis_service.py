"""The local Redis the rate-limit tests share (TEST_REDIS_URL, else 127.0.0.1:6379/0): a client, or
the test skipped with the reason when it does not answer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_or_skip() -> Redis:
    """A client of the test Redis (skips the test, saying why, when it does not answer)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception as exc:  # any failure: no Redis here
        await client.aclose()
        pytest.skip(f"Redis at {REDIS_URL} does not answer: {exc!r}")
    return client


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the test Redis; tests delete only the keys they made."""
    client = await redis_or_skip()
    try:
        yield client
    finally:
        await client.aclose()
