"""Human approval of tool calls over HTTP against the app, with both MCP servers as real stdio
subprocesses and the offline model: the pause, approve, reject, one use and one owner, expiry, the
policy, and a turn that asks for two calls at once (a scripted model)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from agents import Agent
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.types import (
    AssistantMessageItem,
    ProgressUpdateEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    WidgetItem,
)
from fastapi import FastAPI
from sqlalchemy import update

from backend.mcp.config import McpConfigError
from backend.store import SqlStore
from backend.store.models import APPROVALS, PAUSED_RUNS
from tests.backend.conftest import parse_sse
from tests.backend.tool_app import (
    CONFIG,
    MODES,
    User,
    alice,
    app,
    control,
    has_control,
    http,
    raw,
    started,
    task_id_of,
    user_of_own_app,
)

pytestmark = pytest.mark.e2e


# The app, its client and a fresh user per test (module-scoped app with real MCP servers).
__all__ = ["alice", "app", "http"]


def replies(events: list[Any]) -> list[str]:
    items = [
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)
    ]
    return [item.content[0].text for item in items]


async def paused(user: User, text: str, thread_id: str | None = None) -> tuple[str, WidgetItem, list[Any]]:
    """A message whose run stops for approval: the thread, the confirmation and the events."""
    thread_id, events = await user.say(text, thread_id)
    confirmations = [
        e.item
        for e in events
        if isinstance(e, ThreadItemDoneEvent)
        and isinstance(e.item, WidgetItem)
        and has_control(e.item, "approval.approve")
    ]
    assert len(confirmations) == 1, [event.type for event in events]
    return thread_id, confirmations[0], events


async def decide(user: User, mode: str, thread_id: str, confirmation: WidgetItem, kind: str) -> list[Any]:
    """Click Approve or Reject; the events (for a sync request, the answer as a replaced event)."""
    payload = control(confirmation, kind)
    response = await user.client.post(user.request(mode, thread_id, confirmation.id, kind, payload))
    assert response.status_code == 200, response.text
    if mode == "sync":
        return [ThreadItemReplacedEvent(item=WidgetItem.model_validate(response.json()["updated_item"]))]
    return parse_sse(response.content)


def status_of(item: WidgetItem) -> str:
    return str(item.widget.model_dump()["status"]["text"])


async def with_task(user: User, title: str = "buy milk") -> tuple[str, str]:
    thread_id, card = await user.widget(f"add task {title}")
    return thread_id, task_id_of(card)


# -- the pause, approve, reject -------------------------------------------------------------------


async def test_a_destructive_call_waits_for_the_user(alice: User) -> None:
    thread_id, task_id = await with_task(alice)
    _, confirmation, events = await paused(alice, f"delete task {task_id}", thread_id)
    assert not replies(events)  # the turn ends with the question
    progress = [e.text for e in events if isinstance(e, ProgressUpdateEvent)]
    assert progress[-1] == "Waiting for your approval"
    shown = raw(confirmation)
    assert "Delete task “buy milk”?" in shown and task_id in shown and "tasks · delete_task" in shown
    assert set(control(confirmation, "approval.approve")) == {"approval_id"}  # only the id: no state
    assert "run_" not in json.dumps(confirmation.model_dump(mode="json"))  # the run stays server side
    assert task_id in await alice.tasks()  # nothing ran


@pytest.mark.parametrize("mode", MODES)
async def test_approve_runs_the_call_and_the_reply_follows(alice: User, mode: str) -> None:
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    events = await decide(alice, mode, thread_id, confirmation, "approval.approve")
    if mode == "stream":
        assert replies(events) == [f"Task deleted: {task_id} 'buy milk' (pending, medium priority)."]
        cards = [
            e.item for e in events if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)
        ]
        assert len(cards) == 1 and "Task deleted" in raw(cards[0])  # the tool's own widget
    settled = await alice.stored(thread_id, confirmation.id)
    assert status_of(settled) == "Approved" and not has_control(settled, "approval.approve")
    assert f"Approved: Task deleted: {task_id}" in raw(settled)
    assert task_id not in await alice.tasks()
    stored = await alice.items(thread_id)
    assert [item["type"] for item in stored][-3:] == [
        "widget",
        "widget",
        "assistant_message",
    ]  # kept either way


@pytest.mark.parametrize("mode", MODES)
async def test_reject_refuses_the_call_and_the_model_is_told(alice: User, mode: str) -> None:
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    events = await decide(alice, mode, thread_id, confirmation, "approval.reject")
    if mode == "stream":
        assert replies(events) == ["You declined, so delete_task was not run and nothing was changed."]
    settled = await alice.stored(thread_id, confirmation.id)
    assert status_of(settled) == "Rejected" and "it was not run" in raw(settled)
    assert task_id in await alice.tasks()
    stored = await alice.items(thread_id)
    assert stored[-1]["type"] == "assistant_message"  # the model answered, saved


# -- one use, one owner, expiry -------------------------------------------------------------------


async def snapshot(user: User, thread_id: str) -> tuple[Any, ...]:
    return await user.items(thread_id), await user.tasks()


@pytest.mark.parametrize("first", ["approval.approve", "approval.reject"])
async def test_a_decision_is_used_once(alice: User, first: str) -> None:
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    payload = control(confirmation, first)
    await decide(alice, "stream", thread_id, confirmation, first)
    before = await snapshot(alice, thread_id)
    done = "approved" if first == "approval.approve" else "rejected"
    for kind in ("approval.approve", "approval.reject"):
        for mode in MODES:
            code, error = await alice.refused(mode, thread_id, confirmation.id, kind, payload)
            assert (code, error["message"]) == (
                400,
                f"This request was {done} already: a request is decided once.",
            )
    assert await snapshot(alice, thread_id) == before


async def test_nobody_else_decides(alice: User, http: httpx2.AsyncClient) -> None:
    """Bob cannot decide alice's request (404, as if it did not exist), nor can alice use his id."""
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    bob = User(http)
    bobs_thread, bobs_task = await with_task(bob, "bob's plan")
    _, bobs_confirmation, _ = await paused(bob, f"delete task {bobs_task}", bobs_thread)
    before = await snapshot(alice, thread_id), await bob.tasks()
    payload = control(confirmation, "approval.approve")
    for mode in MODES:
        assert (await bob.refused(mode, thread_id, confirmation.id, "approval.approve", payload))[0] == 404
        forged = control(bobs_confirmation, "approval.approve")
        code, error = await alice.refused(mode, thread_id, confirmation.id, "approval.approve", forged)
        assert code == 400 and "does not offer" in error["message"]
        code, error = await alice.refused(
            mode, thread_id, confirmation.id, "approval.approve", {"approval_id": "apr_forged"}
        )
        assert code == 400
    assert (await snapshot(alice, thread_id), await bob.tasks()) == before


