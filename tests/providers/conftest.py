"""The scripted model server, and the backend under uvicorn with its model pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from agents import flush_traces
from openai import AsyncOpenAI

from backend.agent import models
from backend.app import create_app
from backend.settings import BackendSettings
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_token
from tests.providers.fake_llm import FakeLLM, running, serve

CONFIG = Path(__file__).resolve().parents[2] / "mcp_servers.json"
KEY = "sk-fake-7Hq2Zr9LmW4xVb8NpQ3tYc6D"
PROVIDERS: dict[str, dict[str, Any]] = {
    "openai": {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": KEY},
    "gemini": {"LLM_PROVIDER": "gemini", "GEMINI_API_KEY": KEY},
    "openai-compatible": {
        "LLM_PROVIDER": "openai-compatible",
        "LLM_MODEL": "local-model",
        "OPENAI_API_KEY": KEY,
    },
}
PROVIDER_ENVIRONMENT = ["OPENAI_API_KEY", "GEMINI_API_KEY", "LLM_PROVIDER", "LLM_MODEL", "LLM_BASE_URL"]
Backend = Callable[..., AbstractAsyncContextManager[ChatKitClient]]


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test passes configures the model (a developer's real key stays unused)."""
    for name in PROVIDER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    """A fresh fake model: push replies, read `requests`; `base_url` ends in `/v1`."""
    async with running() as fake:
        yield fake


@pytest.fixture
def backend(tmp_path: Path, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """`backend(provider, tools=False, **settings)`: the app under uvicorn on 127.0.0.1 with its model
    at the fake (and, with `tools`, the shipped MCP config on temporary databases); alice's client."""
    clients: list[AsyncOpenAI] = []

    class TrackedOpenAI(AsyncOpenAI):  # to check that the app closes its model client on shutdown
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            clients.append(self)

    monkeypatch.setattr(models, "AsyncOpenAI", TrackedOpenAI)
    monkeypatch.setenv("TASKS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}")
    monkeypatch.setenv("ITEMS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'items.db'}")

    @asynccontextmanager
    async def start(provider: str, *, tools: bool = False, **settings: Any) -> AsyncIterator[ChatKitClient]:
        fake_llm.chat_style = "gemini" if provider == "gemini" else "openai"
        defaults = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}
        config = BackendSettings(
            AUTH_JWT_SECRET=AUTH_SECRET,
            AUTH_AUDIENCE=AUDIENCE,
            AUTH_ISSUER=ISSUER,
            LLM_BASE_URL=fake_llm.base_url,
            MCP_CONFIG=CONFIG if tools else None,
            **defaults | PROVIDERS[provider] | settings,
        )
        try:
            async with serve(create_app(config)) as url, httpx2.AsyncClient(base_url=url, timeout=60) as http:
                yield ChatKitClient(http, user_token("alice"))
            assert clients
            assert all(client.is_closed() for client in clients)  # the app closed its model client
        finally:
            await anyio.to_thread.run_sync(flush_traces)  # no spans left for an export at exit

    return start
