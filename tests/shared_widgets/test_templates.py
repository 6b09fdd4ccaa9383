"""Each template builds valid, strict widgets from real tool results, including empty and hostile ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_servers.tasks.models import Priority, TaskStatus
from shared_widgets import TEMPLATES
from tests.shared_widgets import samples
from tests.shared_widgets.checks import check_widget, texts, walk

TEMPLATE_DIR = Path(__file__).parents[2] / "shared_widgets" / "templates"


def test_every_template_has_cases() -> None:
    assert {name for name, _ in samples.TEMPLATE_CASES} == set(TEMPLATES)


@pytest.mark.parametrize(
    ("name", "data"),
    samples.TEMPLATE_CASES,
    ids=[f"{n}-{i}" for i, (n, _) in enumerate(samples.TEMPLATE_CASES)],
)
def test_template_builds_strict_widget(name: str, data: dict[str, Any]) -> None:
    check_widget(TEMPLATES[name], data)


@pytest.mark.parametrize("path", sorted(TEMPLATE_DIR.rglob("*.widget")), ids=lambda path: path.stem)
def test_widget_file_shape(path: Path) -> None:
    """`.widget` files are the SDK's format: version 1.0, a name matching the file, a JSON schema."""
    definition = json.loads(path.read_text(encoding="utf-8"))
    assert set(definition) == {"version", "name", "template", "jsonSchema"}
    assert definition["version"] == "1.0"
    assert definition["name"] == path.stem
    assert definition["jsonSchema"]["type"] == "object"


