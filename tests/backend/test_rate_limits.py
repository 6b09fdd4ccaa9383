"""Per-user rate limits (RATE_LIMIT_TURNS_PER_MINUTE, REDIS_URL) through the app over HTTP: N turns
and widget actions a minute per user then a 429 before anything is stored, reads and other users
untouched, the sliding window on an injected clock, replicas sharing Redis, and Redis down."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pydantic import ValidationError
from redis.asyncio import Redis

from backend.app import create_app
from backend.rate_limits import RateLimiter, user_key
from backend.settings import BackendSettings
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_input, user_token
from tests.backend.tool_app import control, user_of_own_app
from tests.e2e.conftest import free_port
from tests.redis_service import REDIS_URL, redis

LIMIT = 3
__all__ = ["redis"]  # the fixture


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def refusals(kind: str) -> float:
    """chatkit_rate_limit_refusals_total{kind} as a scrape would read it."""
    return REGISTRY.get_sample_value("chatkit_rate_limit_refusals_total", {"kind": kind}) or 0.0


def limited_settings(database_url: str, **extra: Any) -> BackendSettings:
    """The test app's settings (auth on, no tool servers) with a limit of LIMIT, in this process
    unless `extra` names REDIS_URL."""
    return BackendSettings(
        DATABASE_URL=database_url,
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        **{"RATE_LIMIT_TURNS_PER_MINUTE": LIMIT, "REDIS_URL": "", **extra},
    )


@pytest.fixture
def settings(sqlite_url: str) -> BackendSettings:
    """The conftest app with a limit of LIMIT, counted in this process."""
    return limited_settings(sqlite_url)


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    """The app's limiter on a clock the test moves."""
    clock = Clock()
    app.state.rate_limiter.clock = clock
    return clock


def create(text: str) -> dict[str, Any]:
    return {"type": "threads.create", "params": {"input": user_input(text)}}


