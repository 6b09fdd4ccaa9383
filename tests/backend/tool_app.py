"""A test harness for the app with both MCP servers as real stdio subprocesses: the app started on
temporary databases, and a ChatKit user with what widget-action and approval tests do often."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from agents import Agent
from chatkit.types import AssistantMessageItem, ThreadItemDoneEvent, ThreadItemReplacedEvent, WidgetItem
from fastapi import FastAPI

from backend.app import create_app
from backend.context import RequestContext
from backend.settings import BackendSettings
from shared_widgets import offered_actions
from tests.backend.conftest import (
    AUDIENCE,
    AUTH_SECRET,
    ISSUER,
    ChatKitClient,
    parse_sse,
    user_input,
    user_token,
)

CONFIG = Path(__file__).resolve().parents[2] / "mcp_servers.json"
DESCRIBED = re.compile(r"(task_\w+) '([^']*)' \((pending|completed), (\w+) priority(?:, due ([\d-]+))?\)")
MODES = ["sync", "stream"]


def backend_settings(
    directory: Path, database_url: str | None = None, config: Path = CONFIG
) -> BackendSettings:
    return BackendSettings(
        DATABASE_URL=database_url or f"sqlite+aiosqlite:///{directory / 'chat.db'}",
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=config,
    )


async def started(
    directory: Path, *, agent: Agent[Any] | None = None, **options: Any
) -> AsyncIterator[FastAPI]:
    """The app with the tool servers on databases in `directory`, its lifespan entered (`agent`
    replaces the offline assistant)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TASKS_DATABASE_URL", f"sqlite+aiosqlite:///{directory / 'tasks.db'}")
        patch.setenv("ITEMS_DATABASE_URL", f"sqlite+aiosqlite:///{directory / 'items.db'}")
        application = create_app(backend_settings(directory, **options), agent=agent)
        async with application.router.lifespan_context(application):
            yield application


@asynccontextmanager
async def user_of_own_app(directory: Path, **options: Any) -> AsyncIterator[User]:
    """A user of an app of its own (options as for `started`)."""
    async for application in started(directory, **options):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
            yield User(client)


class User:
    """A ChatKit client for one user, with what these tests do often."""

    def __init__(self, http: httpx2.AsyncClient, name: str | None = None) -> None:
        self.name = name or f"user_{uuid.uuid4().hex[:10]}"
        self.client = ChatKitClient(http, user_token(self.name))
        self.context = RequestContext(user_id=self.name)

    async def say(self, text: str, thread_id: str | None = None) -> tuple[str, list[Any]]:
        """One message; (thread id, events)."""
        if thread_id is None:
            return await self.client.create_thread(text)
        return thread_id, await self.client.stream(
            "threads.add_user_message", thread_id=thread_id, input=user_input(text)
        )

    async def widget(self, text: str, thread_id: str | None = None) -> tuple[str, WidgetItem]:
        """Say `text`; the thread and the widget the reply shows."""
        thread_id, events = await self.say(text, thread_id)
        widgets = [
            e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)
        ]
        assert len(widgets) == 1, [event.type for event in events]
        return thread_id, widgets[0]

    async def listed(self, *titles: str) -> tuple[str, WidgetItem, dict[str, str]]:
        """Add these tasks, then list them: the thread, the list widget, and title -> task id."""
        for title in titles:
            await self.say(f"add task {title}")
        thread_id, listing = await self.widget("list tasks")
        ids = {title: task_id for task_id, (title, *_) in (await self.tasks()).items()}
        return thread_id, listing, ids

    def request(
        self, mode: str, thread_id: str, item_id: str | None, kind: str, payload: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"thread_id": thread_id, "action": {"type": kind, "payload": payload}}
        if item_id is not None:
            params["item_id"] = item_id
        return {"type": f"threads.{'sync_' if mode == 'sync' else ''}custom_action", "params": params}

    async def act(
        self, mode: str, thread_id: str, item: WidgetItem, kind: str, payload: dict[str, Any]
    ) -> tuple[WidgetItem | None, list[WidgetItem]]:
        """An action that must succeed: the clicked widget's new form (None: unchanged) and the
        widgets it added (what the stream carried; for a sync request, the thread's new widgets)."""
        before = {entry["id"] for entry in await self.items(thread_id)}
        response = await self.client.post(self.request(mode, thread_id, item.id, kind, payload))
        assert response.status_code == 200, response.text
        if mode == "sync":
            updated = WidgetItem.model_validate(response.json()["updated_item"])
            added = [
                WidgetItem.model_validate(entry)
                for entry in await self.items(thread_id)
                if entry["id"] not in before and entry["type"] == "widget"
            ]
            return (None if updated.widget == item.widget else updated), added
        events = parse_sse(response.content)
        assert not [event for event in events if event.type == "error"], events
        replaced = [e.item for e in events if isinstance(e, ThreadItemReplacedEvent)]
        done = [e.item for e in events if isinstance(e, ThreadItemDoneEvent)]
        assert all(isinstance(entry, WidgetItem) for entry in replaced + done)
        assert len(replaced) <= 1 and all(entry.id == item.id for entry in replaced)
        return (replaced[0] if replaced else None), done  # type: ignore[return-value]

    async def refused(
        self, mode: str, thread_id: str, item_id: str | None, kind: str, payload: Any
    ) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(self.request(mode, thread_id, item_id, kind, payload))
        assert response.status_code >= 400, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.status_code, response.json()["error"]

    async def items(self, thread_id: str) -> list[dict[str, Any]]:
        page = await self.client.call("items.list", thread_id=thread_id, limit=100, order="asc")
        return list(page["data"])

    async def stored(self, thread_id: str, item_id: str) -> WidgetItem:
        """The widget item as `items.list` returns it now."""
        entry = next(entry for entry in await self.items(thread_id) if entry["id"] == item_id)
        return WidgetItem.model_validate(entry)

    async def tasks(self) -> dict[str, tuple[str, str, str, str | None]]:
        """What the tasks server says now (asked in a thread of its own): id -> (title, status,
        priority, due date)."""
        _, events = await self.say("list tasks")
        reply = next(
            e.item
            for e in events
            if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
        )
        return {
            match[0]: (match[1], match[2], match[3], match[4] or None)
            for match in DESCRIBED.findall(reply.content[0].text)
        }


def control(item: WidgetItem, kind: str, **payload: Any) -> dict[str, Any]:
    """The payload of the control of `item` that sends `kind` (with `payload` among its keys)."""
    for offered in offered_actions(item.widget.model_dump(exclude_none=True)):
        if offered.type == kind and all(offered.payload.get(key) == value for key, value in payload.items()):
            return dict(offered.payload)
    raise AssertionError(f"{kind} {payload} is not offered by {item.id}")


def has_control(item: WidgetItem, kind: str) -> bool:
    return any(offered.type == kind for offered in offered_actions(item.widget.model_dump(exclude_none=True)))


def raw(item: WidgetItem) -> str:
    return json.dumps(item.widget.model_dump(exclude_none=True), ensure_ascii=False)


def task_id_of(card: WidgetItem) -> str:
    return control(card, "tasks.edit")["task_id"]


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    """One app for the test module that imports this fixture; each test acts as a user of its own."""
    async for application in started(tmp_path_factory.mktemp("tool-app")):
        yield application


@pytest.fixture(scope="module")
async def http(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """A client of that app, in process."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
        yield client


@pytest.fixture
def alice(http: httpx2.AsyncClient) -> User:
    """A user of that app, new for each test."""
    return User(http)
