"""Service surface: health and readiness, CORS, and the model's view of a long thread."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx2
import pytest
from agents import Agent
from fastapi import FastAPI

from backend.agent.offline import OfflineModel
from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_input, user_token
from tests.conftest import POSTGRES_URL, postgres_unavailable_reason


async def test_health_and_readiness(http: httpx2.AsyncClient) -> None:
    """/healthz answers without auth; /readyz reports the database reachable."""
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "mcp": {}}


@pytest.mark.postgres
async def test_readiness_reports_a_lost_database_and_chat_fails_cleanly() -> None:
    """Postgres cuts the backend's connections (it reconnects), then drops its database: /readyz says
    503 "unreachable", a chat request gets a JSON 503 (not a 500, never a traceback), /healthz answers."""
    reason = await postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    name = f"readyz_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        settings = BackendSettings(
            DATABASE_URL=url, AUTH_JWT_SECRET=AUTH_SECRET, AUTH_AUDIENCE=AUDIENCE, AUTH_ISSUER=ISSUER
        )
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as http,
        ):
            alice = ChatKitClient(http, user_token("alice"))
            assert (await http.get("/readyz")).status_code == 200
            # Connections cut (a restart, a failover): the next request reconnects.
            cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1"
            assert await admin.fetch(cut, name)
            assert (await alice.post({"type": "threads.list", "params": {}})).status_code == 200
            await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "database": "unreachable", "mcp": {}}
            failed = await alice.post({"type": "threads.list", "params": {}})
            assert failed.status_code == 503
            assert failed.json() == {
                "error": {"code": "unavailable", "message": "The database is unreachable. Try again shortly."}
            }
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def test_cors_allows_only_configured_origins(http: httpx2.AsyncClient) -> None:
    """Local origins on any port pass the preflight; any other origin gets no CORS grant."""
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await http.options("/chatkit", headers=preflight | {"Origin": "http://localhost:5173"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    denied = await http.options("/chatkit", headers=preflight | {"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers
    assert "*" not in allowed.headers.get("access-control-allow-origin", "")


async def test_configured_origins_replace_the_local_ones(sqlite_url: str) -> None:
    """CORS_ALLOW_ORIGINS lists exactly who may call from a browser."""
    settings = BackendSettings(
        DATABASE_URL=sqlite_url, CORS_ALLOW_ORIGINS="https://app.example.com, https://*.example.org"
    )
    app = create_app(settings)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as http:
        preflight = {"Access-Control-Request-Method": "POST"}
        for origin, granted in [
            ("https://app.example.com", True),
            ("https://shop.example.org", True),
            ("http://localhost:5173", False),
            ("https://app.example.com.evil.net", False),
        ]:
            response = await http.options("/chatkit", headers=preflight | {"Origin": origin})
            assert (response.headers.get("access-control-allow-origin") == origin) is granted, origin


async def test_the_model_sees_the_newest_items_within_the_budget(sqlite_url: str) -> None:
    """With a history budget of 4 items, the fifth turn is answered from the newest items only."""
    settings = BackendSettings(
        DATABASE_URL=sqlite_url,
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        HISTORY_ITEMS=4,
    )
    seen: list[Any] = []

    class Watched(OfflineModel):
        """The offline model, noting each input it is given."""

        async def stream_response(
            self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
        ) -> AsyncIterator[Any]:
            seen.append(input)
            async for event in super().stream_response(system_instructions, input, *args, **kwargs):
                yield event

    app: FastAPI = create_app(settings, agent=Agent(name="assistant", instructions="", model=Watched()))
    async with app.router.lifespan_context(app):
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://t") as http:
            client = ChatKitClient(http, user_token("alice"))
            thread_id, _ = await client.create_thread("message one")
            for word in ("two", "three", "four"):
                await client.stream(
                    "threads.add_user_message", thread_id=thread_id, input=user_input(f"message {word}")
                )
            events = await client.stream(
                "threads.add_user_message", thread_id=thread_id, input=user_input("message five")
            )
    reply = next(
        e.item for e in events if e.type == "thread.item.done" and e.item.type == "assistant_message"
    )
    text = reply.content[0].text
    assert "“message five”" in text  # the newest message, not the oldest
    said = [item["content"] for item in seen[-1] if item.get("role") == "user"]
    assert said == ["message four", "message five"]  # [reply 3, message four, reply 4, message five]
