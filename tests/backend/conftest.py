"""The backend app in process (ASGI transport), with auth on, and a ChatKit protocol client."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import jwt
import pytest
from chatkit.types import ThreadStreamEvent
from fastapi import FastAPI
from pydantic import TypeAdapter

from backend.app import create_app
from backend.settings import BackendSettings

AUTH_SECRET = "backend-test-secret-for-end-user-tokens-0123456789"
AUDIENCE = "chatkit-test"
ISSUER = "https://issuer.test"
EVENTS = TypeAdapter[ThreadStreamEvent](ThreadStreamEvent)


def user_token(user: str, **claims: Any) -> str:
    """An end-user token the test app accepts (claims override the defaults)."""
    now = int(time.time())
    payload = {"sub": user, "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + 6 * 3600} | claims
    return jwt.encode(payload, AUTH_SECRET, algorithm="HS256")


def parse_sse(body: bytes) -> list[ThreadStreamEvent]:
    """The ChatKit events of an SSE body, parsed into the SDK's event types."""
    events = []
    for frame in body.decode().split("\n\n"):
        if frame.startswith("data: "):
            events.append(EVENTS.validate_json(frame.removeprefix("data: ")))
    return events


class ChatKitClient:
    """Speaks the ChatKit protocol as the UI does: one POST endpoint, JSON or SSE answers."""

    def __init__(self, http: httpx2.AsyncClient, token: str | None) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def post(self, payload: dict[str, Any] | bytes | str, path: str = "/chatkit") -> httpx2.Response:
        """POST a request as it is; the raw response."""
        content = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        headers = self.headers | {"Content-Type": "application/json"}
        return await self.http.post(path, content=content, headers=headers)

    async def call(self, type_: str, **params: Any) -> Any:
        """A non-streaming request that must succeed; its JSON body."""
        response = await self.post({"type": type_, "params": params})
        assert response.status_code == 200, response.text
        return response.json()

    async def stream(self, type_: str, **params: Any) -> list[ThreadStreamEvent]:
        """A streaming request that must succeed; its events."""
        response = await self.post({"type": type_, "params": params})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse_sse(response.content)

    async def create_thread(self, text: str) -> tuple[str, list[ThreadStreamEvent]]:
        """Start a thread with one user message; its id and the events."""
        events = await self.stream("threads.create", input=user_input(text))
        thread_id = next(event.thread.id for event in events if event.type == "thread.created")
        return thread_id, events


def user_input(text: str, attachments: list[str] | None = None) -> dict[str, Any]:
    """The `input` of a user message as the UI sends it."""
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": attachments or [],
        "inference_options": {},
    }


@pytest.fixture(autouse=True)
def _no_tool_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Protocol tests run without MCP servers; the tool tests configure their own."""
    monkeypatch.setenv("MCP_CONFIG", "")


@pytest.fixture
def settings(sqlite_url: str) -> BackendSettings:
    """Auth on (HS256 with audience and issuer), a fresh SQLite database."""
    return BackendSettings(
        DATABASE_URL=sqlite_url, AUTH_JWT_SECRET=AUTH_SECRET, AUTH_AUDIENCE=AUDIENCE, AUTH_ISSUER=ISSUER
    )


@pytest.fixture
async def app(settings: BackendSettings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan entered (database open)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client that calls the app in process."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture
def alice(http: httpx2.AsyncClient) -> ChatKitClient:
    return ChatKitClient(http, user_token("alice"))


@pytest.fixture
def bob(http: httpx2.AsyncClient) -> ChatKitClient:
    return ChatKitClient(http, user_token("bob"))
