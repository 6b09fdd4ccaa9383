"""CONTRACT: each template's `jsonSchema` is the output schema of the tools it renders.

What is compared: both schemas normalized (every `$ref` inlined, the annotations title, description,
default, examples dropped, `required` sorted) must be equal: same properties at every depth, same
types, enums, formats, nullability and required fields. The one documented difference: task_card's
`status` also accepts null, because get_task's bare Task is shown as a change of kind null. On top,
the template source reads only top-level names its schema declares, and every sample result and
every live tool result validates against the template's schema.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jinja2.meta
import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from pydantic import BaseModel

from mcp_servers.items.models import CategoryList, Item, ItemSearchResult
from mcp_servers.tasks.models import Task, TaskChange, TaskList
from shared_widgets import BUILTIN, TEMPLATES, render_tool_result
from shared_widgets.approval import ApprovalView
from shared_widgets.generic import GenericCard, GenericList
from shared_widgets.library import load_library
from shared_widgets.loader import template_environment
from shared_widgets.schema_fit import misfits
from shared_widgets.state import RESERVED_NAMES
from tests.shared_widgets import samples
from tests.shared_widgets.checks import normalize_schema

TASK_CHANGE_TOOLS = ("add_task", "update_task", "complete_task", "reopen_task", "delete_task")
OUTPUT_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("tasks", "list_tasks"): TaskList,
    ("tasks", "get_task"): Task,
    **{("tasks", tool): TaskChange for tool in TASK_CHANGE_TOOLS},
    ("items", "search_items"): ItemSearchResult,
    ("items", "get_item"): Item,
    ("items", "list_categories"): CategoryList,
}
EXACT: dict[str, type[BaseModel]] = {
    "task_list": TaskList,
    "item_results": ItemSearchResult,
    "item_detail": Item,
    "category_list": CategoryList,
    "generic_list": GenericList,
    "generic_card": GenericCard,
    "approval": ApprovalView,
}


def task_card_expected() -> dict[str, Any]:
    """The task card takes a TaskChange (what changing tools return) or a bare Task (get_task)."""
    return {
        "type": "object",
        "anyOf": [
            normalize_schema(TaskChange.model_json_schema()),
            normalize_schema(Task.model_json_schema()),
        ],
    }


def validator(template: str) -> Draft202012Validator:
    schema = TEMPLATES[template].data_schema
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("template", sorted(EXACT))
def test_template_schema_is_the_output_schema(template: str) -> None:
    assert normalize_schema(TEMPLATES[template].data_schema) == normalize_schema(
        EXACT[template].model_json_schema()
    )


def test_task_card_schema_is_task_change_or_task() -> None:
    assert normalize_schema(TEMPLATES["task_card"].data_schema) == task_card_expected()


def test_every_bound_template_fits_its_tool() -> None:
    """Each (server, tool) binding points at a template that takes every result the tool's output
    schema allows (the check a backend makes at start), and for our own tools the schemas agree."""
    assert set(BUILTIN.bindings) == set(OUTPUT_MODELS)
    for key, binding in BUILTIN.bindings.items():
        schema = TEMPLATES[binding.template].data_schema
        model = OUTPUT_MODELS[key]
        assert misfits(schema, model.model_json_schema()) == [], key
        if binding.template == "task_card":
            assert normalize_schema(schema) == task_card_expected(), key
        else:
            assert normalize_schema(schema) == normalize_schema(model.model_json_schema()), key


def test_a_template_that_does_not_fit_a_tool_is_said_so() -> None:
    """The fit check is a real constraint: another tool's shape, a missing or optional field, a
    type or enum the template does not take."""
    assert misfits(TEMPLATES["task_list"].data_schema, Item.model_json_schema())
    assert misfits(TEMPLATES["task_card"].data_schema, TaskList.model_json_schema())
    item = Item.model_json_schema()
    optional_name = {**item, "required": [name for name in item["required"] if name != "name"]}
    assert any(
        "`name`, which the tool may leave out" in problem
        for problem in misfits(TEMPLATES["item_detail"].data_schema, optional_name)
    )
    wider = copy.deepcopy(TaskList.model_json_schema())
    wider["$defs"]["Priority"]["enum"].append("urgent")
    assert any("'urgent'" in problem for problem in misfits(TEMPLATES["task_list"].data_schema, wider))


def test_get_task_results_fit_the_card_schema() -> None:
    """get_task's bare Task is shown on the task card as it is (no transformation in Python)."""
    for subject in samples.some_tasks():
        validator("task_card").validate(subject.model_dump(mode="json"))


def template_source(name: str) -> str:
    root = resources.files("shared_widgets") / "templates"
    for folder in (root, root / "tasks", root / "items"):
        path = folder / f"{name}.widget"
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))["template"]
    raise LookupError(name)


