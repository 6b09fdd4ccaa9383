"""Graceful stop, on real processes: SIGTERM lets a streaming turn finish while new requests get a
503 and readiness says `draining`, then the process exits 0; the grace period bounds the wait."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from tests.backend.conftest import parse_sse, user_input, user_token
from tests.e2e.conftest import BackendProcess, Launcher, model_env, run_backend, server_env
from tests.providers.fake_llm import FakeLLM, Text, running

pytestmark = pytest.mark.e2e
PIECES = [f"piece {index} " for index in range(12)]


@pytest.fixture
async def slow_model() -> AsyncIterator[FakeLLM]:
    """A model that streams one frame every 0.3 s."""
    async with running(frame_delay=0.3) as fake:
        yield fake


def stop_env(tmp_path: Path, fake: FakeLLM, grace: float) -> dict[str, str]:
    return model_env(tmp_path, fake.base_url, MCP_CONFIG="", SHUTDOWN_GRACE_SECONDS=str(grace))


HEADERS = {"Authorization": f"Bearer {user_token('alice')}", "Content-Type": "application/json"}


async def wait_exit(process: subprocess.Popen[bytes], seconds: float) -> int | None:
    """The exit status, once the process has exited (None if it is still running after `seconds`)."""
    try:
        return await asyncio.to_thread(process.wait, seconds)
    except subprocess.TimeoutExpired:
        return None


async def start_turn(http: httpx2.AsyncClient, backend: BackendProcess) -> AsyncIterator[bytes]:
    body = json.dumps({"type": "threads.create", "params": {"input": user_input("tell me a story")}})
    async with http.stream("POST", backend.chatkit_url, content=body, headers=HEADERS) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            yield chunk


async def test_sigterm_lets_a_streaming_turn_finish_refuses_new_requests_and_exits_0(
    tmp_path: Path, slow_model: FakeLLM
) -> None:
    slow_model.push(Text(*PIECES))
    env = stop_env(tmp_path, slow_model, grace=30)
    with run_backend(tmp_path, env, ready="/healthz") as backend:
        async with httpx2.AsyncClient(timeout=30) as http, httpx2.AsyncClient(timeout=10) as other:
            received = b""
            stream = start_turn(http, backend)
            received += await anext(stream)  # the turn is streaming
            backend.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)

            refused = await other.post(backend.chatkit_url, content=b"{}", headers=HEADERS)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert refused.json()["error"]["code"] == "shutting_down"
            ready = await other.get(backend.url + "/readyz")
            assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
            assert (await other.get(backend.url + "/healthz")).status_code == 200
            assert backend.process.poll() is None  # still streaming

            async for chunk in stream:
                received += chunk
        text = "".join(
            event.item.content[0].text  # type: ignore[union-attr]
            for event in parse_sse(received)
            if event.type == "thread.item.done" and event.item.type == "assistant_message"
        )
        assert text == "".join(PIECES)
        assert await wait_exit(backend.process, 15) == 0, backend.logs()


async def test_the_grace_period_bounds_the_wait(tmp_path: Path, slow_model: FakeLLM) -> None:
    slow_model.frame_delay = 1.0
    slow_model.push(Text(*[f"word{index} " for index in range(60)]))  # a minute of streaming
    env = stop_env(tmp_path, slow_model, grace=1)
    with run_backend(tmp_path, env, ready="/healthz") as backend:
        async with httpx2.AsyncClient(timeout=30) as http:
            stream = start_turn(http, backend)
            await anext(stream)
            backend.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            with pytest.raises(httpx2.HTTPError):  # the stream is cut once the grace period is over
                async for _ in stream:
                    pass
        assert await wait_exit(backend.process, 15) == 0, backend.logs()
        assert time.monotonic() - signalled < 10
        assert "still running after the 1 s grace period" in backend.logs()


def test_an_http_tool_server_stops_on_sigterm_with_status_0(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path)
    server = launcher.http("tasks-mcp", server_env(tmp_path))
    try:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=15) == 0, server.log.read_text()
    finally:
        launcher.stop_all()
