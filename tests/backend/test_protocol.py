"""Every ChatKit request type over HTTP against the app, with SSE frames parsed into SDK events."""

from __future__ import annotations

from datetime import UTC, timedelta
from urllib.parse import urlsplit

import httpx2
from chatkit.types import (
    AssistantMessageItem,
    Thread,
    ThreadCreatedEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadUpdatedEvent,
    UserMessageItem,
)
from fastapi import FastAPI

from backend.context import RequestContext
from tests.backend.conftest import ChatKitClient, user_input


def assistant_text(events: list) -> tuple[str, str]:
    """The streamed assistant message: (text joined from deltas, text of the final done event)."""
    deltas = [
        event.update.delta
        for event in events
        if isinstance(event, ThreadItemUpdatedEvent)
        and event.update.type == "assistant_message.content_part.text_delta"
    ]
    done = [
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    ]
    assert len(done) == 1
    return "".join(deltas), done[0].content[0].text


async def test_threads_create_streams_a_reply_in_deltas_and_a_title(alice: ChatKitClient) -> None:
    """threads.create: thread.created, the user message, an assistant reply in several deltas, a title."""
    thread_id, events = await alice.create_thread("Plan my week of meals please, with lots of vegetables")
    kinds = [event.type for event in events]
    assert kinds[0] == "thread.created"
    assert isinstance(events[0], ThreadCreatedEvent)
    user = next(
        e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, UserMessageItem)
    )
    assert user.content[0].text.startswith("Plan my week")
    assert "stream_options" in kinds
    assert any(
        isinstance(e, ThreadItemAddedEvent) and isinstance(e.item, AssistantMessageItem) for e in events
    )
    streamed, final = assistant_text(events)
    assert streamed == final
    assert "Plan my week of meals" in final
    assert sum(1 for e in events if isinstance(e, ThreadItemUpdatedEvent)) >= 3
    titles = [e.thread.title for e in events if isinstance(e, ThreadUpdatedEvent)]
    assert titles == ["Plan my week of meals please,…"]
    thread = await alice.call("threads.get_by_id", thread_id=thread_id)
    assert thread["title"] == "Plan my week of meals please,…"


async def test_add_user_message_answers_from_the_thread_history(alice: ChatKitClient) -> None:
    """threads.add_user_message: the thread goes on, the reply answers the newest message (the
    model's view of the history: tests/backend/test_app.py)."""
    thread_id, _ = await alice.create_thread("first")
    events = await alice.stream("threads.add_user_message", thread_id=thread_id, input=user_input("second"))
    _, text = assistant_text(events)
    assert "second" in text and "first" not in text
    items = (await alice.call("items.list", thread_id=thread_id, order="asc"))["data"]
    assert [item["type"] for item in items] == ["user_message", "assistant_message"] * 2
    assert not any(isinstance(e, ThreadUpdatedEvent) for e in events)  # the title is set once


async def test_get_by_id_and_items_list_return_the_conversation(alice: ChatKitClient) -> None:
    """threads.get_by_id and items.list give the items in order, with timezone-aware timestamps."""
    thread_id, _ = await alice.create_thread("hello")
    await alice.stream("threads.add_user_message", thread_id=thread_id, input=user_input("again"))
    thread = Thread.model_validate(await alice.call("threads.get_by_id", thread_id=thread_id))
    assert [item.type for item in thread.items.data] == ["user_message", "assistant_message"] * 2
    assert thread.created_at.tzinfo is not None
    assert thread.created_at.astimezone(UTC).utcoffset().total_seconds() == 0
    newest = await alice.call("items.list", thread_id=thread_id, limit=3, order="desc")
    assert [item["type"] for item in newest["data"]] == [
        "assistant_message",
        "user_message",
        "assistant_message",
    ]
    assert newest["has_more"] is True
    rest = await alice.call("items.list", thread_id=thread_id, limit=3, order="desc", after=newest["after"])
    assert [item["id"] for item in rest["data"]] == [thread.items.data[0].id]
    assert rest["has_more"] is False


async def test_every_timestamp_on_the_wire_is_utc(alice: ChatKitClient) -> None:
    """Streamed items (stamped by the SDK) and stored ones (read back) both carry a UTC offset, and a
    streamed item's time is the one items.list gives for it later."""
    thread_id, events = await alice.create_thread("hello")
    streamed = {e.item.id: e.item.created_at for e in events if isinstance(e, ThreadItemDoneEvent)}
    created = next(e.thread.created_at for e in events if isinstance(e, ThreadCreatedEvent))
    assert streamed and all(moment.utcoffset() == timedelta(0) for moment in [created, *streamed.values()])
    stored = Thread.model_validate(await alice.call("threads.get_by_id", thread_id=thread_id))
    assert stored.created_at == created and stored.created_at.utcoffset() == timedelta(0)
    assert {item.id: item.created_at for item in stored.items.data} == streamed
    listed = await alice.call("threads.list", limit=5, order="desc")
    assert all(entry["created_at"].endswith("Z") for entry in listed["data"])


async def test_threads_list_pages_newest_first(alice: ChatKitClient) -> None:
    """threads.list pages through the caller's threads with an exclusive cursor."""
    ids = [(await alice.create_thread(f"thread {n}"))[0] for n in range(5)]
    first = await alice.call("threads.list", limit=2, order="desc")
    assert [thread["id"] for thread in first["data"]] == ids[::-1][:2]
    assert first["has_more"] is True
    second = await alice.call("threads.list", limit=10, order="desc", after=first["after"])
    assert [thread["id"] for thread in second["data"]] == ids[::-1][2:]
    assert second["has_more"] is False


