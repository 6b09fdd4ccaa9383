"""The action table as data: its entries, the controls templates render from it, what a widget
offers, and what an action's result does to the widgets (pure: no tool is called here)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp import Client
from pydantic import ValidationError

from mcp_servers.tasks.models import Priority, TaskStatus
from shared_widgets import (
    ACTIONS,
    BUILTIN,
    TEMPLATES,
    ActionRefused,
    ActionSpec,
    SourceCall,
    WidgetState,
    bind_tool_result,
    matching_action,
    offered_actions,
)
from shared_widgets.outcomes import outcome
from tests.shared_widgets import samples
from tests.shared_widgets.checks import texts, walk

MILK, PLUMBER = "task_a1b2c3d4e5f6", "task_zzzzzzzzzzz1"
DOCUMENTED_TYPES = {
    "tasks.complete", "tasks.reopen", "tasks.delete", "tasks.update", "tasks.filter",
    "items.show", "items.add_to_tasks", "approval.approve", "approval.reject",
}  # fmt: skip


def rendered(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return TEMPLATES[name].build(data).model_dump(exclude_none=True)


def list_state(**ui: Any) -> WidgetState:
    source = SourceCall(server="tasks", tool="list_tasks", arguments={"status": "pending", "query": "milk"})
    return WidgetState(template="task_list", data=samples.task_list(), source=source, ui=ui)


def every_case_offer() -> list[tuple[str, str]]:
    return [
        (name, control.type)
        for name, data in samples.TEMPLATE_CASES
        for control in offered_actions(rendered(name, data))
    ]


def test_the_table_has_the_contract_types() -> None:
    """The documented widget-action types (docs/widget-actions.md) are all there (the edit form and
    the delete question add three)."""
    assert set(ACTIONS.actions) >= DOCUMENTED_TYPES
    assert set(ACTIONS.actions) - DOCUMENTED_TYPES == {"tasks.edit", "tasks.confirm_delete", "tasks.cancel"}


def test_templates_use_only_table_types_and_every_type_is_used() -> None:
    used = {action for _, action in every_case_offer()}
    assert used == set(ACTIONS.actions)


@pytest.mark.parametrize(("name", "data"), samples.TEMPLATE_CASES)
def test_controls_are_sent_as_the_table_says(name: str, data: dict[str, Any]) -> None:
    """Each rendered ActionConfig is server-handled, streams exactly when the table says so, and
    carries ids only (form values are added by the UI)."""
    for node in walk(rendered(name, data)):
        for key in ("onClickAction", "onSubmitAction"):
            if key not in node:
                continue
            config, spec = node[key], ACTIONS.get(node[key]["type"])
            assert config["handler"] == "server"
            assert config["streaming"] is spec.streaming and config["loadingBehavior"] == spec.loading
            assert set(config["payload"]) <= {"task_id", "item_id", "status", "approval_id"}


async def test_table_tools_and_arguments_exist_on_the_servers(
    tasks_client: Client, items_client: Client
) -> None:
    """Every tool an action calls is one its server offers, and every argument it passes, templates
    or inherits is one of that tool's parameters."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for name, client in (("tasks", tasks_client), ("items", items_client)):
        for tool in (await client.list_tools()).tools:
            schemas[name, tool.name] = tool.input_schema
    for action_type, spec in ACTIONS.actions.items():
        if spec.tool is None:
            continue
        assert spec.server is not None
        parameters = set(schemas[spec.server, spec.tool]["properties"])
        passed = {argument for argument in spec.payload.values() if argument} | set(spec.arguments)
        assert passed | set(spec.inherit) <= parameters, action_type


def test_a_list_offers_per_task_controls_and_filters() -> None:
    offered = offered_actions(rendered("task_list", samples.task_list()))
    by_type: dict[str, list[Any]] = {}
    for control in offered:
        by_type.setdefault(control.type, []).append(dict(control.payload))
    assert by_type["tasks.filter"] == [{"status": "all"}, {"status": "pending"}, {"status": "completed"}]
    assert {"task_id": MILK} in by_type["tasks.complete"]
    assert {"task_id": "task_zzzzzzzzzzz2"} in by_type["tasks.reopen"]  # the completed one reopens
    assert len(by_type["tasks.edit"]) == len(by_type["tasks.confirm_delete"]) == 3
    assert all(not control.streaming and not control.fields for control in offered)


def test_an_open_form_sends_its_fields_with_save_and_cancel() -> None:
    offered = offered_actions(
        rendered("task_card", samples.with_ui(samples.task_change(), {"editing": MILK}))
    )
    update = next(control for control in offered if control.type == "tasks.update")
    cancel = next(control for control in offered if control.type == "tasks.cancel")
    fields = frozenset({"title", "description", "due_date", "priority"})
    assert update.fields == fields and cancel.fields == fields
    assert {control.type for control in offered} == {"tasks.update", "tasks.cancel"}