async def test_a_new_message_expires_the_pending_request(alice: User) -> None:
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    _, events = await alice.say("list tasks", thread_id)
    expired = [e.item for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert [item.id for item in expired] == [confirmation.id] and status_of(expired[0]) == "Expired"
    assert replies(events) == [f"1 task(s) found: {task_id} 'buy milk' (pending, medium priority)."]
    code, error = await alice.refused(
        "stream", thread_id, confirmation.id, "approval.approve", control(confirmation, "approval.approve")
    )
    assert (code, error["message"]) == (400, "This request was expired already: a request is decided once.")
    assert task_id in await alice.tasks()


async def test_a_request_older_than_the_ttl_expires_when_clicked(alice: User, app: FastAPI) -> None:
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    store: SqlStore = app.state.store
    async with store.engine.begin() as connection:  # as if it had waited for two hours
        await connection.execute(
            update(APPROVALS)
            .where(APPROVALS.c.thread_id == thread_id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=2))
        )
    events = await decide(alice, "stream", thread_id, confirmation, "approval.approve")
    assert not replies(events)
    settled = [e.item for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert status_of(settled[0]) == "Expired" and "not decided within 60 minutes" in raw(settled[0])
    assert task_id in await alice.tasks()


# -- the policy -----------------------------------------------------------------------------------


def config_with(tmp_path: Path, policy: Any) -> Path:
    config = json.loads(CONFIG.read_text())
    config["mcpServers"]["tasks"]["require_approval"] = policy
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(config))
    return path


async def test_never_on_our_server_deletes_at_once(tmp_path: Path) -> None:
    async with user_of_own_app(tmp_path, config=config_with(tmp_path, "never")) as user:
        thread_id, task_id = await with_task(user)
        _, events = await user.say(f"delete task {task_id}", thread_id)
        assert replies(events) == [f"Task deleted: {task_id} 'buy milk' (pending, medium priority)."]


