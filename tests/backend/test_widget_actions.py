"""Widget actions over HTTP against the app, with both MCP servers as real stdio subprocesses: every
action type through both request types, what is stored afterwards, what the tools then say, and
every forgery refused with nothing called and nothing changed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from chatkit.types import (
    HiddenContextItem,
    WidgetItem,
)
from fastapi import FastAPI

from backend.actions import widget_notes
from backend.agent.history import HistoryConverter
from backend.store import SqlStore
from shared_widgets import SourceCall, WidgetState, offered_actions, render
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
    task_id_of,
    user_of_own_app,
)

pytestmark = pytest.mark.e2e


# The app, its client and a fresh user per test (module-scoped app with real MCP servers).
__all__ = ["alice", "app", "http"]


# -- each action type, through both request types -------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_complete_and_reopen_from_a_card(alice: User, mode: str) -> None:
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    done, added = await alice.act(mode, thread_id, card, "tasks.complete", control(card, "tasks.complete"))
    assert done is not None and done.id == card.id and not added
    assert "Task completed" in raw(done) and has_control(done, "tasks.reopen")
    assert (await alice.stored(thread_id, card.id)).widget == done.widget  # what items.list returns
    assert (await alice.tasks())[task_id][1] == "completed"
    reopened, _ = await alice.act(mode, thread_id, done, "tasks.reopen", control(done, "tasks.reopen"))
    assert (
        reopened is not None and "Task reopened" in raw(reopened) and has_control(reopened, "tasks.complete")
    )
    assert (await alice.tasks())[task_id][1] == "pending"


@pytest.mark.parametrize("mode", MODES)
async def test_complete_from_a_list_changes_that_row(alice: User, mode: str) -> None:
    thread_id, listing, ids = await alice.listed("buy milk", "call mom")
    done, _ = await alice.act(mode, thread_id, listing, "tasks.complete", {"task_id": ids["call mom"]})
    assert done is not None and done.id == listing.id
    rows = {row["key"]: row for row in done.widget.model_dump(exclude_none=True)["children"]}
    assert '"lineThrough": true' in json.dumps(rows[ids["call mom"]])
    assert '"lineThrough": true' not in json.dumps(rows[ids["buy milk"]])
    assert (await alice.stored(thread_id, listing.id)).widget == done.widget
    assert {title: status for title, status, *_ in (await alice.tasks()).values()} == {
        "buy milk": "pending",
        "call mom": "completed",
    }


@pytest.mark.parametrize("mode", MODES)
async def test_edit_opens_a_form_whose_save_updates_the_task(alice: User, mode: str) -> None:
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    form, _ = await alice.act(mode, thread_id, card, "tasks.edit", {"task_id": task_id})
    assert form is not None and has_control(form, "tasks.update") and not has_control(form, "tasks.edit")
    values = {
        "title": "buy oat milk",
        "description": "two litres",
        "due_date": "2026-12-04T23:00:00.000Z",  # the date picker's local midnight of Dec 5 (UTC+1)
        "priority": "high",
    }
    saved, _ = await alice.act(mode, thread_id, form, "tasks.update", {"task_id": task_id, **values})
    assert saved is not None and "Task updated" in raw(saved) and not has_control(saved, "tasks.update")
    assert "buy oat milk" in raw(saved) and "Dec 5, 2026" in raw(saved) and "High priority" in raw(saved)
    assert (await alice.tasks())[task_id] == ("buy oat milk", "pending", "high", "2026-12-05")


@pytest.mark.parametrize("mode", MODES)
async def test_cancel_closes_the_form_without_a_change(alice: User, mode: str) -> None:
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    form, _ = await alice.act("sync", thread_id, card, "tasks.edit", {"task_id": task_id})
    assert form is not None
    form_values = {"title": "changed", "description": "", "due_date": "", "priority": "low"}
    closed, _ = await alice.act(mode, thread_id, form, "tasks.cancel", {"task_id": task_id, **form_values})
    assert closed is not None and has_control(closed, "tasks.edit") and "buy milk" in raw(closed)
    assert (await alice.tasks())[task_id] == ("buy milk", "pending", "medium", None)


@pytest.mark.parametrize("mode", MODES)
async def test_delete_asks_first_then_deletes_from_a_list(alice: User, mode: str) -> None:
    thread_id, listing, ids = await alice.listed("buy milk", "call mom")
    asked, _ = await alice.act(mode, thread_id, listing, "tasks.confirm_delete", {"task_id": ids["buy milk"]})
    assert asked is not None and "Delete “buy milk”?" in raw(asked)
    kept, _ = await alice.act(mode, thread_id, asked, "tasks.cancel", {"task_id": ids["buy milk"]})
    assert kept is not None and "Delete “buy milk”?" not in raw(kept)
    assert len(await alice.tasks()) == 2  # asking deleted nothing
    asked, _ = await alice.act(mode, thread_id, kept, "tasks.confirm_delete", {"task_id": ids["buy milk"]})
    assert asked is not None
    gone, _ = await alice.act(mode, thread_id, asked, "tasks.delete", {"task_id": ids["buy milk"]})
    assert gone is not None and "buy milk" not in raw(gone) and "call mom" in raw(gone)
    assert gone.widget.model_dump()["status"]["text"] == "1 task"
    assert list(await alice.tasks()) == [ids["call mom"]]


@pytest.mark.parametrize("mode", MODES)
async def test_delete_from_a_card_settles_it(alice: User, mode: str) -> None:
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    asked, _ = await alice.act(mode, thread_id, card, "tasks.confirm_delete", {"task_id": task_id})
    assert asked is not None and "Delete this task for good?" in raw(asked)
    gone, _ = await alice.act(mode, thread_id, asked, "tasks.delete", {"task_id": task_id})
    assert gone is not None and "Task deleted" in raw(gone) and "Deleted" in raw(gone)
    assert not offered_actions(gone.widget.model_dump(exclude_none=True))  # nothing left to click
    assert await alice.tasks() == {}


@pytest.mark.parametrize("mode", MODES)
async def test_filters_show_one_status(alice: User, mode: str) -> None:
    await alice.say("add task buy milk")
    thread_id, card = await alice.widget("add task call mom")
    await alice.act("sync", thread_id, card, "tasks.complete", {"task_id": task_id_of(card)})
    _, listing = await alice.widget("list tasks", thread_id)
    done, _ = await alice.act(mode, thread_id, listing, "tasks.filter", {"status": "completed"})
    assert done is not None and "call mom" in raw(done) and "buy milk" not in raw(done)
    pending, _ = await alice.act(mode, thread_id, done, "tasks.filter", {"status": "pending"})
    assert pending is not None and "buy milk" in raw(pending) and "call mom" not in raw(pending)
    everything, _ = await alice.act(mode, thread_id, pending, "tasks.filter", {"status": "all"})
    assert everything is not None and "buy milk" in raw(everything) and "call mom" in raw(everything)


@pytest.mark.parametrize("mode", MODES)
async def test_details_add_the_item_card(alice: User, mode: str) -> None:
    thread_id, results = await alice.widget("search desk lamp")
    item_id = control(results, "items.show")["item_id"]
    unchanged, added = await alice.act(mode, thread_id, results, "items.show", {"item_id": item_id})
    assert unchanged is None  # the results stay as they are
    assert len(added) == 1 and item_id in raw(added[0]) and has_control(added[0], "items.add_to_tasks")
    assert [entry["id"] for entry in await alice.items(thread_id)][-1] == added[0].id  # stored, last


@pytest.mark.parametrize("mode", MODES)
async def test_add_to_my_tasks_crosses_servers(alice: User, mode: str) -> None:
    thread_id, results = await alice.widget("search desk lamp")
    item_id = control(results, "items.add_to_tasks")["item_id"]
    name = next(
        row for row in results.widget.model_dump()["children"] if row.get("key") == item_id
    )  # the row of that item
    item_name = json.dumps(name).split('"value": "', 1)[1].split('"', 1)[0]
    _, added = await alice.act(mode, thread_id, results, "items.add_to_tasks", {"item_id": item_id})
    assert len(added) == 1 and f"Buy {item_name}" in raw(added[0]) and item_id in raw(added[0])
    assert has_control(added[0], "tasks.complete")  # a task card with its own actions
    assert [(title, status) for title, status, *_ in (await alice.tasks()).values()] == [
        (f"Buy {item_name}", "pending")
    ]


async def test_actions_leave_a_note_for_the_model(alice: User, app: FastAPI) -> None:
    """Each action records what it did as hidden context (not shown, not listed), which the history
    gives the model on the next turn. Clicks in a row share one item; after a message, a new one."""
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    done, _ = await alice.act("sync", thread_id, card, "tasks.complete", {"task_id": task_id})
    assert done is not None
    await alice.act("stream", thread_id, done, "tasks.reopen", {"task_id": task_id})
    assert all(entry["type"] != "hidden_context_item" for entry in await alice.items(thread_id))
    store: SqlStore = app.state.store

    async def notes() -> list[list[str] | None]:
        stored = (await store.load_thread_items(thread_id, None, 50, "asc", alice.context)).data
        return [widget_notes(item) for item in stored if isinstance(item, HiddenContextItem)]

    completed = f"From a widget, the user marked the task “buy milk” ({task_id}) as completed."
    reopened = f"From a widget, the user reopened the task “buy milk” ({task_id}): it is pending again."
    assert await notes() == [[completed, reopened]]
    stored = (await store.load_thread_items(thread_id, None, 50, "asc", alice.context)).data
    model_input = json.dumps(await HistoryConverter().to_agent_input(stored), ensure_ascii=False)
    assert f"[Done from widgets, not typed by the user:\\n- {completed}\\n- {reopened}]" in model_input
    await alice.say("thanks", thread_id)
    await alice.act("sync", thread_id, done, "tasks.complete", {"task_id": task_id})
    assert await notes() == [[completed, reopened], [completed]]


async def test_a_stale_widget_shows_the_tools_error(alice: User) -> None:
    """Complete on a card whose task was deleted meanwhile: the card says why, nothing breaks."""
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    _, listing = await alice.widget("list tasks", thread_id)  # deleted from there
    asked, _ = await alice.act("sync", thread_id, listing, "tasks.confirm_delete", {"task_id": task_id})
    assert asked is not None
    await alice.act("sync", thread_id, asked, "tasks.delete", {"task_id": task_id})
    for mode in MODES:
        shown, _ = await alice.act(mode, thread_id, card, "tasks.complete", {"task_id": task_id})
        assert shown is not None
        status = shown.widget.model_dump()["status"]
        assert status["text"] == f"No task with id '{task_id}'."
        assert "buy milk" in raw(shown) and has_control(shown, "tasks.complete")  # still the card
        assert (await alice.stored(thread_id, card.id)).widget == shown.widget


async def test_two_actions_at_once_on_one_list_both_show(alice: User) -> None:
    """Two rows completed at the same moment: the stored list ends with both done."""
    thread_id, listing, titled = await alice.listed("buy milk", "call mom")
    ids = list(titled.values())
    await asyncio.gather(
        *(alice.act("sync", thread_id, listing, "tasks.complete", {"task_id": task_id}) for task_id in ids)
    )
    stored = raw(await alice.stored(thread_id, listing.id))
    assert stored.count('"lineThrough": true') == 2
    assert {status for _, status, *_ in (await alice.tasks()).values()} == {"completed"}


# -- refusals: nothing called, nothing changed ----------------------------------------------------


async def snapshot(user: User, thread_id: str) -> tuple[Any, ...]:
    return await user.items(thread_id), await user.tasks()


FORGERIES: list[tuple[str, str, Any, int, str]] = [
    ("unknown type", "tasks.archive", {"task_id": "{task}"}, 400, "Unknown action type"),
    (
        "a tool name in the payload",
        "tasks.complete",
        {"task_id": "{task}", "tool": "delete_task"},
        400,
        "does not offer",
    ),
    (
        "identity in the payload",
        "tasks.complete",
        {"task_id": "{task}", "user": "bob"},
        400,
        "does not offer",
    ),
    ("a missing id", "tasks.complete", {}, 400, "does not offer"),
    (
        "an id the widget does not show",
        "tasks.complete",
        {"task_id": "task_000000000000"},
        400,
        "does not offer",
    ),
    ("a payload that is not an object", "tasks.complete", ["task_id"], 400, "must be an object"),
    ("an action the widget does not offer", "tasks.delete", {"task_id": "{task}"}, 400, "does not offer"),
    ("a bad priority", "tasks.update", {"task_id": "{task}", "priority": "urgent"}, 400, "priority"),
    ("a title too long", "tasks.update", {"task_id": "{task}", "title": "x" * 201}, 400, "title"),
    ("a date that is not one", "tasks.update", {"task_id": "{task}", "due_date": "soon"}, 400, "due_date"),
    (
        "a form field of another form",
        "tasks.update",
        {"task_id": "{task}", "status": "completed"},
        400,
        "offer",
    ),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("label", "kind", "payload", "status", "message"), FORGERIES, ids=[f[0] for f in FORGERIES]
)
async def test_forged_actions_are_refused_and_change_nothing(
    alice: User, mode: str, label: str, kind: str, payload: Any, status: int, message: str
) -> None:
    thread_id, card = await alice.widget("add task buy milk")
    task_id = task_id_of(card)
    if kind == "tasks.update":  # the form is open: that is where update is offered
        card = (await alice.act("sync", thread_id, card, "tasks.edit", {"task_id": task_id}))[0] or card
    filled = json.loads(json.dumps(payload).replace("{task}", task_id))
    before = await snapshot(alice, thread_id)
    code, error = await alice.refused(mode, thread_id, card.id, kind, filled)
    assert (code, message in error["message"]) == (status, True), error
    assert await snapshot(alice, thread_id) == before


@pytest.mark.parametrize("mode", MODES)
async def test_another_users_widget_is_not_found(alice: User, http: httpx2.AsyncClient, mode: str) -> None:
    thread_id, card = await alice.widget("add task buy milk")
    bob = User(http)
    _, bobs_card = await bob.widget("add task a task of bob")
    before = await snapshot(alice, thread_id)
    payload = {"task_id": task_id_of(card)}
    assert (await bob.refused(mode, thread_id, card.id, "tasks.complete", payload))[0] == 404
    # alice's thread with bob's widget in it: not hers either
    code, _ = await alice.refused(
        mode, thread_id, bobs_card.id, "tasks.complete", {"task_id": task_id_of(bobs_card)}
    )
    assert code == 404
    assert await snapshot(alice, thread_id) == before


@pytest.mark.parametrize("mode", MODES)
async def test_actions_need_a_widget_with_actions(alice: User, app: FastAPI, mode: str) -> None:
    """No sender, a sender that is a message, or a widget kept without actions: refused."""
    thread_id, card = await alice.widget("add task buy milk")
    payload = {"task_id": task_id_of(card)}
    message_id = next(
        entry["id"] for entry in await alice.items(thread_id) if entry["type"] == "user_message"
    )
    plain = WidgetItem(
        id=f"msg_{uuid.uuid4().hex}",
        thread_id=thread_id,
        created_at=card.created_at,
        widget=card.widget,  # the same buttons, but nothing kept server side for them
    )
    store: SqlStore = app.state.store
    await store.add_thread_item(thread_id, plain, alice.context)
    before = await snapshot(alice, thread_id)
    assert (await alice.refused(mode, thread_id, None, "tasks.complete", payload))[1]["message"].startswith(
        "Widget actions must name the widget"
    )
    assert (
        "not one"
        in (await alice.refused(mode, thread_id, message_id, "tasks.complete", payload))[1]["message"]
    )
    assert (
        "no actions"
        in (await alice.refused(mode, thread_id, plain.id, "tasks.complete", payload))[1]["message"]
    )
    assert await snapshot(alice, thread_id) == before


async def test_a_widget_naming_someone_elses_task_cannot_touch_it(
    alice: User, http: httpx2.AsyncClient, app: FastAPI
) -> None:
    """Even a widget of alice's that carried bob's task id (none can: the tools scope by identity)
    acts as alice: the tool finds no such task of hers, and bob's task is untouched."""
    bob = User(http)
    _, bobs_card = await bob.widget("add task the secret plan")
    bobs_task = task_id_of(bobs_card)
    thread_id, _ = await alice.say("hello")
    task = {
        "id": bobs_task, "title": "the secret plan", "description": "", "status": "pending",
        "priority": "medium", "due_date": None, "completed_at": None,
        "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z",
    }  # fmt: skip
    state = WidgetState(
        template="task_card",
        data={"task_id": bobs_task, "status": None, "title": task["title"], "task": task},
        source=SourceCall(server="tasks", tool="get_task", arguments={"task_id": bobs_task}),
    )
    rendered = render(state)  # what the widget offers is noted with its state
    forged = WidgetItem(
        id=f"msg_{uuid.uuid4().hex}", thread_id=thread_id, created_at=datetime.now(), widget=rendered.widget
    )
    store: SqlStore = app.state.store
    await store.widget_states.save(thread_id, forged.id, rendered.state, alice.context)
    await store.add_thread_item(thread_id, forged, alice.context)
    shown, _ = await alice.act("sync", thread_id, forged, "tasks.complete", {"task_id": bobs_task})
    assert shown is not None
    assert shown.widget.model_dump()["status"]["text"] == f"No task with id '{bobs_task}'."
    assert (await bob.tasks())[bobs_task][1] == "pending"


