"""summarize_widget: the texts of a rendered widget, short enough to feed a model."""

from __future__ import annotations

from shared_widgets import render_tool_result, summarize_widget
from tests.shared_widgets import samples


def test_task_list_summary_lists_titles_per_line() -> None:
    widget = render_tool_result("tasks", "list_tasks", samples.task_list())
    assert widget is not None
    assert summarize_widget(widget).splitlines() == [
        "3 tasks",
        "- Buy milk · Due Dec 24, 2026 · task_a1b2c3d4e5f6 · Medium",
        "- Call the plumber · task_zzzzzzzzzzz1 · High",
        "- File taxes · Due Apr 15, 2026 · task_zzzzzzzzzzz2 · Low",
    ]


def test_card_summary_is_one_line() -> None:
    widget = render_tool_result("tasks", "complete_task", samples.task_change("completed"))
    assert widget is not None
    assert summarize_widget(widget) == (
        "Task completed · task_a1b2c3d4e5f6 · Buy milk · Pending · Medium priority · Due Dec 24, 2026 · "
        "2 litres, semi-skimmed"
    )


def test_item_summaries() -> None:
    results = render_tool_result("items", "search_items", samples.search_result())
    detail = render_tool_result("items", "get_item", samples.item().model_dump(mode="json"))
    assert results is not None and detail is not None
    assert summarize_widget(results).splitlines()[:2] == [
        "2 items for “lamp”",
        "- Brass desk lamp · Home · ★ 4.5 · itm_00042 · $12.99 · In stock",
    ]
    assert summarize_widget(detail).startswith("Brass desk lamp · $12.99 · Home · In stock · ★ 4.5")


def test_summary_is_trimmed_and_flattened() -> None:
    tasks = [samples.task(f"Task {i}\nwith a second line", task_id=f"task_{i:012d}") for i in range(40)]
    widget = render_tool_result("tasks", "list_tasks", samples.task_list(tasks))
    assert widget is not None
    summary = summarize_widget(widget)
    assert 480 < len(summary) <= 500 and summary.endswith("…")
    assert "Task 0 with a second line" in summary
    assert len(summarize_widget(widget, limit=80)) <= 80


def test_summary_of_widget_json_and_of_nothing() -> None:
    widget = render_tool_result("tasks", "list_tasks", samples.task_list([]))
    assert widget is not None
    as_json = widget.model_dump(mode="json")
    assert summarize_widget(as_json) == summarize_widget(widget)
    assert summarize_widget({"type": "Card", "children": []}) == ""
    assert (
        summarize_widget({"type": "Card", "children": [{"type": "Markdown", "value": "**hi**"}]}) == "**hi**"
    )
