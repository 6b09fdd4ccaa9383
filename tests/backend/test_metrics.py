"""`GET /metrics`: what the ChatKit protocol, the tool calls and the streams do to the counters,
read from the exposition as Prometheus parses it, and who may scrape.

The app runs in this process, so the counters are the process's: each test compares a scrape
before with one after."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from agents import Agent
from agents.testing import ScriptedModel, assistant_message, function_call
from fastapi import FastAPI

from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import ChatKitClient, user_input, user_token
from tests.backend.slow_served import slow_app_served
from tests.backend.tool_app import user_of_own_app
from tests.metrics_samples import Samples, parse, value

METRICS_TOKEN = "scraper-token-0123456789abcdef"
ELSEWHERE = ("203.0.113.7", 40000)  # a client that is not on this machine
SLOW_MCP = Path(__file__).parents[1] / "e2e" / "slow_mcp.py"  # a tool that takes as long as it is told


async def scrape(http: httpx2.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def requests_total(samples: Samples) -> float:
    return sum(v for (name, _), v in samples.items() if name == "chatkit_requests_total")


async def app_with(settings: BackendSettings, **options: Any) -> AsyncIterator[FastAPI]:
    application = create_app(settings, **options)
    async with application.router.lifespan_context(application):
        yield application


def client_of(application: FastAPI, client: tuple[str, int] = ("127.0.0.1", 123)) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=application, client=client)
    return httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", timeout=60)


async def test_a_turn_is_counted_and_timed_and_its_stream_released(
    http: httpx2.AsyncClient, alice: ChatKitClient
) -> None:
    before = await scrape(http)
    await alice.create_thread("hello metrics")
    after = await scrape(http)
    created = {"type": "threads.create", "status": "200"}
    assert (
        value(after, "chatkit_requests_total", **created)
        == value(before, "chatkit_requests_total", **created) + 1
    )
    assert (
        value(after, "chatkit_turn_seconds_count", kind="turn")
        == value(before, "chatkit_turn_seconds_count", kind="turn") + 1
    )
    assert value(after, "chatkit_turn_seconds_sum", kind="turn") > value(
        before, "chatkit_turn_seconds_sum", kind="turn"
    )
    assert value(after, "chatkit_active_streams") == 0


async def test_refusals_are_counted_with_their_status_and_scrapes_are_not(
    http: httpx2.AsyncClient, alice: ChatKitClient
) -> None:
    before = await scrape(http)
    assert (await alice.post(b"{not json")).status_code == 400
    missing = await alice.post({"type": "items.list", "params": {"thread_id": "thr_missing"}})
    assert missing.status_code == 404
    anonymous = await ChatKitClient(http, None).post({"type": "threads.list", "params": {}})
    assert anonymous.status_code == 401
    await scrape(http)
    after = await scrape(http)
    for labels in (
        {"type": "invalid", "status": "400"},  # it did not parse: no type of its own
        {"type": "items.list", "status": "404"},
        {"type": "invalid", "status": "401"},  # refused before the body was read
    ):
        assert (
            value(after, "chatkit_requests_total", **labels)
            == value(before, "chatkit_requests_total", **labels) + 1
        ), labels
    assert requests_total(after) == requests_total(before) + 3  # the scrapes counted nowhere
    assert value(after, "chatkit_turn_seconds_count", kind="turn") == value(
        before, "chatkit_turn_seconds_count", kind="turn"
    )


async def test_a_tool_call_is_counted_by_server_tool_and_outcome(tmp_path: Path) -> None:
    async with user_of_own_app(tmp_path) as user:
        http = user.client.http
        before = await scrape(http)
        await user.say("add task water the plants")
        after = await scrape(http)
        labels = {"server": "tasks", "tool": "add_task", "outcome": "ok"}
        assert (
            value(after, "chatkit_tool_calls_total", **labels)
            == value(before, "chatkit_tool_calls_total", **labels) + 1
        )
        assert value(after, "chatkit_mcp_server_up", server="tasks") == 1
        assert value(after, "chatkit_mcp_server_up", server="items") == 1
        assert value(after, "chatkit_active_streams") == 0


async def test_with_auth_on_and_no_token_only_loopback_clients_may_scrape(app: FastAPI) -> None:
    async with client_of(app, ELSEWHERE) as remote:
        response = await remote.get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "METRICS_TOKEN" in response.json()["error"]["message"]
    async with client_of(app) as local:
        assert (await local.get("/metrics")).status_code == 200


async def test_a_set_token_is_required_from_everyone(sqlite_url: str) -> None:
    settings = BackendSettings(DATABASE_URL=sqlite_url, METRICS_TOKEN=METRICS_TOKEN)  # local mode
    async for application in app_with(settings):
        async with client_of(application) as local, client_of(application, ELSEWHERE) as remote:
            for client in (local, remote):
                for headers in (
                    {},
                    {"Authorization": "Bearer wrong-token-0123456789"},
                    {"Authorization": METRICS_TOKEN},
                ):
                    refused = await client.get("/metrics", headers=headers)
                    assert refused.status_code == 401, headers
                    assert refused.json()["error"]["code"] == "unauthorized"
                    assert refused.headers["www-authenticate"] == "Bearer"
                    assert METRICS_TOKEN not in refused.text
                samples = await scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")
                assert ("chatkit_active_streams", frozenset()) in samples


async def test_in_local_mode_without_a_token_anyone_who_reaches_it_may_scrape(sqlite_url: str) -> None:
    async for application in app_with(BackendSettings(DATABASE_URL=sqlite_url)):
        async with client_of(application, ELSEWHERE) as remote:
            assert ("chatkit_active_streams", frozenset()) in await scrape(remote)


async def test_metrics_has_no_cors_headers_and_takes_only_get(http: httpx2.AsyncClient) -> None:
    response = await http.get("/metrics", headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert (await http.post("/metrics")).status_code == 405


@pytest.fixture
async def served(settings: BackendSettings) -> AsyncIterator[str]:
    """The app (slow offline model) under uvicorn on a free loopback port; its base URL."""
    async with slow_app_served(settings) as url:
        yield url


async def test_a_stream_the_client_hangs_up_on_is_released(served: str) -> None:
    headers = {"Authorization": f"Bearer {user_token('alice')}"}
    payload = {"type": "threads.create", "params": {"input": user_input("hang up on me")}}
    async with httpx2.AsyncClient(base_url=served, timeout=30) as http:
        before = await scrape(http)
        async with http.stream("POST", "/chatkit", json=payload, headers=headers) as response:
            async for line in response.aiter_lines():
                if "text_delta" in line:
                    break
            assert value(await scrape(http), "chatkit_active_streams") == 1  # while it streams
        deadline = time.monotonic() + 10
        while value(after := await scrape(http), "chatkit_active_streams") != 0:
            assert time.monotonic() < deadline, "the stream was not released"
            await asyncio.sleep(0.05)
        assert (
            value(after, "chatkit_turn_seconds_count", kind="turn")
            == value(before, "chatkit_turn_seconds_count", kind="turn") + 1
        )


async def test_a_tool_call_that_gets_no_answer_counts_as_unavailable(tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "mcp.json"
    slow = {"command": sys.executable, "args": [str(SLOW_MCP)], "timeout_seconds": 0.5}
    config.write_text(json.dumps({"mcpServers": {"slow": slow}}))
    model = ScriptedModel(
        [
            [function_call("slow_echo", {"text": "hi", "seconds": 5}, call_id="call_slow")],
            [assistant_message("The slow tool timed out.", item_id="msg_after_timeout")],
        ]
    )
    settings = BackendSettings(DATABASE_URL=sqlite_url, MCP_CONFIG=config)
    async for application in app_with(settings, agent=Agent(name="scripted", instructions="", model=model)):
        async with client_of(application) as http:
            before = await scrape(http)
            await ChatKitClient(http, None).create_thread("call the slow tool")
            after = await scrape(http)
    labels = {"server": "slow", "tool": "slow_echo", "outcome": "unavailable"}
    assert (
        value(after, "chatkit_tool_calls_total", **labels)
        == value(before, "chatkit_tool_calls_total", **labels) + 1
    )
    assert value(after, "chatkit_tool_calls_total", server="slow", tool="slow_echo", outcome="ok") == value(
        before, "chatkit_tool_calls_total", server="slow", tool="slow_echo", outcome="ok"
    )


async def test_the_attachment_routes_are_counted_by_route(
    http: httpx2.AsyncClient, alice: ChatKitClient
) -> None:
    before = await scrape(http)
    not_a_form = await http.post("/chatkit/upload", content=b"x", headers=alice.headers)
    assert not_a_form.status_code == 400
    missing = await http.get("/chatkit/attachments/atc_missing", headers=alice.headers)
    assert missing.status_code == 404
    unsigned = await http.post("/chatkit/upload/atc_missing", content=b"x")
    assert unsigned.status_code == 401
    after = await scrape(http)
    for labels in (
        {"type": "direct_upload", "status": "400"},
        {"type": "download", "status": "404"},
        {"type": "upload", "status": "401"},
    ):
        assert (
            value(after, "chatkit_requests_total", **labels)
            == value(before, "chatkit_requests_total", **labels) + 1
        ), labels
