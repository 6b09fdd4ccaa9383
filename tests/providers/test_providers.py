"""The real provider paths (Responses; Gemini and OpenAI-compatible Chat Completions) against a
scripted model server on 127.0.0.1, over HTTP: multi-turn threads, tool calls on the real MCP
servers, provider errors, start-up checks. The key only ever travels in the model's auth header."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
from typing import Any

import anyio
import httpx2
import openai
import pytest
from agents import flush_traces
from agents.tracing import default_exporter
from chatkit.types import (
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ErrorEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
    WidgetItem,
)
from pydantic import ValidationError

from backend.agent.failures import provider_failure
from backend.settings import BackendSettings
from tests.backend.conftest import ChatKitClient, parse_sse, user_input
from tests.providers.conftest import KEY, PROVIDERS, Backend
from tests.providers.fake_llm import Broken, Error, FakeLLM, Text, ToolCall

pytestmark = pytest.mark.e2e


async def send(alice: ChatKitClient, thread_id: str | None, text: str) -> tuple[str, list[ThreadStreamEvent]]:
    """One user message over HTTP (a new thread when `thread_id` is None); the thread id and events."""
    if thread_id is None:
        return await alice.create_thread(text)
    return thread_id, await alice.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input(text)
    )


def replies(events: list[ThreadStreamEvent]) -> list[AssistantMessageItem]:
    return [
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    ]


def deltas(events: list[ThreadStreamEvent]) -> list[tuple[str, str]]:
    """(item id, text) of every streamed text delta."""
    updates = [e for e in events if isinstance(e, ThreadItemUpdatedEvent)]
    return [
        (e.item_id, e.update.delta)
        for e in updates
        if isinstance(e.update, AssistantMessageContentPartTextDelta)
    ]


async def stored(alice: ChatKitClient, thread_id: str) -> list[dict[str, Any]]:
    return (await alice.call("items.list", thread_id=thread_id, limit=100, order="asc"))["data"]


def texts(item: dict[str, Any]) -> str:
    """A stored message's text."""
    return "".join(part.get("text", "") for part in item.get("content", []))


def tool_outputs(body: dict[str, Any]) -> dict[str, str]:
    """call id → tool output, from a Responses or a Chat Completions request body."""
    if "input" in body:
        items = [i for i in body["input"] if isinstance(i, dict) and i.get("type") == "function_call_output"]
        return {i["call_id"]: json.dumps(i["output"]) for i in items}
    return {m["tool_call_id"]: json.dumps(m["content"]) for m in body["messages"] if m["role"] == "tool"}


def leaks_key(text: str, key: str = KEY) -> bool:
    """Whether any 8 characters of the key appear in `text` (a masked key shows 3 + 4)."""
    return any(key[start : start + 8] in text for start in range(len(key) - 7))


def assert_key_only_in_auth_headers(fake: FakeLLM, *texts: str) -> None:
    assert fake.requests
    for seen in fake.requests:
        assert seen.headers["authorization"] == f"Bearer {KEY}"
        assert not leaks_key(json.dumps(seen.body))
        assert not leaks_key(json.dumps({k: v for k, v in seen.headers.items() if k != "authorization"}))
    for text in texts:
        assert not leaks_key(text)