def test_a_request_must_match_a_control_of_the_widget() -> None:
    offered = offered_actions(
        rendered("task_card", samples.with_ui(samples.task_change(), {"editing": MILK}))
    )
    form = {"title": "x", "description": "", "due_date": "", "priority": "low"}
    assert matching_action(offered, "tasks.update", {"task_id": MILK, **form}) is not None
    assert matching_action(offered, "tasks.update", {"task_id": MILK}) is not None  # fields are optional
    assert matching_action(offered, "tasks.update", {"task_id": PLUMBER, **form}) is None  # another task
    assert matching_action(offered, "tasks.update", {"task_id": MILK, "tool": "delete_task"}) is None
    assert matching_action(offered, "tasks.update", form) is None  # the id the widget sends is missing
    assert matching_action(offered, "tasks.delete", {"task_id": MILK}) is None  # not offered while editing


def test_search_results_offer_details_and_add_to_tasks_per_item() -> None:
    offered = offered_actions(rendered("item_results", samples.search_result()))
    assert [(c.type, dict(c.payload), c.streaming) for c in offered] == [
        ("items.show", {"item_id": "itm_00042"}, True),
        ("items.add_to_tasks", {"item_id": "itm_00042"}, True),
        ("items.show", {"item_id": "itm_00007"}, True),
        ("items.add_to_tasks", {"item_id": "itm_00007"}, True),
    ]


def test_completing_from_a_card_renders_the_result_in_its_place() -> None:
    bound = bind_tool_result("tasks", "add_task", samples.task_change("created"), {"title": "Buy milk"})
    assert bound is not None and {offer.type for offer in bound.state.offers} == {
        "tasks.complete", "tasks.edit", "tasks.confirm_delete",
    }  # fmt: skip
    call = SourceCall(server="tasks", tool="complete_task", arguments={"task_id": MILK})
    done_task = samples.task(status=TaskStatus.completed)
    result = outcome(
        BUILTIN,
        ACTIONS.get("tasks.complete"),
        bound.state,
        {"task_id": MILK},
        call,
        samples.task_change("completed", done_task),
    )
    assert result.added is None and result.sender is not None
    assert result.sender.state.template == "task_card" and result.sender.state.source == call
    raw = result.sender.widget.model_dump(exclude_none=True)
    assert "Task completed" in texts(raw) and "Reopen" in texts(raw)


def test_completing_from_a_list_replaces_that_row_only() -> None:
    done = samples.task(status=TaskStatus.completed)
    call = SourceCall(server="tasks", tool="complete_task", arguments={"task_id": MILK})
    result = outcome(
        BUILTIN,
        ACTIONS.get("tasks.complete"),
        list_state(),
        {"task_id": MILK},
        call,
        samples.task_change("completed", done),
    )
    assert result.sender is not None
    state = result.sender.state
    assert state.source == list_state().source  # the list is still the list it was
    assert [task["status"] for task in state.data["tasks"]] == ["completed", "pending", "completed"]
    assert state.data["total"] == 3


def test_deleting_from_a_list_removes_the_row_and_counts_it() -> None:
    call = SourceCall(server="tasks", tool="delete_task", arguments={"task_id": MILK})
    state = list_state(confirming=MILK)
    result = outcome(
        BUILTIN, ACTIONS.get("tasks.delete"), state, {"task_id": MILK}, call, samples.task_change("deleted")
    )
    assert result.sender is not None
    assert [task["id"] for task in result.sender.state.data["tasks"]] == [PLUMBER, "task_zzzzzzzzzzz2"]
    assert result.sender.state.data["total"] == 2 and result.sender.state.ui == {}
    assert "Buy milk" not in texts(result.sender.widget.model_dump(exclude_none=True))


def test_filtering_takes_the_new_list_and_keeps_the_query() -> None:
    spec = ACTIONS.get("tasks.filter")
    arguments = spec.arguments_for({"status": "completed"}, list_state())
    assert arguments == {"status": "completed", "query": "milk"}
    call = SourceCall(server="tasks", tool="list_tasks", arguments=arguments)
    fresh = samples.task_list(samples.some_tasks()[2:])
    result = outcome(BUILTIN, spec, list_state(), {"status": "completed"}, call, fresh)
    assert result.sender is not None and result.sender.state.data == fresh
    assert result.sender.state.source == call
    filters = result.sender.widget.model_dump(exclude_none=True)["children"][0]["children"]
    assert [button["variant"] for button in filters] == ["ghost", "ghost", "solid"]