def assert_limited(response: httpx2.Response, retry_after: int) -> None:
    """A 429 with the JSON error body and a Retry-After of `retry_after` seconds."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == str(retry_after)
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert f"at most {LIMIT} " in error["message"] and "per minute" in error["message"]
    assert f"Retry in {retry_after} s." in error["message"]


# -- in this process ---------------------------------------------------------------------------


async def test_n_turns_a_minute_then_a_429_before_anything_is_stored(
    alice: ChatKitClient, bob: ChatKitClient, clock: Clock
) -> None:
    thread_id, _ = await alice.create_thread("one")
    for text in ("two", "three"):
        await alice.stream("threads.add_user_message", thread_id=thread_id, input=user_input(text))
    items = await alice.call("items.list", thread_id=thread_id, limit=100, order="asc")
    threads = await alice.call("threads.list", limit=100, order="desc")
    before = refusals("turn")

    more = {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("4")}}
    assert_limited(await alice.post(more), 60)
    assert_limited(await alice.post(create("five")), 60)
    first = items["data"][0]["id"]
    retry = {"type": "threads.retry_after_item", "params": {"thread_id": thread_id, "item_id": first}}
    assert_limited(await alice.post(retry), 60)
    assert refusals("turn") == before + 3

    # Nothing of the refused requests was stored, and reads are not limited.
    assert await alice.call("items.list", thread_id=thread_id, limit=100, order="asc") == items
    assert await alice.call("threads.list", limit=100, order="desc") == threads
    assert (await alice.call("threads.get_by_id", thread_id=thread_id))["id"] == thread_id
    # Another user has a window of their own.
    await bob.create_thread("bob's first")


async def test_the_window_slides_and_a_refusal_takes_no_slot(alice: ChatKitClient, clock: Clock) -> None:
    for _ in range(LIMIT):  # at 0, 20 and 40 s
        await alice.create_thread("on time")
        clock.now += 20
    clock.now -= 10  # 50 s: the first is 10 s from leaving the window
    assert_limited(await alice.post(create("early")), 10)
    clock.now += 10  # 60 s: it left, so one more may start (the refusal at 50 s counted for nothing)
    await alice.create_thread("after the first left")
    clock.now += 1  # 61 s: the window holds 20, 40 and 60 s again
    assert_limited(await alice.post(create("early again")), 19)


async def test_a_bad_request_is_answered_as_such_and_not_counted(alice: ChatKitClient, clock: Clock) -> None:
    for _ in range(LIMIT + 1):  # refused before the limit is asked: 404, never 429
        params = {"thread_id": "thr_missing", "input": user_input("x")}
        missing = {"type": "threads.add_user_message", "params": params}
        assert (await alice.post(missing)).status_code == 404
    for _ in range(LIMIT):
        await alice.create_thread("still allowed")


async def test_zero_turns_the_limit_off(sqlite_url: str) -> None:
    application = create_app(limited_settings(sqlite_url, RATE_LIMIT_TURNS_PER_MINUTE=0))
    async with (
        application.router.lifespan_context(application),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=application), base_url="http://t") as http,
    ):
        carol = ChatKitClient(http, user_token("carol"))
        for _ in range(2 * LIMIT):
            await carol.create_thread("no limit")


def test_the_settings_default_to_30_in_this_process_and_refuse_a_bad_redis_url() -> None:
    base = {"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}
    defaults = BackendSettings(**base, RATE_LIMIT_TURNS_PER_MINUTE="", REDIS_URL="")
    assert (defaults.rate_limit_turns_per_minute, defaults.redis_url) == (30, None)
    with pytest.raises(ValidationError) as refused:
        BackendSettings(**base, REDIS_URL="http://user:hunter2@cache:6379")
    assert "REDIS_URL must be a redis://" in str(refused.value) and "hunter2" not in str(refused.value)
    with pytest.raises(ValidationError):
        BackendSettings(**base, RATE_LIMIT_TURNS_PER_MINUTE=-1)


@pytest.mark.e2e
async def test_widget_actions_share_the_users_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With both tool servers (stdio): a turn and two clicks use a budget of 3; the next click is a
    429 counted as an action, and the card is left as it was."""
    monkeypatch.setenv("RATE_LIMIT_TURNS_PER_MINUTE", str(LIMIT))
    monkeypatch.setenv("REDIS_URL", "")
    async with user_of_own_app(tmp_path) as user:
        thread_id, card = await user.widget("add task buy milk")
        done, _ = await user.act("sync", thread_id, card, "tasks.complete", control(card, "tasks.complete"))
        assert done is not None
        reopened, _ = await user.act("stream", thread_id, done, "tasks.reopen", control(done, "tasks.reopen"))
        assert reopened is not None
        before = refusals("action")
        for mode in ("sync", "stream"):
            payload = control(reopened, "tasks.complete")
            response = await user.client.post(
                user.request(mode, thread_id, card.id, "tasks.complete", payload)
            )
            assert response.status_code == 429 and 55 <= int(response.headers["retry-after"]) <= 60
            assert response.json()["error"]["code"] == "rate_limited"
        assert refusals("action") == before + 2
        assert (await user.stored(thread_id, card.id)).widget == reopened.widget


# -- shared through Redis ------------------------------------------------------------------------


@pytest.fixture
async def user(redis: Redis) -> AsyncIterator[str]:
    """A user of this test alone (so parallel runs never share a key); its key deleted afterwards."""
    name = f"rate-limit-test-{uuid.uuid4().hex}"
    try:
        yield name
    finally:
        await redis.delete(user_key(name))


def shared_settings(database: Path) -> BackendSettings:
    """A replica's settings: its own SQLite file, the limit counted in the test Redis."""
    return limited_settings(f"sqlite+aiosqlite:///{database}", REDIS_URL=REDIS_URL)


@asynccontextmanager
async def app_client(settings: BackendSettings, user: str) -> AsyncIterator[ChatKitClient]:
    application = create_app(settings)
    async with (
        application.router.lifespan_context(application),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=application), base_url="http://t") as http,
    ):
        yield ChatKitClient(http, user_token(user))