async def test_a_tool_left_out_by_the_config_is_refused(tmp_path: Path) -> None:
    """`deny_tools` hides delete_task from the model and from widget actions alike."""
    config = json.loads(CONFIG.read_text())
    config["mcpServers"]["tasks"]["deny_tools"] = ["delete_task"]
    (tmp_path / "mcp.json").write_text(json.dumps(config))
    async with user_of_own_app(tmp_path, config=tmp_path / "mcp.json") as user:
        thread_id, card = await user.widget("add task buy milk")
        task_id = task_id_of(card)
        asked, _ = await user.act("sync", thread_id, card, "tasks.confirm_delete", {"task_id": task_id})
        assert asked is not None
        for mode in MODES:
            code, error = await user.refused(mode, thread_id, card.id, "tasks.delete", {"task_id": task_id})
            assert (code, error["message"]) == (400, "The tasks tool server does not offer delete_task.")
        assert task_id in await user.tasks()


# -- the SDK's own action path, on both databases -------------------------------------------------


async def test_the_sdk_hands_actions_the_stored_widget(tmp_path: Path, database_url: str) -> None:
    """Through `ChatKitServer.process` (the SDK loads the sender from the Store and passes it to
    `action()` / `sync_action()`): a streamed and a sync action on SQLite and Postgres, persisted."""
    async with user_of_own_app(tmp_path, database_url=database_url) as user:
        thread_id, card = await user.widget("add task buy milk")
        task_id = task_id_of(card)
        done, _ = await user.act("stream", thread_id, card, "tasks.complete", {"task_id": task_id})
        assert done is not None and (await user.stored(thread_id, card.id)).widget == done.widget
        again, _ = await user.act("sync", thread_id, done, "tasks.reopen", {"task_id": task_id})
        assert again is not None and (await user.stored(thread_id, card.id)).widget == again.widget
        stored = await user.stored(thread_id, card.id)
        assert stored.created_at.tzinfo is not None  # UTC on the wire
        assert stored.created_at == card.created_at  # the widget keeps its place in the thread