def test_editing_opens_the_form_on_that_row_and_cancel_closes_it() -> None:
    call = SourceCall(server="tasks", tool="get_task", arguments={"task_id": MILK})
    opened = outcome(
        BUILTIN,
        ACTIONS.get("tasks.edit"),
        list_state(),
        {"task_id": MILK},
        call,
        samples.task().model_dump(mode="json"),
    )
    assert opened.sender is not None and opened.sender.state.ui == {"editing": MILK}
    forms = [
        node for node in walk(opened.sender.widget.model_dump(exclude_none=True)) if node["type"] == "Form"
    ]
    assert len(forms) == 1
    closed = outcome(BUILTIN, ACTIONS.get("tasks.cancel"), opened.sender.state, {"task_id": MILK}, None, None)
    assert closed.sender is not None and closed.sender.state.ui == {}
    assert closed.sender.state.data == opened.sender.state.data


def test_adding_an_item_to_tasks_builds_the_title_from_the_shown_record() -> None:
    spec = ACTIONS.get("items.add_to_tasks")
    results = WidgetState(template="item_results", data=samples.search_result())
    arguments = spec.arguments_for({"item_id": "itm_00042"}, results)
    assert arguments == {
        "title": "Buy Brass desk lamp",
        "description": "Catalog item itm_00042: Brass desk lamp, $12.99.",
    }
    with pytest.raises(ActionRefused, match="no record with that item_id"):
        spec.arguments_for({"item_id": "itm_99999"}, results)
    call = SourceCall(server="tasks", tool="add_task", arguments=arguments)
    created = samples.task_change("created", samples.task("Buy Brass desk lamp", task_id="task_new000000001"))
    result = outcome(BUILTIN, spec, results, {"item_id": "itm_00042"}, call, created)
    assert result.sender is None  # the results stay as they were
    assert result.added is not None and result.added.state.template == "task_card"
    note = spec.note_for({"item_id": "itm_00042"}, results, created, "Task created: ...")
    assert note == (
        "From a widget, the user added the catalog item Brass desk lamp (itm_00042) to their tasks "
        "as “Buy Brass desk lamp” (task_new000000001)."
    )


def test_table_entries_are_checked_when_loaded() -> None:
    """A table that cannot work is refused at start, saying why."""
    bad = [
        ({"server": "tasks", "payload": {}}, "both `server` and `tool`"),
        ({"payload": {"task_id": None}, "show": "add"}, "need a tool"),
        ({"server": "t", "tool": "x", "payload": {"a": "a"}, "record": "b"}, "not a payload key"),
        ({"payload": {"a": None}, "ui": {"editing": "b"}}, "payload lacks"),
        ({"server": "t", "tool": "x", "payload": {"a": "title"}, "arguments": {"title": "x"}}, "one place"),
        ({"server": "t", "tool": "x", "payload": {}, "arguments": {"title": "{{ oops"}}, "argument 'title'"),
        ({"server": "t", "tool": "x", "payload": {}, "unknown": 1}, "Extra inputs"),
    ]
    for entry, message in bad:
        with pytest.raises(ValidationError, match=message):
            ActionSpec.model_validate(entry)


def test_the_shipped_table_is_the_union_of_the_folders_manifests() -> None:
    from importlib import resources

    root = resources.files("shared_widgets") / "templates"
    declared: list[str] = []
    for manifest in (root / "widgets.json", root / "tasks" / "widgets.json", root / "items" / "widgets.json"):
        declared.extend(json.loads(manifest.read_text(encoding="utf-8")).get("actions", {}))
    assert sorted(declared) == sorted(ACTIONS.actions)


def test_the_documented_example_entry_works() -> None:
    """docs/widget-actions.md's "Make it urgent": a fixed argument from the table, the row replaced."""
    spec = ActionSpec.model_validate(
        {
            "server": "tasks",
            "tool": "update_task",
            "payload": {"task_id": "task_id"},
            "arguments": {"priority": "high"},
            "note": "From a widget, the user made the task “{{ result.title }}” high priority.",
        }
    )
    assert spec.arguments_for({"task_id": MILK}, list_state()) == {"task_id": MILK, "priority": "high"}
    call = SourceCall(server="tasks", tool="update_task", arguments={"task_id": MILK, "priority": "high"})
    urgent = samples.task_change("updated", samples.task(priority=Priority.high))
    result = outcome(BUILTIN, spec, list_state(), {"task_id": MILK}, call, urgent)
    assert result.sender is not None
    assert [task["priority"] for task in result.sender.state.data["tasks"]] == ["high", "high", "low"]
    note = spec.note_for({"task_id": MILK}, list_state(), urgent, "")
    assert note == "From a widget, the user made the task “Buy milk” high priority."