async def test_always_asks_for_any_call_and_lists_name_tools(tmp_path: Path) -> None:
    """`always` asks even to add a task; `{"always": [...], "never": [...]}` by name."""
    async with user_of_own_app(tmp_path, config=config_with(tmp_path, "always")) as user:
        _, confirmation, _ = await paused(user, "add task buy milk")
        assert "Add task?" in raw(confirmation) and "buy milk" in raw(confirmation)
    named = {"always": ["complete_task"], "never": ["delete_task"]}
    async with user_of_own_app(tmp_path / "named", config=config_with(tmp_path, named)) as user:
        thread_id, task_id = await with_task(user)
        _, confirmation, _ = await paused(user, f"complete task {task_id}", thread_id)
        assert "Complete task “buy milk”?" in raw(confirmation)
        _, events = await user.say(f"delete task {task_id}", thread_id)
        assert replies(events)[0].startswith("Task deleted")


async def test_a_policy_naming_unknown_tools_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(
        McpConfigError, match="require_approval names tools the server does not offer: delete_tsak"
    ):
        async for _ in started(tmp_path, config=config_with(tmp_path, {"always": ["delete_tsak"]})):
            pass


# -- several calls in one turn --------------------------------------------------------------------


async def test_two_calls_in_one_turn_are_decided_each_on_its_own(tmp_path: Path) -> None:
    """A model that deletes two tasks at once: two confirmations. Approving one waits for the other;
    rejecting the other resumes the run: the approved one is deleted, the rejected one kept."""
    model = ScriptedModel()
    agent = Agent(name="assistant", instructions="Manage tasks.", model=model)
    async for application in started(tmp_path, agent=agent):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
            user = User(client)
            hub = application.state.hub
            meta = application.state.chat.events.identity_meta(user.name)

            async def tasks(hub: Any = hub, meta: dict[str, Any] = meta) -> set[str]:
                """Asked of the server directly: the model is scripted."""
                listed = await hub.call_tool("tasks", "list_tasks", {}, meta)
                return {task["id"] for task in listed.structured_content["tasks"]}

            ids = []
            for title in ("old notes", "spare keys"):
                added = await hub.call_tool("tasks", "add_task", {"title": title}, meta)
                ids.append(added.structured_content["task_id"])
            model.extend(
                [
                    [function_call("delete_task", {"task_id": ids[0]}, call_id="call_1"),
                     function_call("delete_task", {"task_id": ids[1]}, call_id="call_2")],
                    [assistant_message("Deleted the old notes, kept the spare keys.")],
                ]
            )  # fmt: skip
            thread_id, events = await user.say("clean up")
            confirmations = [
                e.item
                for e in events
                if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, WidgetItem)
            ]
            assert [("old notes" in raw(c), "spare keys" in raw(c)) for c in confirmations] == [
                (True, False),
                (False, True),
            ]
            first = await decide(user, "stream", thread_id, confirmations[0], "approval.approve")
            assert not replies(first) and "runs once the other requests" in raw(first[-1].item)
            assert await tasks() == set(ids)  # nothing ran yet
            second = await decide(user, "stream", thread_id, confirmations[1], "approval.reject")
            assert replies(second) == ["Deleted the old notes, kept the spare keys."]
            assert await tasks() == {ids[1]}
            assert status_of(await user.stored(thread_id, confirmations[0].id)) == "Approved"
            assert status_of(await user.stored(thread_id, confirmations[1].id)) == "Rejected"
            outputs = [json.dumps(item) for item in model.last_call.input if isinstance(item, dict)]  # type: ignore[union-attr]
            assert any("You declined, so delete_task was not run" in output for output in outputs)


async def test_a_stored_run_that_cannot_be_restored_says_so(alice: User, app: FastAPI) -> None:
    """A paused run stored by another version (or for tools since removed) cannot resume: the
    confirmation and the stream say so, and nothing runs."""
    thread_id, task_id = await with_task(alice)
    _, confirmation, _ = await paused(alice, f"delete task {task_id}", thread_id)
    store: SqlStore = app.state.store
    async with store.engine.begin() as connection:
        await connection.execute(
            update(PAUSED_RUNS)
            .where(PAUSED_RUNS.c.thread_id == thread_id)
            .values(state='{"$schemaVersion": "0.1"}')
        )
    events = await decide(alice, "stream", thread_id, confirmation, "approval.approve")
    errors = [e for e in events if e.type == "error"]
    assert len(errors) == 1 and "can no longer be carried out" in str(errors[0].message)
    settled = await alice.stored(thread_id, confirmation.id)
    assert status_of(settled) == "Expired" and not has_control(settled, "approval.approve")
    assert task_id in await alice.tasks()
