"""Reasoning models: the "Thought for Ns" workflow the SDK stores at the end of a turn and continues
on a later one (when the thread's last items are that workflow and a client tool call). Continuing
it, the SDK subtracts the stored workflow's `created_at` from its naive `datetime.now()`: this runs
the Store's timezone policy through that path over HTTP, with a provider that streams reasoning,
on SQLite and Postgres."""

from __future__ import annotations

from datetime import datetime

import pytest
from chatkit.types import (
    AssistantMessageItem,
    ClientToolCallItem,
    DurationSummary,
    ErrorEvent,
    ThreadItemDoneEvent,
    WorkflowItem,
)

from backend.attachment_links import AttachmentLinks
from backend.context import RequestContext
from backend.db import create_engine
from backend.store import SqlStore
from tests.providers.conftest import Backend
from tests.providers.fake_llm import FakeLLM, Reasoning, Text

pytestmark = pytest.mark.e2e


async def add_pending_client_tool_call(database_url: str, thread_id: str) -> None:
    """What a turn that ended in a client tool call leaves last in the thread (our agent makes none)."""
    engine = create_engine(database_url)
    store = SqlStore(engine, links=AttachmentLinks("x" * 48, "http://127.0.0.1"))
    alice = RequestContext(user_id="alice")
    try:
        thread = await store.load_thread(thread_id, alice)
        call = ClientToolCallItem(
            id=store.generate_item_id("tool_call", thread, alice),
            thread_id=thread_id,
            created_at=datetime.now(),
            name="get_location",
            arguments={},
            call_id="call_location_1",
        )
        await store.add_thread_item(thread_id, call, alice)
    finally:
        await engine.dispose()


async def test_a_stored_reasoning_workflow_is_continued_and_ended(
    backend: Backend, fake_llm: FakeLLM, database_url: str
) -> None:
    """Turn one only thinks (the SDK stores the open workflow); after the client tool's output the
    model thinks on and answers: the SDK continues the stored workflow and ends it with its
    duration, with no error (a UTC-aware stored time would make that subtraction raise)."""
    fake_llm.push(
        Reasoning("Where ", "is the user?"),
        Reasoning("Near the station.", then=Text("Take ", "the train.")),
    )
    async with backend("openai", DATABASE_URL=database_url) as alice:
        thread_id, first = await alice.create_thread("train or bus?")
        assert not [event for event in first if isinstance(event, ErrorEvent)]
        stored = (await alice.call("items.list", thread_id=thread_id, limit=10, order="desc"))["data"]
        assert stored[0]["type"] == "workflow"  # kept open for the next turn
        await add_pending_client_tool_call(database_url, thread_id)
        second = await alice.stream(
            "threads.add_client_tool_output", thread_id=thread_id, result={"city": "Lyon"}
        )
    assert not [event for event in second if isinstance(event, ErrorEvent)], second
    done = [event.item for event in second if isinstance(event, ThreadItemDoneEvent)]
    workflows = [item for item in done if isinstance(item, WorkflowItem)]
    assert [item.id for item in workflows] == [stored[0]["id"]]  # the stored one, continued and ended
    summary = workflows[0].workflow.summary
    assert isinstance(summary, DurationSummary) and 0 <= summary.duration < 60
    assert [len(item.workflow.tasks) for item in workflows] == [2]  # both thoughts, in one workflow
    replies = [item.content[0].text for item in done if isinstance(item, AssistantMessageItem)]
    assert replies == ["Take the train."]