@pytest.mark.parametrize(
    "provider",
    [
        "openai",
        "gemini",
        "openai-compatible",
    ],
)
async def test_three_turns_keep_three_distinct_replies(
    backend: Backend, fake_llm: FakeLLM, provider: str
) -> None:
    """Every reply is its own item (no `__fake_id__`, no overwrite) with the text that was streamed."""
    scripted = [["Hel", "lo, ", "Alice."], ["Second ", "answer ", "here."], ["Third", " and ", "last."]]
    fake_llm.push(*(Text(*pieces) for pieces in scripted))
    async with backend(provider) as alice:
        thread_id, turns = None, []
        for text in ("first question", "second question", "third question"):
            thread_id, events = await send(alice, thread_id, text)
            turns.append(events)
        items = await stored(alice, thread_id)
    assert [item["type"] for item in items] == ["user_message", "assistant_message"] * 3
    answers = [item for item in items if item["type"] == "assistant_message"]
    ids = [item["id"] for item in answers]
    assert len(set(ids)) == 3
    assert "__fake_id__" not in ids
    assert [item["content"][0]["text"] for item in answers] == ["".join(pieces) for pieces in scripted]
    for events, pieces, item_id in zip(turns, scripted, ids, strict=True):
        added = [
            e.item.id
            for e in events
            if isinstance(e, ThreadItemAddedEvent) and e.item.type == "assistant_message"
        ]
        assert added == [item_id]
        assert deltas(events) == [(item_id, piece) for piece in pieces]
        assert [(r.id, r.content[0].text) for r in replies(events)] == [(item_id, "".join(pieces))]
    assert len(fake_llm.requests) == 3
    history = json.dumps(fake_llm.requests[-1].body)  # the model sees the whole thread, oldest first
    seen = ["first question", "Hello, Alice.", "second question", "Second answer here.", "third question"]
    assert [history.find(text) for text in seen] == sorted(history.find(text) for text in seen)
    assert -1 not in [history.find(text) for text in seen]
    assert_key_only_in_auth_headers(fake_llm, json.dumps(items))


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_tool_calls_run_on_the_mcp_servers(backend: Backend, fake_llm: FakeLLM, provider: str) -> None:
    """One turn: a message and an add_task call, then list_tasks, then a last message. Each call's
    output reaches the model, each result is a widget, the call with side effects (add_task, not the
    read-only list_tasks) leaves its record, the two messages stay two items."""
    add = ToolCall("add_task", {"title": "buy milk"}, before=("Adding ", "it."))
    listing = ToolCall("list_tasks", {"status": "pending"})
    fake_llm.push(add, listing, Text("One ", "task ", "left."))
    async with backend(provider, tools=True) as alice:
        thread_id, events = await send(alice, None, "please remember to buy milk")
        items = await stored(alice, thread_id)
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    done = [e.item for e in events if isinstance(e, ThreadItemDoneEvent) and e.item.type != "user_message"]
    assert [item.type for item in done] == [
        "assistant_message",
        "widget",
        "task",
        "widget",
        "assistant_message",
    ]
    assert all("buy milk" in item.widget.model_dump_json() for item in done if isinstance(item, WidgetItem))
    assert [r.content[0].text for r in replies(events)] == ["Adding it.", "One task left."]
    # The record is stored when the call starts (it streams as added then), before the call's widget;
    # on the Chat Completions path the text before the call is stored when it ends, after the record.
    stored_types = [item["type"] for item in items]
    assert sorted(stored_types) == sorted(["user_message", *(item.type for item in done)])
    assert stored_types[0] == "user_message" and stored_types[-1] == "assistant_message"
    assert stored_types.index("task") < stored_types.index("widget")
    ids = [item["id"] for item in items if item["type"] == "assistant_message"]
    assert len(set(ids)) == 2
    assert "__fake_id__" not in ids
    assert [text for _, text in deltas(events)] == ["Adding ", "it.", "One ", "task ", "left."]
    assert len(fake_llm.requests) == 3
    assert tool_outputs(fake_llm.requests[0].body) == {}
    added = tool_outputs(fake_llm.requests[1].body)
    assert list(added) == [add.call_id]
    assert "buy milk" in added[add.call_id]
    task_id = re.search(r"task_[0-9a-z]{12}", added[add.call_id]).group()
    listed = tool_outputs(fake_llm.requests[2].body)
    assert list(listed) == [add.call_id, listing.call_id]
    assert "buy milk" in listed[listing.call_id]
    assert task_id in listed[listing.call_id]
    if provider == "gemini":  # Gemini 3 refuses a follow-up without the call's thought signature
        assert "c2lnbmF0dXJl" in json.dumps(fake_llm.requests[1].body["messages"])
    assert_key_only_in_auth_headers(fake_llm, json.dumps(items))