async def test_two_replicas_sharing_redis_allow_n_together(tmp_path: Path, redis: Redis, user: str) -> None:
    async with AsyncExitStack() as stack:
        one, two = [
            await stack.enter_async_context(app_client(shared_settings(tmp_path / f"{name}.db"), user))
            for name in ("one", "two")
        ]
        # 2 * LIMIT at once, half on each: exactly LIMIT start, whichever replica they reach.
        answers = await asyncio.gather(*(client.post(create("race")) for client in (one, two) * LIMIT))
        statuses = sorted(response.status_code for response in answers)
        assert statuses == [200] * LIMIT + [429] * LIMIT, [r.text for r in answers if r.status_code != 200]
        for response in answers:
            if response.status_code == 429:
                assert 55 <= int(response.headers["retry-after"]) <= 60
        for client in (one, two):  # and both go on refusing
            assert (await client.post(create("again"))).status_code == 429

        # One sorted set per user, named by a hash, that expires a window after its last entry.
        key = user_key(user)
        assert await redis.zcard(key) == LIMIT
        assert 0 < await redis.pttl(key) <= 60_000
        assert [k async for k in redis.scan_iter(match=f"*{user}*", count=1000)] == []
        other = f"{user}-other"
        try:
            async with app_client(shared_settings(tmp_path / "other.db"), other) as someone_else:
                await someone_else.create_thread("my own window")
        finally:
            await redis.delete(user_key(other))


async def test_the_redis_window_slides_and_expires(redis: Redis) -> None:
    """The limiter on Redis with a 1 s window: two pass, the third waits for the first to leave."""
    prefix = f"test:ratelimit:{uuid.uuid4().hex}:"
    limiter = RateLimiter(2, redis_url=REDIS_URL, key_prefix=prefix, window_seconds=1.0)
    try:
        assert await limiter.check("dana", "turn") is None
        assert await limiter.check("dana", "action") is None
        wait = await limiter.check("dana", "turn")
        assert wait is not None and 0 < wait <= 1.0
        assert await limiter.check("erin", "turn") is None
        assert 0 < await redis.pttl(user_key("dana", prefix)) <= 1000
        await asyncio.sleep(wait + 0.05)
        assert await limiter.check("dana", "turn") is None
        await asyncio.sleep(1.1)
        assert [key async for key in redis.scan_iter(match=f"{prefix}*")] == []  # all expired
    finally:
        await limiter.aclose()
        for key in [key async for key in redis.scan_iter(match=f"{prefix}*")]:
            await redis.delete(key)


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a Redis that hangs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


@contextmanager
def redis_down(how: str) -> Iterator[str]:
    if how == "refused":
        yield f"redis://127.0.0.1:{free_port()}/0"
    else:
        with silent_server() as port:
            yield f"redis://127.0.0.1:{port}/0"


@pytest.mark.parametrize("how", ["refused", "silent"])
async def test_redis_down_serves_and_counts_in_process_with_one_warning(
    sqlite_url: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="backend.rate_limits")
    with redis_down(how) as url:
        application = create_app(limited_settings(sqlite_url, REDIS_URL=url))
        async with (
            application.router.lifespan_context(application),
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=application), base_url="http://t") as http,
        ):
            clock = Clock(math.ceil(time.monotonic()) + 10.0)  # past the pause the start-up failure began
            application.state.rate_limiter.clock = clock
            client = ChatKitClient(http, user_token("frank"))
            started = time.monotonic()
            for _ in range(LIMIT):
                await client.create_thread("served without Redis")
                clock.now += 6  # each one asks Redis again (and waits for it at most 0.5 s)
            clock.now -= 6 * LIMIT - 1  # 1 s after the first: this process counted LIMIT
            assert_limited(await client.post(create("over")), 59)
            assert time.monotonic() - started < 2 * LIMIT
            warnings = [r for r in caplog.records if r.name == "backend.rate_limits"]
            assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once a minute at most
            assert url.split("@")[-1].rsplit("/", 1)[0] in warnings[0].getMessage()
            clock.now += 120  # a minute later, still down: one more warning
            await client.create_thread("a minute later")
            assert len([r for r in caplog.records if r.name == "backend.rate_limits"]) == 2
