"""Widgets as the terminal shows them: every shared template from real tool results, then components
the templates do not use and components nobody knows yet. Assertions are on content, not spacing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console, Group, RenderableType

from chat_client.render import render_item, render_widget, text_of
from shared_widgets import TEMPLATES
from tests.shared_widgets import samples

CASES = samples.TEMPLATE_CASES
IDS = [f"{name}-{index}" for index, (name, _) in enumerate(CASES)]


def show(renderable: RenderableType, width: int = 100) -> str:
    """What a 100-column console prints for `renderable` (plain text)."""
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def wire(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The widget as the SSE stream carries it (the SDK dumps events by alias, without None)."""
    return json.loads(TEMPLATES[name].build(data).model_dump_json(by_alias=True, exclude_none=True))


def leaves(node: dict[str, Any]) -> Iterator[str]:
    """Every text a person should see: values, labels and status headers."""
    for key in ("value", "label"):
        if isinstance(node.get(key), str) and node["type"] != "Icon":
            yield node[key]
    if isinstance(node.get("status"), dict):
        yield node["status"]["text"]
    for child in node.get("children", []):
        yield from leaves(child)


def expected(name: str, data: dict[str, Any]) -> list[str]:
    """What the tool result says that the rendering must show, read from the data (not the widget)."""
    ui = data.get("ui") or {}
    if name == "task_list":
        tasks = data["tasks"]
        if not tasks:
            return ["No tasks"]
        # A row being edited shows its fields (the title in its input), one being deleted a question.
        open_row = {ui.get("editing"), ui.get("confirming")}
        return [
            part
            for task in tasks
            for part in (
                (task["title"],)
                if task["id"] in open_row
                else (task["title"], task["id"], task["priority"].capitalize())
            )
        ]
    if name == "task_card":
        task = data.get("task", data)  # a change holds the task; get_task's result is the task
        if ui.get("editing") == task["id"]:
            return [task["title"], task["id"], task["priority"].capitalize(), "Save", "Cancel"]
        state = "Deleted" if "task" in data and data["status"] == "deleted" else task["status"].capitalize()
        return [task["title"], task["id"], f"{task['priority'].capitalize()} priority", state]
    if name == "item_results":
        if not data["items"]:
            return [data["query"]] if data["query"] else ["No items"]
        return [
            part
            for item in data["items"]
            for part in (
                item["name"],
                item["id"],
                f"${item['price']:,.2f}",
                "In stock" if item["in_stock"] else "Sold out",
            )
        ]
    if name == "item_detail":
        return [
            data["name"],
            data["category"],
            f"${data['price']:,.2f}",
            *[f"#{tag}" for tag in data["tags"]],
        ]
    if name == "category_list":
        categories = data["categories"]
        return [part for c in categories for part in (c["name"], f"{c['item_count']} items")] or [
            "0 categories"
        ]
    if name == "generic_list":
        rows = data["rows"]
        return [part for row in rows for part in (row["title"], *row["captions"])] or [data["title"]]
    if name == "generic_card":
        return [data["title"], *[part for row in data["rows"] for part in (row["label"], row["value"])]]
    if name == "approval":
        fields = [part for field in data["fields"] for part in (field["label"], field["value"])]
        buttons = ["Reject", "Approve"] if data["status"] == "pending" else []
        return [data["question"], *fields, data["tool"], *buttons, data["note"]]
    raise AssertionError(f"no expectations for template {name}")


def test_every_template_is_covered() -> None:
    assert {name for name, _ in CASES} == set(TEMPLATES)


@pytest.mark.parametrize(("name", "data"), CASES, ids=IDS)
def test_template_renders_its_content(name: str, data: dict[str, Any]) -> None:
    """The tool result's facts and every text of the widget (titles, fields, badges, empty states)."""
    widget = wire(name, data)
    text = show(render_widget(widget))
    for fact in expected(name, data):
        assert fact in text, (fact, text)
    for leaf in leaves(widget):
        assert leaf in text, (leaf, text)
    assert "[empty widget]" not in text


def test_task_states_show_as_marks_and_badges() -> None:
    """Done and open tasks differ in the text itself (icons become marks); priorities are badges."""
    text = show(render_widget(wire("task_list", samples.task_list())))
    line = {title: next(line for line in text.splitlines() if title in line) for title in ("Buy", "File")}
    assert "○" in line["Buy"] and "Medium" in line["Buy"]
    assert "✔" in line["File"] and "Low" in line["File"]
    assert (
        text.index("3 tasks")
        < text.index("Buy milk")
        < text.index("Call the plumber")
        < text.index("File taxes")
    )


