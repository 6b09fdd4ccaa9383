"""The check every fault test ends with, over the ChatKit protocol on HTTP: the next turn works,
the thread is consistent, and nothing of the earlier turns is lost.

Consistent means: no item id twice, items in time order, `threads.get_by_id` agrees with
`items.list`, and every user message is answered (an assistant message, or the note of a failed
turn, comes before the next user message). Nothing lost means: the items seen before the fault are
all still there, first, in the same order.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatkit.types import AssistantMessageItem, ErrorEvent, ThreadItemDoneEvent, ThreadStreamEvent

from tests.backend.conftest import ChatKitClient, parse_sse, user_input

FAILURE_NOTE = "(No reply:"  # how the note of a failed turn starts (backend/agent/failures.py)
PAGE = 50


@dataclass
class Turn:
    """One streamed turn as the client saw it: the HTTP status, its events, the thread's id."""

    status: int
    events: list[ThreadStreamEvent]
    thread_id: str | None

    @property
    def errors(self) -> list[ErrorEvent]:
        """The turn's error events."""
        return [event for event in self.events if isinstance(event, ErrorEvent)]

    @property
    def replies(self) -> list[str]:
        """The text of every assistant message the turn finished."""
        return [
            "".join(part.text for part in event.item.content)
            for event in self.events
            if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem)
        ]


def message_request(thread_id: str | None, text: str) -> dict[str, Any]:
    """The ChatKit request that sends a user message (a new thread when `thread_id` is None)."""
    if thread_id is None:
        return {"type": "threads.create", "params": {"input": user_input(text)}}
    return {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input(text)}}


async def say(client: ChatKitClient, thread_id: str | None, text: str) -> Turn:
    """One user message (a new thread when `thread_id` is None), streamed to its end."""
    response = await client.post(message_request(thread_id, text))
    events = parse_sse(response.content) if response.status_code == 200 else []
    created = next((event.thread.id for event in events if event.type == "thread.created"), None)
    return Turn(response.status_code, events, created or thread_id)


async def live_events(
    client: ChatKitClient, thread_id: str | None, text: str
) -> AsyncGenerator[ThreadStreamEvent, None]:
    """The events of one user message as they arrive (to act in the middle of a turn)."""
    headers = client.headers | {"Content-Type": "application/json"}
    body = json.dumps(message_request(thread_id, text))
    async with client.http.stream("POST", "/chatkit", content=body, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        buffer = b""
        async for chunk in response.aiter_bytes():
            buffer += chunk
            while b"\n\n" in buffer:
                frame, buffer = buffer.split(b"\n\n", 1)
                for event in parse_sse(frame + b"\n\n"):
                    yield event


async def thread_items(client: ChatKitClient, thread_id: str) -> list[dict[str, Any]]:
    """Every item of the thread, oldest first, page by page through `items.list`."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"thread_id": thread_id, "limit": PAGE, "order": "asc"}
        if after is not None:
            params["after"] = after
        page = await client.call("items.list", **params)
        items.extend(page["data"])
        if not page["has_more"]:
            return items
        after = page["after"]


def text_of(item: dict[str, Any]) -> str:
    """A message item's text."""
    return "".join(str(part.get("text", "")) for part in item.get("content", []))


def is_failure_note(item: dict[str, Any]) -> bool:
    """Whether the item is the note a failed turn leaves."""
    return item["type"] == "assistant_message" and text_of(item).startswith(FAILURE_NOTE)


def inconsistencies(items: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a thread's items (oldest first); empty when the thread is consistent."""
    problems = []
    ids = [item["id"] for item in items]
    if len(set(ids)) != len(ids):
        problems.append(f"duplicate item ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    times = [datetime.fromisoformat(item["created_at"]) for item in items]
    if times != sorted(times):
        problems.append("items are out of time order")
    unanswered: str | None = None
    for item in items:
        if item["type"] == "user_message":
            if unanswered is not None:
                problems.append(f"user message {unanswered} has neither a reply nor a failure note")
            unanswered = item["id"]
        elif item["type"] == "assistant_message":
            unanswered = None
    if unanswered is not None:
        problems.append(f"the last user message {unanswered} has neither a reply nor a failure note")
    return problems


async def assert_consistent(client: ChatKitClient, thread_id: str) -> list[dict[str, Any]]:
    """The thread's items (oldest first), after checking they are consistent and that
    `threads.get_by_id` shows the same first page."""
    items = await thread_items(client, thread_id)
    problems = inconsistencies(items)
    assert not problems, (problems, [(item["type"], text_of(item)[:60]) for item in items])
    thread = await client.call("threads.get_by_id", thread_id=thread_id)
    assert thread["id"] == thread_id
    assert [item["id"] for item in thread["items"]["data"]] == [item["id"] for item in items][
        : len(thread["items"]["data"])
    ]
    return items


def assert_kept(earlier: list[dict[str, Any]], items: list[dict[str, Any]]) -> None:
    """Every item seen before (`earlier`) is still there, first, in order and unchanged in kind
    and text."""
    kept = [(item["id"], item["type"], text_of(item)) for item in items[: len(earlier)]]
    assert kept == [(item["id"], item["type"], text_of(item)) for item in earlier], "earlier items lost"


async def assert_recovered(
    client: ChatKitClient,
    thread_id: str,
    earlier: list[dict[str, Any]],
    *,
    message: str = "are you still there?",
    reply: str | None = None,
) -> list[dict[str, Any]]:
    """The end of every fault test: the next turn works (no error event; its reply, when given,
    is `reply`), the thread is consistent and every earlier item is kept. The items, oldest first."""
    turn = await say(client, thread_id, message)
    assert turn.status == 200, turn.status
    assert not turn.errors, [(error.code, error.message) for error in turn.errors]
    assert turn.replies, [event.type for event in turn.events]
    if reply is not None:
        assert turn.replies[-1] == reply
    items = await assert_consistent(client, thread_id)
    assert_kept(earlier, items)
    user_messages = [item for item in items if item["type"] == "user_message"]
    assert text_of(user_messages[-1]) == message
    return items