def build(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return check_widget(TEMPLATES[name], data)[1]


def by_type(raw: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [node for node in walk(raw) if node["type"] == kind]


def test_task_list_rows() -> None:
    raw = build("task_list", samples.task_list())
    assert raw["type"] == "ListView" and raw["status"]["text"] == "3 tasks"
    filters, *rows = raw["children"]
    assert filters["key"] == "filters" and texts(filters) == ["All", "Pending", "Completed"]
    assert [row["key"] for row in rows] == [task.id for task in samples.some_tasks()]
    milk, plumber, taxes = rows
    assert by_type(milk, "Button")[0]["iconStart"] == "empty-circle"
    assert by_type(taxes, "Button")[0]["iconStart"] == "check-circle-filled"
    assert by_type(taxes, "Text")[0] == {
        **by_type(taxes, "Text")[0],
        "lineThrough": True,
        "color": "tertiary",
    }
    assert "lineThrough" not in by_type(milk, "Text")[0]
    assert by_type(milk, "Caption")[0]["value"] == "Due Dec 24, 2026 · task_a1b2c3d4e5f6"
    assert by_type(plumber, "Caption")[0]["value"] == "task_zzzzzzzzzzz1"
    assert [(b["label"], b["color"]) for row in rows for b in by_type(row, "Badge")] == [
        ("Medium", "warning"),
        ("High", "danger"),
        ("Low", "secondary"),
    ]


def test_task_list_header_counts_pages_and_singular() -> None:
    one = samples.some_tasks()[:1]
    assert build("task_list", samples.task_list(one))["status"]["text"] == "1 task"
    paged = build("task_list", samples.task_list(one, total=45, cursor="abc"))
    assert paged["status"]["text"] == "Showing 1 of 45 tasks"


def test_task_list_empty_state() -> None:
    raw = build("task_list", samples.task_list([]))
    assert raw["status"]["text"] == "No tasks"
    assert texts(raw) == [
        "No tasks",
        "All",
        "Pending",
        "Completed",
        "No tasks to show — try “add task buy milk”",
    ]


@pytest.mark.parametrize(
    ("kind", "caption"),
    [
        ("created", "Task created"),
        ("updated", "Task updated"),
        ("completed", "Task completed"),
        ("reopened", "Task reopened"),
        ("deleted", "Task deleted"),
    ],
)
def test_task_card_says_what_happened(kind: str, caption: str) -> None:
    status = TaskStatus.completed if kind == "completed" else TaskStatus.pending
    raw = build("task_card", samples.task_change(kind, samples.task(status=status)))  # type: ignore[arg-type]
    assert raw["type"] == "Card"
    assert by_type(raw, "Caption")[0]["value"] == caption
    assert by_type(raw, "Title")[0]["value"] == "Buy milk"
    badges = [badge["label"] for badge in by_type(raw, "Badge")]
    state = {"completed": "Done", "deleted": "Deleted"}.get(kind, "Pending")
    assert badges == [state, "Medium priority"]
    assert "Due Dec 24, 2026" in texts(raw)
    assert "2 litres, semi-skimmed" in texts(raw)


def test_task_card_without_description_or_due_date() -> None:
    raw = build("task_card", samples.task_change("updated", samples.task(description="", due=None)))
    assert not by_type(raw, "Text") and not by_type(raw, "Divider")
    assert not any(text.startswith("Due ") for text in texts(raw))


def test_task_card_for_get_task() -> None:
    task = samples.task(priority=Priority.high).model_dump(mode="json")
    raw = build("task_card", task)
    assert by_type(raw, "Caption")[0]["value"] == "Task details"
    assert "High priority" in texts(raw)


def test_item_results_rows() -> None:
    raw = build("item_results", samples.search_result())
    assert raw["status"]["text"] == "2 items for “lamp”"
    lamp, shelf = raw["children"]
    assert (lamp["key"], shelf["key"]) == ("itm_00042", "itm_00007")
    buttons = ["Details", "Add to my tasks"]
    assert texts(lamp) == ["Brass desk lamp", "Home · ★ 4.5 · itm_00042", *buttons, "$12.99", "In stock"]
    assert texts(shelf) == ["Oak bookshelf", "Home · ★ 4.0 · itm_00007", *buttons, "$1,299.50", "Sold out"]
    assert [badge["color"] for badge in by_type(raw, "Badge")] == ["success", "secondary"]


@pytest.mark.parametrize(
    ("query", "match", "header", "message"),
    [
        ("unobtainium", "all_words", "No items for “unobtainium”", "No items match “unobtainium”"),
        ("", "no_words", "No items", "No searchable words in that query — try product names or keywords"),
        ("", "browse", "No items", "No items match these filters"),
    ],
)
def test_item_results_empty_states(query: str, match: str, header: str, message: str) -> None:
    raw = build("item_results", samples.search_result([], query=query, match=match))
    assert texts(raw) == [header, message]


def test_item_results_any_word_and_paging() -> None:
    raw = build("item_results", samples.search_result(samples.some_items()[:1], match="any_word", total=30))
    assert raw["status"]["text"] == "Showing 1 of 30 items for “lamp” (any word)"
    browse = build("item_results", samples.search_result(query="", match="browse"))
    assert browse["status"]["text"] == "2 items"


def test_item_detail() -> None:
    raw = build("item_detail", samples.item().model_dump(mode="json"))
    assert raw["type"] == "Card"
    assert texts(raw) == [
        "Brass desk lamp",
        "$12.99",
        "Home",
        "In stock",
        "★ 4.5",
        "4 available",
        "A warm light for late reading.",
        "#lighting",
        "#desk",
        "Add to my tasks",
        "itm_00042",
    ]
    bare = build("item_detail", samples.item(tags=[], description="", stock=0).model_dump(mode="json"))
    assert texts(bare) == [
        "Brass desk lamp",
        "$12.99",
        "Home",
        "Sold out",
        "★ 4.5",
        "None available",
        "Add to my tasks",
        "itm_00042",
    ]


def test_category_list() -> None:
    raw = build("category_list", samples.category_list())
    assert raw["status"]["text"] == "3 categories · 12 items"
    assert texts(raw["children"][0]) == ["Books", "0 in stock", "3 items"]
    assert texts(build("category_list", samples.category_list([]))) == [
        "0 categories · 0 items",
        "The catalog has no categories yet",
    ]


@pytest.mark.parametrize("nasty", samples.NASTY)
def test_hostile_strings_stay_data(nasty: str) -> None:
    """Quotes, backslashes, newlines, emoji, markup and template syntax reach the widget unchanged."""
    tasks = [samples.task(nasty, description=nasty)]
    assert nasty in texts(build("task_list", samples.task_list(tasks)))
    card = texts(build("task_card", samples.task_change("created", tasks[0])))
    assert card.count(nasty) == 2  # title and description
    hostile_item = samples.item(nasty, description=nasty, tags=[nasty], category=nasty, item_id=nasty)
    results = texts(build("item_results", samples.search_result([hostile_item], query=nasty)))
    assert nasty in results and f"No items match “{nasty}”" not in results
    assert f"No items match “{nasty}”" in texts(build("item_results", samples.search_result([], query=nasty)))
    detail = texts(build("item_detail", hostile_item.model_dump(mode="json")))
    assert {nasty, f"#{nasty}"} <= set(detail)
    assert nasty in texts(build("category_list", samples.category_list([nasty])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=st.text(max_size=200), name=st.text(max_size=300), query=st.text(max_size=100))
def test_any_text_builds(title: str, name: str, query: str) -> None:
    """Whatever the strings, every template still renders valid JSON and shows them verbatim."""
    task = samples.task(title, description=title, due=date(2026, 1, 31))
    assert title in texts(build("task_list", samples.task_list([task])))
    assert title in texts(build("task_card", samples.task_change("updated", task)))
    hostile_item = samples.item(name or "x", tags=[name])
    assert (name or "x") in texts(build("item_results", samples.search_result([hostile_item], query=query)))
    build("item_detail", hostile_item.model_dump(mode="json"))