def test_badges_on_a_terminal_are_coloured_labels() -> None:
    console = Console(
        record=True, width=100, file=io.StringIO(), force_terminal=True, color_system="standard"
    )
    console.print(render_widget(wire("task_card", samples.task_change("created"))))
    styled = console.export_text(styles=True)
    assert "\x1b[" in styled
    assert "Medium priority" in styled


def test_a_narrow_terminal_is_not_overflowed() -> None:
    text = show(render_widget(wire("item_results", samples.search_result())), width=50)
    assert max(len(line) for line in text.splitlines()) <= 50
    assert "Brass desk" in text


def test_unknown_components_degrade_to_their_text() -> None:
    """Components from a newer ChatKit: their text fields and their children's text, in order."""
    widget = {
        "type": "Card",
        "children": [
            {
                "type": "Hologram",
                "title": "Floating title",
                "content": "beamed body",
                "colour": "ultraviolet",
            },
            {
                "type": "Carousel",
                "children": [
                    {
                        "type": "Slide",
                        "label": "first slide",
                        "children": [{"type": "Text", "value": "known text"}],
                    },
                    {"type": "Slide", "text": "second slide", "data": {"value": "not shown"}},
                ],
            },
            {"type": "Sparkles"},
            {"type": "Text", "value": "after the unknowns"},
        ],
    }
    text = show(render_widget(widget))
    for part in (
        "Floating title",
        "beamed body",
        "first slide",
        "known text",
        "second slide",
        "after the unknowns",
    ):
        assert part in text
    assert text.index("first slide") < text.index("known text") < text.index("second slide")
    assert "ultraviolet" not in text and "not shown" not in text
    assert text_of(widget["children"][1]) == "first slide known text second slide"


def test_an_unknown_root_and_malformed_nodes_do_not_crash() -> None:
    assert "inside" in show(
        render_widget({"type": "Spaceship", "children": [{"type": "Text", "value": "inside"}]})
    )
    assert "[empty widget]" in show(render_widget({"type": "Nothing"}))
    odd = {
        "type": "Card",
        "children": ["a string", None, 3, {"no": "type"}, {"type": "Text", "value": 5}],
        "status": 7,
    }
    show(render_widget(odd))
    listing = {"type": "ListView", "children": "not a list", "limit": "auto"}
    show(render_widget(listing))


def test_components_the_templates_do_not_use() -> None:
    widget = {
        "type": "Card",
        "status": {"text": "Order #12", "icon": "cube"},
        "confirm": {"label": "Approve", "action": {"type": "approve"}},
        "cancel": {"label": "Reject", "action": {"type": "reject"}},
        "children": [
            {"type": "Markdown", "value": "Some **bold** words\n\n- first point\n- second point"},
            {"type": "Image", "src": "https://example.test/a.png", "alt": "a parcel"},
            {"type": "Box", "direction": "row", "children": [
                {"type": "Button", "label": "Track", "onClickAction": {"type": "track"}},
                {"type": "Button", "iconStart": "plus"},
            ]},
            {"type": "Form", "children": [
                {"type": "Label", "value": "Note"},
                {"type": "Input", "name": "note", "placeholder": "Write a note"},
                {"type": "Select", "name": "speed", "options": [
                    {"value": "s", "label": "Slow"}, {"value": "f", "label": "Fast"}]},
                {"type": "Checkbox", "name": "gift", "label": "Gift wrap", "defaultChecked": True},
            ]},
            {"type": "Chart", "data": [], "series": []},
            {"type": "Transition", "children": [{"type": "Caption", "value": "moving caption"}]},
        ],
    }  # fmt: skip
    text = show(render_widget(widget))
    for part in (
        "Order #12", "[Approve]", "[Reject]", "Some bold words", "first point", "[image: a parcel]",
        "[Track]", "[+]", "Note", "[Write a note]", "Slow | Fast", "☑ Gift wrap", "[chart]", "moving caption",
    ):  # fmt: skip
        assert part in text, (part, text)
    assert "**" not in text