@pytest.mark.parametrize("provider", ["openai", "gemini"])
async def test_server_errors_are_retried_then_reported(
    backend: Backend, fake_llm: FakeLLM, provider: str
) -> None:
    """500 twice with one retry allowed: an `error` event (retry allowed) in a 200 SSE answer, the user
    message kept, no partial reply stored; the next turn works."""
    fake_llm.push(Error(500), Error(500), Text("Back ", "again."))
    async with backend(provider, LLM_MAX_RETRIES=1) as alice:
        response = await alice.post({"type": "threads.create", "params": {"input": user_input("hello")}})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.content)
        errors = [e for e in events if isinstance(e, ErrorEvent)]
        assert [(e.code, e.message, e.allow_retry) for e in errors] == [
            ("custom", "The AI provider had an error (HTTP 500); try again.", True)
        ]
        assert len(fake_llm.requests) == 2  # the client retried once
        thread_id = next(e.thread.id for e in events if e.type == "thread.created")
        assert [texts(item) for item in await stored(alice, thread_id)] == [
            "hello",
            "(No reply: the AI provider had an error. Try again.)",
        ]
        _, events = await send(alice, thread_id, "hello again")
        assert [r.content[0].text for r in replies(events)] == ["Back again."]
        assert [item["type"] for item in await stored(alice, thread_id)] == [
            "user_message",
            "assistant_message",
            "user_message",
            "assistant_message",
        ]


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_a_refused_key_is_reported_and_never_leaks(
    backend: Backend, fake_llm: FakeLLM, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    """401: an `error` event, no retry, and the key is nowhere in the answer or the logs."""
    caplog.set_level(logging.DEBUG)
    fake_llm.push(Error(401))
    async with backend(provider) as alice:
        response = await alice.post({"type": "threads.create", "params": {"input": user_input("hi")}})
        events = parse_sse(response.content)
    assert response.status_code == 200
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [(e.allow_retry, e.code) for e in errors] == [(False, "custom")]  # a retry cannot fix a bad key
    assert "provider key" in (errors[0].message or "")
    assert len(fake_llm.requests) == 1
    assert "Error code: 401" in caplog.text  # the provider's error is logged on the server...
    assert_key_only_in_auth_headers(fake_llm, response.text, caplog.text)  # ...without the key


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_a_broken_stream_is_reported_and_the_server_stays_up(
    backend: Backend, fake_llm: FakeLLM, provider: str
) -> None:
    """The connection drops mid-reply: an `error` event, no half reply stored, the next turn works."""
    fake_llm.push(Broken("Half ", "a "), Text("Whole ", "answer."))
    async with backend(provider, LLM_MAX_RETRIES=1) as alice:
        thread_id, events = await send(alice, None, "tell me")
        assert [(e.message, e.allow_retry) for e in events if isinstance(e, ErrorEvent)] == [
            ("The AI provider's stream broke off; try again.", True)
        ]
        assert "Half a ".startswith("".join(text for _, text in deltas(events)))
        assert replies(events) == []
        assert [texts(item) for item in await stored(alice, thread_id)] == [  # no half reply
            "tell me",
            "(No reply: the AI provider's answer broke off. Try again.)",
        ]
        assert (await alice.http.get("/healthz")).status_code == 200
        _, events = await send(alice, thread_id, "again please")
        assert [r.content[0].text for r in replies(events)] == ["Whole answer."]
    assert len(fake_llm.requests) == 2  # a stream that broke is not replayed by the client


@pytest.mark.parametrize("provider", ["openai", "openai-compatible"])
async def test_rate_limits_are_retried_with_backoff(
    backend: Backend, fake_llm: FakeLLM, provider: str
) -> None:
    """429 then success: the turn succeeds after waiting what the provider asked for."""
    fake_llm.push(Error(429, headers={"retry-after-ms": "150"}), Text("Made ", "it."))
    async with backend(provider, LLM_MAX_RETRIES=2) as alice:
        _, events = await send(alice, None, "hi")
    assert not [e for e in events if isinstance(e, ErrorEvent)]
    assert [r.content[0].text for r in replies(events)] == ["Made it."]
    first, second = fake_llm.requests
    assert second.at - first.at >= 0.15
    assert second.body == first.body


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"LLM_PROVIDER": "openai"}, "OPENAI_API_KEY"),
        ({"LLM_PROVIDER": "gemini", "OPENAI_API_KEY": KEY}, "GEMINI_API_KEY"),
        ({"LLM_PROVIDER": "openai-compatible", "LLM_MODEL": "m"}, "LLM_BASE_URL"),
        ({"LLM_PROVIDER": "openai-compatible", "LLM_BASE_URL": "http://127.0.0.1:9/v1"}, "LLM_MODEL"),
    ],
)
def test_a_provider_without_its_settings_refuses_to_start(settings: dict[str, str], variable: str) -> None:
    with pytest.raises(ValidationError, match=variable):
        BackendSettings(**settings)


def test_a_start_up_error_does_not_print_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """As deployed: the wrong key in the environment; the error names the missing one, not the other."""
    secret = "mcp-secret-Xw3Rt8Yp2Lk5Qz9Vb4Nm7Hd6Jf1Gs0Ca"
    monkeypatch.setenv("LLM_PROVIDER", "gemini")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MCP_AUTH_SECRET", secret)
    with pytest.raises(ValidationError, match="GEMINI_API_KEY") as error:
        BackendSettings()
    assert not leaks_key(str(error.value))
    assert not leaks_key(str(error.value), secret)


