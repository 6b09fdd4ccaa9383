"""A chat database dropped and re-created under a running backend (real process, Postgres): readiness
says so, the store re-creates its tables without a restart, no request gets a 500 meanwhile, and a
stream that fails after its response started ends with an error event instead of being cut."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx2
import pytest
from sqlalchemy.engine import make_url

from tests.backend.conftest import parse_sse, user_input, user_token
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import model_env, run_backend
from tests.providers.fake_llm import FakeLLM, Text, running

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
HEADERS = {"Authorization": f"Bearer {user_token('alice')}", "Content-Type": "application/json"}
RECOVERY_SECONDS = 15.0


@pytest.fixture
async def model() -> AsyncIterator[FakeLLM]:
    async with running() as fake:
        yield fake


async def recreate(url: str) -> None:
    """DROP the database (closing its sessions) and CREATE it again, empty, from the maintenance db."""
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        await admin.execute(f'DROP DATABASE "{parsed.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()


async def create_thread(http: httpx2.AsyncClient, url: str, text: str) -> tuple[int, list]:  # type: ignore[type-arg]
    """threads.create; (status, SSE events). A stream cut before its end raises (httpx2 sees the
    chunked body end without its last chunk)."""
    body = json.dumps({"type": "threads.create", "params": {"input": user_input(text)}})
    response = await http.post(url, content=body, headers=HEADERS)
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return response.status_code, parse_sse(response.content)
    return response.status_code, []


async def test_a_recreated_database_is_recovered_without_a_restart(tmp_path: Path, model: FakeLLM) -> None:
    async with fresh_postgres_database() as url:
        env = model_env(tmp_path, model.base_url, DATABASE_URL=url, MCP_CONFIG="")
        with run_backend(tmp_path, env) as backend:
            async with httpx2.AsyncClient(timeout=30) as http:
                model.push(Text("first reply"))
                status, events = await create_thread(http, backend.chatkit_url, "hello")
                assert status == 200 and events[-1].type != "error"

                await recreate(url)

                # The first request after: a stream whose response starts, then the store fails.
                model.push(*[Text("a reply") for _ in range(20)])
                status, events = await create_thread(http, backend.chatkit_url, "after the drop")
                assert status == 200
                assert events and events[-1].type == "error", [e.type for e in events]
                assert "re-created" in events[-1].message  # type: ignore[union-attr]  # said in words

                statuses: list[tuple[str, int]] = []
                readiness: list[tuple[int, str]] = []
                recovered_thread = None
                deadline = time.monotonic() + RECOVERY_SECONDS
                while recovered_thread is None and time.monotonic() < deadline:
                    ready = await http.get(backend.url + "/readyz")
                    readiness.append((ready.status_code, ready.json()["database"]))
                    status, events = await create_thread(http, backend.chatkit_url, "again")
                    statuses.append(("threads.create", status))
                    created = [e.thread.id for e in events if e.type == "thread.created"]
                    if status == 200 and created and events[-1].type != "error":
                        recovered_thread = created[0]
                    elif status == 200:
                        assert events[-1].type == "error", [e.type for e in events]
                    await asyncio.sleep(0.2)
                assert recovered_thread is not None, (statuses, readiness, backend.logs())
                assert all(status in (200, 503) for _, status in statuses), statuses
                for status, database in readiness:
                    assert (status, database) in ((200, "ok"), (503, "schema_missing"), (503, "unreachable"))

                listed = await http.post(
                    backend.chatkit_url,
                    content=json.dumps({"type": "threads.list", "params": {"limit": 20}}),
                    headers=HEADERS,
                )
                assert listed.status_code == 200
                assert recovered_thread in [thread["id"] for thread in listed.json()["data"]]
                ready = await http.get(backend.url + "/readyz")
                assert (ready.status_code, ready.json()["database"]) == (200, "ok")
            assert backend.process.poll() is None  # never restarted


async def test_readiness_reports_a_missing_schema(tmp_path: Path, model: FakeLLM) -> None:
    """With migrations left to the operator (MIGRATE_ON_START=false), an emptied database stays
    unready, says why, and requests get a 503 in words (never a 500)."""
    async with fresh_postgres_database() as url:
        migrated = model_env(tmp_path, model.base_url, DATABASE_URL=url, MCP_CONFIG="")
        env = migrated | {"MIGRATE_ON_START": "false"}
        with run_backend(tmp_path, migrated):
            pass  # migrated once, as `chatkit-backend migrate` would
        with run_backend(tmp_path, env) as backend:
            async with httpx2.AsyncClient(timeout=30) as http:
                await recreate(url)
                for _ in range(3):
                    ready = await http.get(backend.url + "/readyz")
                    assert ready.status_code == 503
                    assert ready.json()["database"] in ("schema_missing", "unreachable")
                    await asyncio.sleep(0.3)
                assert ready.json()["database"] == "schema_missing"
                listed = await http.post(
                    backend.chatkit_url,
                    content=json.dumps({"type": "threads.list", "params": {"limit": 20}}),
                    headers=HEADERS,
                )
                assert listed.status_code == 503, listed.text
                assert "chatkit-backend migrate" in listed.json()["error"]["message"]
