"""The packaged library: a template per tasks/items tool, generic widgets for the rest, None for nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from chatkit import widgets as chatkit_widgets
from chatkit.widgets import DynamicWidgetRoot, WidgetTemplate

from shared_widgets import BUILTIN, TEMPLATES, render_tool_result
from shared_widgets.generic import MAX_CARD_ROWS, MAX_LIST_ROWS
from tests.shared_widgets import samples
from tests.shared_widgets.checks import assert_strict, texts, walk

EXPECTED = {
    ("tasks", "list_tasks"): "task_list",
    ("tasks", "get_task"): "task_card",
    ("tasks", "add_task"): "task_card",
    ("tasks", "update_task"): "task_card",
    ("tasks", "complete_task"): "task_card",
    ("tasks", "reopen_task"): "task_card",
    ("tasks", "delete_task"): "task_card",
    ("items", "search_items"): "item_results",
    ("items", "get_item"): "item_detail",
    ("items", "list_categories"): "category_list",
}


def raw(widget: DynamicWidgetRoot | None) -> dict[str, Any]:
    """The widget as JSON, strictly valid (leaf `children: null` from the SDK's dump left out)."""
    assert widget is not None
    dumped = widget.model_dump(mode="json", exclude_none=True)
    assert_strict(dumped)
    return dumped


def test_every_tasks_and_items_tool_is_bound() -> None:
    assert {key: binding.template for key, binding in BUILTIN.bindings.items()} == EXPECTED
    assert set(EXPECTED.values()) <= set(TEMPLATES)


@pytest.mark.parametrize(
    ("tool", "structured", "root", "expected"),
    [
        ("list_tasks", samples.task_list(), "ListView", "File taxes"),
        ("add_task", samples.task_change("created"), "Card", "Task created"),
        ("update_task", samples.task_change("updated"), "Card", "Task updated"),
        ("complete_task", samples.task_change("completed"), "Card", "Task completed"),
        ("reopen_task", samples.task_change("reopened"), "Card", "Task reopened"),
        ("delete_task", samples.task_change("deleted"), "Card", "Task deleted"),
        ("get_task", samples.task().model_dump(mode="json"), "Card", "Task details"),
    ],
)
def test_task_tools(tool: str, structured: dict[str, Any], root: str, expected: str) -> None:
    widget = raw(render_tool_result("tasks", tool, structured))
    assert widget["type"] == root and expected in texts(widget)


@pytest.mark.parametrize(
    ("tool", "structured", "root", "expected"),
    [
        ("search_items", samples.search_result(), "ListView", "$1,299.50"),
        ("get_item", samples.item().model_dump(mode="json"), "Card", "#lighting"),
        ("list_categories", samples.category_list(), "ListView", "Garden"),
    ],
)
def test_item_tools(tool: str, structured: dict[str, Any], root: str, expected: str) -> None:
    widget = raw(render_tool_result("items", tool, structured))
    assert widget["type"] == root and expected in texts(widget)


@pytest.mark.parametrize("structured", [None, {}, [], "", "text", b"bytes", 42, 1.5, True])
def test_nothing_to_show_is_none(structured: Any) -> None:
    assert render_tool_result("tasks", "list_tasks", structured) is None
    assert render_tool_result("weather", "forecast", structured) is None


def test_unknown_tool_list_of_objects_becomes_a_list_view() -> None:
    structured = {
        "query": "oslo",
        "total": 7,
        "stations": [
            {"id": "st_1", "name": "Blindern", "elevation_m": 94, "active": True, "readings": [{"t": 1}]},
            {"id": "st_2", "label": "Tryvann", "note": "x" * 500, "active": False},
            {"temperature": -3.5},
        ],
    }
    widget = raw(render_tool_result("weather", "find_stations", structured))
    assert widget["type"] == "ListView"
    assert widget["status"]["text"] == "Stations: 3 of 7"
    first, second, third = widget["children"]
    assert first["key"] == "st_1"
    assert texts(first) == ["Blindern", "Elevation m: 94 · ID: st_1 · Readings: 1 entry", "✓ Active"]
    # plain values first, then ids, then cut text and counts
    assert texts(second) == ["Tryvann", f"ID: st_2 · Note: {'x' * 39}…", "✗ Active"]
    assert [badge["color"] for badge in walk(second) if badge["type"] == "Badge"] == ["secondary"]
    assert (third["key"], texts(third)) == ("2", ["Station 3", "Temperature: -3.5"])


def test_name_like_field_preference() -> None:
    records = [{"id": "a", "label": "L", "name": "N", "title": "T"}, {"id": "b", "label": "L"}, {"id": "c"}]
    widget = raw(render_tool_result("x", "y", {"records": records}))
    assert [texts(row)[0] for row in widget["children"]] == ["T", "L", "Record 3 · ID c"]


def test_top_level_list_and_row_cap() -> None:
    records = [{"name": f"n{i}", "rank": i} for i in range(MAX_LIST_ROWS + 20)]
    widget = raw(render_tool_result("x", "ranked", records))
    assert widget["status"]["text"] == f"Results: {MAX_LIST_ROWS} of {MAX_LIST_ROWS + 20}"
    assert len(widget["children"]) == MAX_LIST_ROWS + 1
    assert texts(widget["children"][1]) == ["n1", "Rank: 1"]
    assert texts(widget["children"][-1]) == ["+20 more"]


def test_unknown_tool_plain_object_becomes_a_card() -> None:
    structured = {
        "city": "Oslo",
        "temperature_c": -3.5,
        "windy": True,
        "tags": ["snow", "dark"],
        "forecast": {"tomorrow": "sun"},
        "advice": "y" * 1000,
        "missing": None,
        "updatedAt": "2026-03-14T09:00:00Z",
    }
    widget = raw(render_tool_result("weather", "get_weather", structured))
    assert widget["type"] == "Card"
    assert texts(widget) == [
        "Get weather",
        "City",
        "Oslo",
        "Temperature c",
        "-3.5",
        "Windy",
        "Yes",
        "Tags",
        "snow, dark",
        "Forecast",
        "Tomorrow: sun",  # a small nested object inline
        "Advice",
        "y" * 119 + "…",  # long values are cut
        "Updated at",
        "Mar 14, 2026 09:00 UTC",
    ]


def test_card_rows_are_capped_and_named() -> None:
    structured = {"name": "Widget", **{f"field_{i}": i for i in range(MAX_CARD_ROWS + 3)}}
    widget = raw(render_tool_result("x", "y", structured))
    assert texts(widget)[0] == "Widget"
    assert texts(widget)[-1] == "+3 more fields"
    assert len([node for node in walk(widget) if node["type"] == "Row"]) == MAX_CARD_ROWS


def test_wrapped_object_and_unshowable_object() -> None:
    widget = raw(render_tool_result("x", "get_thing", {"thing": {"name": "Inner", "size": 3}}))
    assert texts(widget) == ["Inner", "Size", "3"]
    assert render_tool_result("x", "y", {"blob": None, "meta": {}, "tags": [], "note": "  "}) is None


def test_same_tool_name_on_another_server_is_generic() -> None:
    widget = raw(render_tool_result("other", "list_tasks", samples.task_list()))
    assert widget["status"]["text"] == "Tasks: 3"  # the generic list, not task_list


def test_known_tool_with_unexpected_shape_falls_back(caplog: pytest.LogCaptureFixture) -> None:
    """A server newer than its template must not lose the widget: the generic one is shown, with a warning."""
    with caplog.at_level(logging.WARNING, logger="shared_widgets.library"):
        widget = raw(render_tool_result("tasks", "list_tasks", {"items": [{"title": "A"}], "count": 1}))
        card = raw(render_tool_result("tasks", "get_task", {"title": "no id"}))
    assert widget["status"]["text"] == "Items: 1"
    assert card["type"] == "Card"
    assert [record.levelname for record in caplog.records] == ["WARNING", "WARNING"]
    assert "task_list.widget" in caplog.records[0].getMessage()


def test_templates_are_not_loaded_or_compiled_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("templates must come from the module-level cache")

    monkeypatch.setattr(WidgetTemplate, "__init__", refuse)
    monkeypatch.setattr(WidgetTemplate, "from_file", refuse)
    monkeypatch.setattr(chatkit_widgets._jinja_env, "from_string", refuse)
    assert render_tool_result("tasks", "list_tasks", samples.task_list()) is not None
    assert render_tool_result("x", "y", {"name": "generic"}) is not None
