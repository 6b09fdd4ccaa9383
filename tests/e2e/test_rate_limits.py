"""Per-user rate limits on real `chatkit-backend` processes: two replicas sharing one Redis allow a
user N turns a minute between them, and a backend whose Redis is down still serves (and still
limits, in its own process) with one warning in its log."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest
from redis.asyncio import Redis

from backend.rate_limits import redis_location, user_key
from tests.backend.conftest import user_input, user_token
from tests.e2e.conftest import BackendProcess, backend_env, free_port, run_backend
from tests.redis_service import REDIS_URL, redis

pytestmark = pytest.mark.e2e
LIMIT = 3
__all__ = ["redis"]  # the fixture


def limited_env(directory: Path, redis_url: str) -> dict[str, str]:
    """A backend without tool servers (a quick start), its own SQLite file, a limit of LIMIT."""
    directory.mkdir(exist_ok=True)
    return backend_env(
        directory,
        MCP_CONFIG="",
        RATE_LIMIT_TURNS_PER_MINUTE=str(LIMIT),
        REDIS_URL=redis_url,
    )


async def turn(http: httpx2.AsyncClient, backend: BackendProcess, user: str) -> httpx2.Response:
    """A new thread with one message, as `user`; the raw response (its stream read to the end)."""
    body = {"type": "threads.create", "params": {"input": user_input("hello")}}
    headers = {"Authorization": f"Bearer {user_token(user)}"}
    return await http.post(backend.chatkit_url, json=body, headers=headers)


def rate_limit_lines(backend: BackendProcess) -> list[str]:
    return [line for line in backend.logs().splitlines() if "rate limit" in line.lower()]


async def test_two_replicas_share_one_budget_per_user(tmp_path: Path, redis: Redis) -> None:
    user, other = f"rl-e2e-{uuid.uuid4().hex}", f"rl-e2e-{uuid.uuid4().hex}"
    try:
        with ExitStack() as stack:
            one, two = (
                stack.enter_context(run_backend(tmp_path, limited_env(tmp_path / name, REDIS_URL)))
                for name in ("one", "two")
            )
            async with httpx2.AsyncClient(timeout=60) as http:
                for backend in (one, two, one):
                    response = await turn(http, backend, user)
                    assert response.status_code == 200, response.text
                    assert response.headers["content-type"].startswith("text/event-stream")
                for backend in (two, one):
                    refused = await turn(http, backend, user)
                    assert refused.status_code == 429, refused.text
                    assert refused.json()["error"]["code"] == "rate_limited"
                    assert 1 <= int(refused.headers["retry-after"]) <= 60
                listed = await http.post(
                    one.chatkit_url,
                    json={"type": "threads.list", "params": {"limit": 10}},
                    headers={"Authorization": f"Bearer {user_token(user)}"},
                )
                assert listed.status_code == 200 and len(listed.json()["data"]) == 2  # the ones on `one`
                assert (await turn(http, two, other)).status_code == 200
            assert await redis.zcard(user_key(user)) == LIMIT
            for backend in (one, two):
                lines = rate_limit_lines(backend)
                assert any(f"counted in {redis_location(REDIS_URL)}" in line for line in lines), lines
                assert not any(user in line for line in lines)
    finally:
        await redis.delete(user_key(user), user_key(other))


async def test_a_backend_whose_redis_is_down_serves_and_limits_in_process(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with run_backend(tmp_path, limited_env(tmp_path / "alone", dead)) as backend:
        async with httpx2.AsyncClient(timeout=10) as http:  # each answer well within the timeout
            statuses = [(await turn(http, backend, "gina")).status_code for _ in range(LIMIT + 1)]
            assert statuses == [200] * LIMIT + [429]
            assert (await http.get(f"{backend.url}/readyz")).status_code == 200  # not a dependency
        warnings = [line for line in rate_limit_lines(backend) if "does not answer" in line]
        assert len(warnings) == 1, backend.logs()