async def test_update_and_delete_a_thread(alice: ChatKitClient) -> None:
    """threads.update renames (persisted); threads.delete removes the thread and its items."""
    thread_id, _ = await alice.create_thread("to be renamed")
    too_long = await alice.post(
        {"type": "threads.update", "params": {"thread_id": thread_id, "title": "x" * 201}}
    )
    assert too_long.status_code == 400
    renamed = await alice.call("threads.update", thread_id=thread_id, title="Groceries")
    assert renamed["title"] == "Groceries"
    assert (await alice.call("threads.get_by_id", thread_id=thread_id))["title"] == "Groceries"
    assert await alice.call("threads.delete", thread_id=thread_id) == {}
    gone = await alice.post({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    listed = await alice.post({"type": "items.list", "params": {"thread_id": thread_id}})
    assert listed.status_code == 404


async def test_feedback_is_persisted(alice: ChatKitClient, app: FastAPI) -> None:
    """items.feedback stores the kind for each item of the caller's thread."""
    thread_id, events = await alice.create_thread("rate me")
    reply = next(
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    )
    assert await alice.call("items.feedback", thread_id=thread_id, item_ids=[reply.id], kind="positive") == {}
    stored = await app.state.store.load_feedback(thread_id, RequestContext(user_id="alice"))
    assert stored == {reply.id: "positive"}


async def test_retry_after_item_replaces_the_reply(alice: ChatKitClient) -> None:
    """threads.retry_after_item drops what followed the user message and answers again."""
    thread_id, events = await alice.create_thread("retry me")
    user = next(
        e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, UserMessageItem)
    )
    first_reply = next(
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    )
    retried = await alice.stream("threads.retry_after_item", thread_id=thread_id, item_id=user.id)
    _, text = assistant_text(retried)
    assert "retry me" in text
    items = (await alice.call("items.list", thread_id=thread_id, order="asc"))["data"]
    assert [item["type"] for item in items] == ["user_message", "assistant_message"]
    assert items[1]["id"] != first_reply.id


async def test_attachments_create_upload_use_and_delete(
    alice: ChatKitClient, http: httpx2.AsyncClient
) -> None:
    """attachments.create gives an upload URL; the bytes are stored; a message uses it; delete removes it."""
    created = await alice.call("attachments.create", name="notes.txt", size=11, mime_type="text/plain")
    upload_url = created["upload_descriptor"]["url"]
    assert urlsplit(upload_url).path == f"/chatkit/upload/{created['id']}"
    uploaded = await http.post(upload_url, content=b"hello notes", headers=alice.headers)
    assert uploaded.status_code == 200, uploaded.text
    thread_id, events = await alice.create_thread("see attached")
    events = await alice.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input("with file", [created["id"]])
    )
    user = next(
        e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, UserMessageItem)
    )
    assert [attachment.id for attachment in user.attachments] == [created["id"]]
    downloaded = await http.get(f"/chatkit/attachments/{created['id']}", headers=alice.headers)
    assert (downloaded.status_code, downloaded.content) == (200, b"hello notes")
    assert downloaded.headers["content-type"].startswith("text/plain")
    assert (await http.get(f"/chatkit/attachments/{created['id']}")).status_code == 401
    assert await alice.call("attachments.delete", attachment_id=created["id"]) == {}
    assert (await http.get(f"/chatkit/attachments/{created['id']}", headers=alice.headers)).status_code == 404
    again = await alice.post({"type": "attachments.delete", "params": {"attachment_id": created["id"]}})
    assert again.status_code == 404


async def test_unsupported_requests_are_clear_4xx(alice: ChatKitClient) -> None:
    """Transcription, widget actions without a widget, client tool output and structured input
    without a question: 4xx."""
    thread_id, events = await alice.create_thread("hi")
    user = next(
        e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, UserMessageItem)
    )
    action = {"type": "demo.click", "payload": {}}
    cases = [
        ({"type": "input.transcribe", "params": {"audio_base64": "AAAA", "mime_type": "audio/webm"}}, 400),
        (
            {
                "type": "threads.custom_action",
                "params": {"thread_id": thread_id, "item_id": None, "action": action},
            },
            400,
        ),
        ({"type": "threads.sync_custom_action", "params": {"thread_id": thread_id, "action": action}}, 400),
        ({"type": "threads.add_client_tool_output", "params": {"thread_id": thread_id, "result": {}}}, 400),
        (
            {
                "type": "threads.add_structured_input",
                "params": {
                    "thread_id": thread_id,
                    "item_id": user.id,
                    "input": {"status": "answered", "answers": {}},
                },
            },
            400,
        ),
    ]
    for payload, status in cases:
        response = await alice.post(payload)
        assert response.status_code == status, (payload["type"], response.text)
        assert response.json()["error"]["message"]


async def test_the_offline_model_says_what_it_is_and_what_it_understands(alice: ChatKitClient) -> None:
    """Anything it does not understand gets an honest short answer; "help" lists every phrase."""
    _, events = await alice.create_thread("what is the weather like?")
    _, text = assistant_text(events)
    assert "offline model" in text
    assert "“help”" in text
    _, events = await alice.create_thread("help")
    _, text = assistant_text(events)
    for phrase in (
        "add task <title>",
        "list tasks",
        "complete task <id>",
        "rename task <id> to <title>",
        "search <words>",
    ):
        assert f"“{phrase}”" in text