async def test_a_self_hosted_model_is_not_traced_to_openai(
    backend: Backend, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key and the conversation go to LLM_BASE_URL and nowhere else (the trace exporter is pointed
    at the fake, standing in for api.openai.com, to see what would leave)."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # as deployed: the key comes from the environment
    monkeypatch.setattr(default_exporter(), "endpoint", f"{fake_llm.base_url}/traces/ingest")
    monkeypatch.setattr(default_exporter(), "_api_key", None)  # the exporter caches the key it read
    fake_llm.push(Text("Kept ", "local."))
    async with backend("openai-compatible") as alice:
        await send(alice, None, "my private plans")
        await anyio.to_thread.run_sync(flush_traces)
    assert [seen.path for seen in fake_llm.requests] == ["/v1/chat/completions"]


@pytest.mark.parametrize("provider", ["openai", "gemini"])
async def test_the_model_is_told_what_a_widget_action_did(
    backend: Backend, fake_llm: FakeLLM, provider: str
) -> None:
    """Complete a task from its card; on the next turn the model's input says so (a hidden note, in
    the form both APIs accept), so "what did I just finish?" has its answer."""
    fake_llm.push(ToolCall("add_task", {"title": "buy milk"}), Text("Added."), Text("You finished buy milk."))
    async with backend(provider, tools=True) as alice:
        thread_id, events = await send(alice, None, "remember to buy milk")
        card = next(
            e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)
        )
        task_id = re.search(r"task_[0-9a-z]{12}", card.widget.model_dump_json()).group()
        action = {"type": "tasks.complete", "payload": {"task_id": task_id}}
        response = await alice.post(
            {
                "type": "threads.sync_custom_action",
                "params": {"thread_id": thread_id, "item_id": card.id, "action": action},
            }
        )
        assert response.status_code == 200, response.text
        _, events = await send(alice, thread_id, "what did I just finish?")
    assert [reply.content[0].text for reply in replies(events)] == ["You finished buy milk."]
    asked = json.dumps(fake_llm.requests[-1].body, ensure_ascii=False)
    note = f"the user marked the task “buy milk” ({task_id}) as completed"
    assert note in asked
    assert asked.index(note) < asked.index("what did I just finish?")  # told before the question


def pending_tasks() -> set[asyncio.Task[Any]]:
    return {task for task in asyncio.all_tasks() if not task.done()}


@pytest.mark.parametrize("provider", ["openai", "gemini"])
@pytest.mark.parametrize(
    ("reply", "message", "note"),
    [
        (
            Error(429),
            "The AI provider is overloaded (HTTP 429); try again in a moment.",
            "(No reply: the AI provider was overloaded. Try again.)",
        ),
        (
            Error(500),
            "The AI provider had an error (HTTP 500); try again.",
            "(No reply: the AI provider had an error. Try again.)",
        ),
        (
            Broken("Half ", "a "),
            "The AI provider's stream broke off; try again.",
            "(No reply: the AI provider's answer broke off. Try again.)",
        ),
    ],
)
async def test_a_provider_failure_is_said_in_words_kept_in_the_thread_and_leaks_no_task(
    backend: Backend,
    fake_llm: FakeLLM,
    provider: str,
    reply: Error | Broken,
    message: str,
    note: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The error event says what happened (no provider body, no key); after a reload the thread shows
    the failed turn; no task of the turn is left pending (none is destroyed pending later)."""
    fake_llm.push(reply, Text("Fine ", "now."))
    async with backend(provider, LLM_MAX_RETRIES=0) as alice:
        before = pending_tasks()
        response = await alice.post({"type": "threads.create", "params": {"input": user_input("hi")}})
        events = parse_sse(response.content)
        assert [(e.code, e.message) for e in events if isinstance(e, ErrorEvent)] == [("custom", message)]
        assert "Fake error" not in response.text
        thread_id = next(e.thread.id for e in events if e.type == "thread.created")
        items = await stored(alice, thread_id)
        assert [(item["type"], texts(item)) for item in items] == [
            ("user_message", "hi"),
            ("assistant_message", note),
        ]
        await anyio.sleep(0.1)
        assert [task.get_coro() for task in pending_tasks() - before] == []
        _, events = await send(alice, thread_id, "again")  # the next turn works
        assert [r.content[0].text for r in replies(events)] == ["Fine now."]
    gc.collect()
    assert "destroyed but it is pending" not in caplog.text
    assert_key_only_in_auth_headers(fake_llm, response.text, caplog.text)


def test_timeouts_and_unreachable_providers_are_said_in_words() -> None:
    """A provider that does not answer in time or cannot be reached; other errors stay generic."""
    request = httpx2.Request("POST", "http://127.0.0.1:9/v1/responses")
    slow = provider_failure(openai.APITimeoutError(request=request))
    assert slow is not None and slow.message == "The AI provider did not answer in time; try again."
    assert slow.note == "(No reply: the AI provider did not answer in time. Try again.)"
    gone = provider_failure(openai.APIConnectionError(request=request))
    assert gone is not None and gone.message == "The AI provider could not be reached; try again in a moment."
    assert provider_failure(RuntimeError("a bug")) is None