def schema_properties(schema: dict[str, Any], root: dict[str, Any] | None = None) -> set[str]:
    """Top-level property names, through `anyOf` branches and local `$ref`s."""
    root = root or schema
    if "$ref" in schema:
        return schema_properties(root["$defs"][schema["$ref"].rsplit("/", 1)[-1]], root)
    names = set(schema.get("properties", {}))
    for branch in schema.get("anyOf", []):
        names |= schema_properties(branch, root)
    return names


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_templates_read_only_declared_names(template: str) -> None:
    """Top-level names the Jinja source reads (beyond the globals: Jinja's and `action()`) are schema
    properties, or the two every template may read: `ui` and `call`."""
    environment = template_environment(BUILTIN.actions)
    read = jinja2.meta.find_undeclared_variables(environment.parse(template_source(template)))
    declared = set(schema_properties(TEMPLATES[template].data_schema)) | RESERVED_NAMES
    assert read - set(environment.globals) <= declared


@pytest.mark.parametrize(
    ("name", "data"),
    samples.TEMPLATE_CASES,
    ids=[f"{name}-{i}" for i, (name, _) in enumerate(samples.TEMPLATE_CASES)],
)
def test_sample_data_fits_template_schema(name: str, data: dict[str, Any]) -> None:
    validator(name).validate(data)


def test_schemas_reject_wrong_shapes() -> None:
    """The schemas are real constraints, not `{}`: a missing field or a wrong enum fails."""
    change = samples.task_change()
    for broken in (
        {key: value for key, value in change.items() if key != "task"},
        {**change, "status": "archived"},
        {**change, "task": {**change["task"], "priority": "urgent"}},
    ):
        assert not validator("task_card").is_valid(broken)
    results = samples.search_result()
    assert not validator("item_results").is_valid({**results, "total": "2"})
    assert not validator("task_list").is_valid({"tasks": [], "total": 0})


async def tool_listing(client: Client, server: str) -> dict[tuple[str, str], dict[str, Any] | None]:
    return {(server, tool.name): tool.output_schema for tool in (await client.list_tools()).tools}


async def test_live_servers_every_tool_has_its_template(tasks_client: Client, items_client: Client) -> None:
    """What MCP clients see: every tool the servers list is bound, and its advertised output schema is
    the model the templates were compared with above."""
    listed = await tool_listing(tasks_client, "tasks") | await tool_listing(items_client, "items")
    assert set(listed) == set(BUILTIN.bindings) == set(OUTPUT_MODELS)
    for key, schema in listed.items():
        assert schema is not None, key
        assert normalize_schema(schema) == normalize_schema(OUTPUT_MODELS[key].model_json_schema()), key
    for server in ("tasks", "items"):
        outputs = {tool: schema for (owner, tool), schema in listed.items() if owner == server}
        assert BUILTIN.misfits(server, outputs) == []


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def render_bound(server: str, tool: str, structured: dict[str, Any]) -> str:
    """Render a live result; prove it went through its own template (no silent generic fallback)."""
    binding = BUILTIN.bindings[server, tool]
    data = structured
    validator(binding.template).validate(data)
    widget = render_tool_result(server, tool, structured)
    assert widget is not None
    built = TEMPLATES[binding.template].build(data)  # the SDK's own way, with its own serializer
    assert widget.model_dump(mode="json", exclude_none=True) == built.model_dump(
        mode="json", exclude_none=True
    )
    return json.dumps(widget.model_dump(mode="json"), ensure_ascii=False)


async def test_live_task_results_render(tasks_client: Client) -> None:
    added = await call(
        tasks_client,
        "add_task",
        {"title": 'Fix "the" </script> 🎉', "description": "line\nbreak", "due_date": "2026-12-24"},
    )
    assert "Task created" in render_bound("tasks", "add_task", added)
    task_id = added["task_id"]
    steps = [
        ("update_task", {"task_id": task_id, "priority": "high"}, "Task updated"),
        ("complete_task", {"task_id": task_id}, "Task completed"),
        ("reopen_task", {"task_id": task_id}, "Task reopened"),
        ("get_task", {"task_id": task_id}, "Task details"),
        ("list_tasks", {}, "1 task"),
        ("delete_task", {"task_id": task_id}, "Task deleted"),
        ("list_tasks", {}, "No tasks to show"),
    ]
    for tool, args, expected in steps:
        assert expected in render_bound("tasks", tool, await call(tasks_client, tool, args)), tool


async def test_live_item_results_render(items_client: Client) -> None:
    found = await call(items_client, "search_items", {"query": "", "limit": 3})
    assert found["items"]
    assert "$" in render_bound("items", "search_items", found)
    item_id = found["items"][0]["id"]
    assert item_id in render_bound(
        "items", "get_item", await call(items_client, "get_item", {"item_id": item_id})
    )
    nothing = await call(items_client, "search_items", {"query": "zzzqqqxxyy"})
    assert "No items match “zzzqqqxxyy”" in render_bound("items", "search_items", nothing)
    assert "categories" in render_bound(
        "items", "list_categories", await call(items_client, "list_categories", {})
    )


def test_template_files_load_the_same_twice() -> None:
    """The module-level cache holds what the files say (no hidden state between loads)."""
    fresh = load_library().templates
    assert set(fresh) == set(TEMPLATES)
    for name, template in fresh.items():
        assert copy.deepcopy(template.data_schema) == TEMPLATES[name].data_schema