def test_list_view_limit_counts_the_rest() -> None:
    items = [{"type": "ListViewItem", "children": [{"type": "Text", "value": f"row {n}"}]} for n in range(5)]
    text = show(render_widget({"type": "ListView", "limit": 2, "children": items}))
    assert "row 1" in text and "row 2" not in text
    assert "… 3 more" in text


def test_thread_items_as_history_shows_them() -> None:
    base = {"id": "i", "thread_id": "t", "created_at": "2026-01-01T00:00:00"}
    items = [
        base | {"type": "user_message", "content": [{"type": "input_text", "text": "add task paint"}]},
        base | {"type": "assistant_message", "content": [
            {"type": "output_text", "text": "Done: *paint*", "annotations": []}]},
        base | {"type": "widget", "widget": {
            "type": "Card", "children": [{"type": "Title", "value": "paint"}]}},
        base | {"type": "workflow", "workflow": {"type": "custom", "summary": {"title": "Planned"}, "tasks": [
            {"type": "custom", "title": "Looked up tasks"},
            {"type": "thought", "content": "Thinking hard"}]}},
        base | {"type": "task", "task": {"type": "custom", "title": "Single task"}},
        base | {"type": "client_tool_call", "name": "get_location", "call_id": "c", "arguments": {}},
        base | {"type": "future_item", "title": "From the future"},
    ]  # fmt: skip
    text = show(Group(*[renderable for item in items if (renderable := render_item(item)) is not None]))
    for part in (
        "you › add task paint", "Done: paint", "paint", "Planned", "Looked up tasks", "Thinking hard",
        "Single task", "get_location", "[future_item] From the future",
    ):  # fmt: skip
        assert part in text, (part, text)
    assert render_item(base | {"type": "end_of_turn"}) is None
    assert render_item(base | {"type": "hidden_context_item", "content": "secret"}) is None


PLACEHOLDERS = (
    "To add one, say “add task <title>” (or <b>bold</b>, `code <x>`, **markdown**).\n\n"
    "<title> is what it is called; <due> is optional.\n\n"
    "<details>\nkept\n</details>"
)


def test_angle_brackets_in_replies_and_markdown_widgets_are_text() -> None:
    """HTML-looking text is the reply's own (`<title>` placeholders): shown as sent, inline or as a
    block, while Markdown still renders; rich alone would drop it."""
    base = {"id": "i", "thread_id": "t", "created_at": "2026-01-01T00:00:00"}
    content = [{"type": "output_text", "text": PLACEHOLDERS, "annotations": []}]
    reply = render_item(base | {"type": "assistant_message", "content": content})
    assert reply is not None
    text = show(reply)
    assert "say “add task <title>” (or <b>bold</b>, code <x>, markdown)." in text, text
    assert "<title> is what it is called; <due> is optional." in text
    assert "<details>" in text and "kept" in text and "</details>" in text
    assert "**" not in text and "`" not in text
    widget = {"type": "Card", "children": [{"type": "Markdown", "value": "Run `list` or <name>."}]}
    assert "Run list or <name>." in show(render_widget(widget))


def test_a_deleted_task_card_says_deleted_not_pending() -> None:
    """delete_task's card: the Deleted badge, never the Pending the task had, and nothing to click."""
    text = show(render_widget(wire("task_card", samples.task_change("deleted"))))
    assert "Task deleted" in text and "Deleted" in text and "Buy milk" in text
    assert "Pending" not in text
    assert not any(button in text for button in ("[Complete]", "[Edit]", "[Delete]"))


def test_text_that_looks_like_rich_markup_is_shown_as_it_is() -> None:
    """Widget text is data: `[bold]`, `[/oops]` and `[link=...]` are neither styles nor errors."""
    hostile = ["[bold]not bold[/bold]", "[/oops]", "[link=https://evil.test]click[/link]", *samples.NASTY[:5]]
    widget = {
        "type": "Card",
        "status": {"text": hostile[0]},
        "confirm": {"label": hostile[1], "action": {"type": "x"}},
        "children": [{"type": "Text", "value": value} for value in hostile]
        + [{"type": "Badge", "label": hostile[2]}, {"type": "Button", "label": hostile[1]}],
    }
    listing = {"type": "ListView", "status": {"text": hostile[1]}, "children": []}
    text = show(Group(render_widget(widget), render_widget(listing)), width=200)
    for value in hostile[:3]:
        assert value in text, value
    assert text.count("[/oops]") >= 4  # status, confirm button, text, button
