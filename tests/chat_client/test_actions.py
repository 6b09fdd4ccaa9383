"""Widget actions in the terminal: the choices read from widget JSON (our templates, and shapes other
backends may send), their numbering, and the requests `/do` sends (against a stand-in backend)."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx2
import pytest
from rich.console import Console

from chat_client.actions import Choices, form_values, widget_choices
from chat_client.protocol import ChatKitClient
from chat_client.session import Session
from shared_widgets import TEMPLATES
from tests.shared_widgets import samples

MILK = "task_a1b2c3d4e5f6"


def item(name: str, data: dict[str, Any], item_id: str = "msg_w") -> dict[str, Any]:
    widget = json.loads(TEMPLATES[name].build(data).model_dump_json(by_alias=True, exclude_none=True))
    return {"type": "widget", "id": item_id, "thread_id": "thr_a", "widget": widget}


def test_a_task_list_offers_filters_then_each_tasks_controls() -> None:
    choices = widget_choices(item("task_list", samples.task_list()))
    assert [choice.label for choice in choices[:6]] == [
        "All", "Pending", "Completed", "Complete · Buy milk", "Edit · Buy milk", "Delete · Buy milk",
    ]  # fmt: skip
    assert choices[3].action == {"type": "tasks.complete", "payload": {"task_id": MILK}}
    assert not any(choice.streaming for choice in choices)  # the table sends these as sync actions
    assert "Reopen · File taxes" in [choice.label for choice in choices]


def test_a_form_asks_for_its_fields_and_cancel_sends_them_as_they_are() -> None:
    form = item("task_card", samples.with_ui(samples.task_change(), {"editing": MILK}))
    cancel, save = widget_choices(form)
    assert (cancel.words, cancel.submit, save.words, save.submit) == ("Cancel", False, "Save", True)
    assert [(field.name, field.kind, field.label, field.default) for field in save.fields] == [
        ("title", "Input", "Title", "Buy milk"),
        ("description", "Textarea", "Description", "2 litres, semi-skimmed"),
        ("due_date", "DatePicker", "Due date", "2026-12-24T00:00:00"),
        ("priority", "Select", "Priority", "medium"),
    ]
    assert save.fields[3].options == ("low", "medium", "high")
    assert form_values(save.fields, {"title": "Oat milk"}) == {
        "title": "Oat milk",
        "description": "2 litres, semi-skimmed",
        "due_date": "2026-12-24",
        "priority": "medium",
    }


def test_search_results_offer_streamed_actions() -> None:
    choices = widget_choices(item("item_results", samples.search_result()))
    assert [(choice.label, choice.streaming) for choice in choices[:2]] == [
        ("Details · Brass desk lamp", True),
        ("Add to my tasks · Brass desk lamp", True),
    ]


def test_other_shapes_clickable_rows_card_buttons_and_client_actions() -> None:
    """Rows with onClickAction, Card confirm/cancel, and client-handled actions (not ours to send)."""
    widget = {
        "type": "Card",
        "confirm": {"label": "Book", "action": {"type": "trip.book", "payload": {"id": 7}}},
        "cancel": {"label": "Not now", "action": {"type": "trip.cancel", "handler": "client"}},
        "children": [
            {"type": "Title", "value": "Lisbon"},
            {
                "type": "Button",
                "label": "Open map",
                "onClickAction": {"type": "map.open", "handler": "client"},
            },
            {
                "type": "Box",
                "children": {"type": "Button", "iconStart": "star", "onClickAction": {"type": "x.star"}},
            },
        ],
    }
    choices = widget_choices({"type": "widget", "id": "msg_x", "widget": widget})
    assert [(choice.label, choice.action["type"]) for choice in choices] == [
        ("star · Lisbon", "x.star"),
        ("Book · Lisbon", "trip.book"),
    ]
    assert widget_choices({"type": "widget", "id": "msg_y", "widget": "not a widget"}) == []


def test_numbers_follow_the_widgets_and_a_new_rendering_replaces_its_own() -> None:
    choices = Choices()
    first = choices.add(item("task_card", samples.task_change(), "msg_1"))
    second = choices.add(item("item_detail", samples.item().model_dump(mode="json"), "msg_2"))
    assert [number for number, _ in first] == [1, 2, 3] and [number for number, _ in second] == [4]
    again = choices.add(item("task_card", samples.task_change("completed"), "msg_1"))
    assert [number for number, _ in again] == [5, 6, 7]
    assert choices.get(1) is None and choices.get(4) is not None
    assert [number for number, _ in choices.current()] == [4, 5, 6, 7]
    choices.clear()
    assert choices.current() == []


class StandIn:
    """A backend that shows `listed` in thread thr_a, records action requests and answers them like
    ours: a sync action with the completed card, a streamed one with an item card added."""

    def __init__(self, listed: dict[str, Any]) -> None:
        self.listed = listed
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        if body["type"] == "threads.get_by_id":
            return httpx2.Response(
                200, json={"id": "thr_a", "title": "t", "created_at": "2026-03-14T09:26:53Z"}
            )
        if body["type"] == "items.list":
            return httpx2.Response(200, json={"data": [self.listed], "has_more": False})
        if body["type"] == "threads.sync_custom_action":
            card = item("task_card", samples.task_change("completed"), self.listed["id"])
            return httpx2.Response(200, json={"updated_item": card})
        if body["type"] == "threads.custom_action":
            detail = item("item_detail", samples.item().model_dump(mode="json"), "msg_detail")
            frame = json.dumps({"type": "thread.item.done", "item": detail})
            return httpx2.Response(
                200, text=f"data: {frame}\n\n", headers={"content-type": "text/event-stream"}
            )
        return httpx2.Response(404, json={"error": {"code": "not_found", "message": "No such thing."}})

    def sent(self) -> list[dict[str, Any]]:
        return [body for body in self.requests if body["type"].endswith("custom_action")]


def run(lines: str, monkeypatch: pytest.MonkeyPatch, stand_in: StandIn) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    console = Console(width=100, file=io.StringIO())
    with ChatKitClient("http://t/chatkit", transport=httpx2.MockTransport(stand_in)) as client:
        assert Session(client, console, "thr_a", echo=True).run() == 0
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_do_sends_the_form_as_the_ui_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """/open shows the form numbered; /do on Save asks each field (Enter keeps it) and sends the
    payload the widget gives plus the field values, as a sync action (the table says so)."""
    stand_in = StandIn(
        item("task_card", samples.with_ui(samples.task_change(), {"editing": MILK}), "msg_card")
    )
    out = run("/do 2\nOat milk\n\n2026-12-31\nhigh\n/do 2\n/do x\n", monkeypatch, stand_in)
    assert "[1] Cancel  [2] Save" in out
    assert stand_in.sent() == [
        {
            "type": "threads.sync_custom_action",
            "params": {
                "thread_id": "thr_a",
                "item_id": "msg_card",
                "action": {
                    "type": "tasks.update",
                    "payload": {
                        "title": "Oat milk",
                        "description": "2 litres, semi-skimmed",
                        "due_date": "2026-12-31",
                        "priority": "high",
                        "task_id": MILK,
                    },
                },
            },
        }
    ]
    assert "Task completed" in out  # the updated widget, printed with new numbers
    assert "[3] Complete  [4] Edit  [5] Delete" in out
    assert "no action [2] on screen" in out  # the old form's numbers are gone
    assert "usage: /do N" in out


def test_cancel_in_a_form_sends_the_fields_as_they_stand(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = StandIn(
        item("task_card", samples.with_ui(samples.task_change(), {"editing": MILK}), "msg_card")
    )
    run("/do 1\n", monkeypatch, stand_in)
    (cancel,) = stand_in.sent()
    assert cancel["params"]["action"] == {
        "type": "tasks.cancel",
        "payload": {
            "title": "Buy milk",
            "description": "2 litres, semi-skimmed",
            "due_date": "2026-12-24",
            "priority": "medium",
            "task_id": MILK,
        },
    }


def test_a_streamed_action_prints_what_it_adds(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in = StandIn(item("item_results", samples.search_result(), "msg_results"))
    out = run("/actions\n/do 1\n", monkeypatch, stand_in)
    assert "[1] Details · Brass desk lamp" in out  # /actions lists them with what they act on
    (details,) = stand_in.sent()
    assert details["type"] == "threads.custom_action"
    assert details["params"]["action"] == {"type": "items.show", "payload": {"item_id": "itm_00042"}}
    assert "A warm light for late reading." in out  # the item card the stream added
    assert "[5] Add to my tasks" in out
