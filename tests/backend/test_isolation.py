"""User B tries every request type against user A's threads, items, feedback and attachments: 404."""

from __future__ import annotations

from typing import Any

from chatkit.types import AssistantMessageItem, ThreadItemDoneEvent, UserMessageItem
from fastapi import FastAPI

from backend.context import RequestContext
from tests.backend.conftest import ChatKitClient, user_input


async def alices_world(alice: ChatKitClient) -> dict[str, str]:
    """A thread with a user message, a reply and an attachment, all Alice's."""
    attachment = await alice.call("attachments.create", name="a.txt", size=3, mime_type="text/plain")
    thread_id, events = await alice.create_thread("alice private thread")
    done = [e.item for e in events if isinstance(e, ThreadItemDoneEvent)]
    user = next(item for item in done if isinstance(item, UserMessageItem))
    reply = next(item for item in done if isinstance(item, AssistantMessageItem))
    return {"thread": thread_id, "user_item": user.id, "reply": reply.id, "attachment": attachment["id"]}


def attacks(ids: dict[str, str]) -> list[dict[str, Any]]:
    """Every request type aimed at Alice's objects."""
    thread, action = ids["thread"], {"type": "x", "payload": {}}
    return [
        {"type": "threads.get_by_id", "params": {"thread_id": thread}},
        {"type": "threads.update", "params": {"thread_id": thread, "title": "pwned"}},
        {"type": "threads.delete", "params": {"thread_id": thread}},
        {"type": "items.list", "params": {"thread_id": thread}},
        {
            "type": "items.feedback",
            "params": {"thread_id": thread, "item_ids": [ids["reply"]], "kind": "negative"},
        },
        {"type": "threads.add_user_message", "params": {"thread_id": thread, "input": user_input("hi")}},
        {"type": "threads.retry_after_item", "params": {"thread_id": thread, "item_id": ids["user_item"]}},
        {"type": "threads.add_client_tool_output", "params": {"thread_id": thread, "result": {}}},
        {
            "type": "threads.add_structured_input",
            "params": {
                "thread_id": thread,
                "item_id": ids["user_item"],
                "input": {"status": "answered", "answers": {}},
            },
        },
        {
            "type": "threads.custom_action",
            "params": {"thread_id": thread, "item_id": ids["reply"], "action": action},
        },
        {"type": "threads.sync_custom_action", "params": {"thread_id": thread, "action": action}},
        {"type": "attachments.delete", "params": {"attachment_id": ids["attachment"]}},
        {"type": "threads.create", "params": {"input": user_input("steal", [ids["attachment"]])}},
        {"type": "threads.list", "params": {"after": thread}},
    ]


async def test_every_request_type_against_another_users_objects_is_404(
    alice: ChatKitClient, bob: ChatKitClient, app: FastAPI
) -> None:
    """Bob gets 404 for each request naming Alice's objects, and nothing of Alice's changes."""
    ids = await alices_world(alice)
    before = await alice.call("threads.get_by_id", thread_id=ids["thread"])
    for payload in attacks(ids):
        response = await bob.post(payload)
        assert response.status_code == 404, (payload["type"], response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_found"
        assert "alice" not in response.text
    assert await alice.call("threads.get_by_id", thread_id=ids["thread"]) == before
    assert await app.state.store.load_feedback(ids["thread"], RequestContext(user_id="alice")) == {}
    assert (await alice.call("threads.list"))["data"][0]["id"] == ids["thread"]
    assert (await bob.call("threads.list"))["data"] == []


async def test_another_users_upload_url_is_404(alice: ChatKitClient, bob: ChatKitClient) -> None:
    """Bob cannot upload into Alice's attachment."""
    attachment = await alice.call("attachments.create", name="a.txt", size=3, mime_type="text/plain")
    response = await bob.http.post(
        attachment["upload_descriptor"]["url"], content=b"abc", headers=bob.headers
    )
    assert response.status_code == 404
    assert (
        await alice.http.post(attachment["upload_descriptor"]["url"], content=b"abc", headers=alice.headers)
    ).status_code == 200
