"""Resources, prompts and completions through the official client, in memory, in both protocol eras:
what each server advertises and serves, per-caller scoping, and JSON-RPC errors without tracebacks."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable
from datetime import date, timedelta
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, PromptReference, ResourceTemplateReference

from mcp_servers.common.identity import IDENTITY_META_KEY, TokenCodec
from mcp_servers.items.server import create_items_server
from mcp_servers.items.settings import ItemsSettings
from mcp_servers.tasks.server import create_tasks_server
from mcp_servers.tasks.settings import TasksSettings
from tests.conftest import SECRET
from tests.e2e.scenarios import CAPABILITIES, MODES, PROTOCOL, TASK_TEMPLATE
from tests.mcp_servers.conftest import as_user

ITEM_TEMPLATE = ResourceTemplateReference(type="ref/resource", uri="items://items/{item_id}")
GIFT = PromptReference(type="ref/prompt", name="find_a_gift")
ITEM_LINE = re.compile(r"^- (itm_\w+) ", re.MULTILINE)


@pytest.fixture(params=MODES)
async def tasks(request: pytest.FixtureRequest, tasks_settings: TasksSettings) -> AsyncIterator[Client]:
    """An in-memory tasks server in the modern era, then the legacy one (no token: 'local-owner')."""
    server = create_tasks_server(tasks_settings, transport="memory")
    async with Client(server, mode=request.param) as client:
        assert client.protocol_version == PROTOCOL[request.param]
        yield client


@pytest.fixture(params=MODES)
async def items(request: pytest.FixtureRequest, items_db: str, tmp_path) -> AsyncIterator[Client]:
    """An in-memory items server on the packaged catalog, in each era."""
    settings = ItemsSettings(
        ITEMS_DATABASE_URL=items_db, MCP_AUTH_SECRET=SECRET, MCP_AUTH_SECRET_FILE=tmp_path / "unused-secret"
    )
    async with Client(create_items_server(settings, transport="memory"), mode=request.param) as client:
        assert client.protocol_version == PROTOCOL[request.param]
        yield client


async def protocol_error(call: Awaitable[Any]) -> MCPError:
    """The JSON-RPC error the request must end in."""
    with pytest.raises(MCPError) as raised:
        await call
    return raised.value


def no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing at ERROR or above, and no traceback at any level."""
    bad = [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
    assert not bad, [record.getMessage() for record in bad]


async def add(client: Client, title: str, meta: dict[str, Any] | None = None, **fields: Any) -> str:
    result = await client.call_tool("add_task", {"title": title, **fields}, meta=meta)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return str(result.structured_content["task_id"])


async def test_tasks_advertises_what_it_serves(tasks: Client) -> None:
    """Capabilities name tools, resources, prompts and completions, without listChanged or subscribe,
    and each one is really there, titled and described."""
    assert tasks.server_capabilities.model_dump(by_alias=True, exclude_none=True) == CAPABILITIES
    (template,) = (await tasks.list_resource_templates()).resource_templates
    assert (template.uri_template, template.name, template.mime_type) == (
        "tasks://tasks/{task_id}",
        "task",
        "application/json",
    )
    assert template.title and template.description
    (prompt,) = (await tasks.list_prompts()).prompts
    assert (prompt.name, prompt.title) == ("plan_my_day", "Plan my day") and prompt.description
    assert [(arg.name, arg.required) for arg in prompt.arguments or []] == [("focus", False)]
    assert all(arg.description for arg in prompt.arguments or [])
    assert (await tasks.complete(TASK_TEMPLATE, {"name": "task_id", "value": ""})).completion.values == []
    assert "tasks://tasks/{task_id}" in (tasks.instructions or "")
    assert "plan_my_day" in (tasks.instructions or "")


async def test_items_advertises_what_it_serves(items: Client) -> None:
    """The items server serves the same capabilities: an item template, the categories resource,
    a gift prompt with described arguments, and completions."""
    assert items.server_capabilities.model_dump(by_alias=True, exclude_none=True) == CAPABILITIES
    (template,) = (await items.list_resource_templates()).resource_templates
    assert (template.uri_template, template.mime_type) == ("items://items/{item_id}", "application/json")
    assert template.title and template.description
    (categories,) = (await items.list_resources()).resources
    assert (categories.uri, categories.mime_type) == ("items://categories", "application/json")
    assert categories.title and categories.description
    (prompt,) = (await items.list_prompts()).prompts
    assert (prompt.name, prompt.title) == ("find_a_gift", "Find a gift") and prompt.description
    arguments = [(arg.name, arg.required) for arg in prompt.arguments or []]
    assert arguments == [("recipient", True), ("budget", False), ("category", False)]
    assert all(arg.description for arg in prompt.arguments or [])
    for name in ("items://items/{item_id}", "items://categories", "find_a_gift"):
        assert name in (items.instructions or "")


async def test_a_task_resource_is_the_callers_task_as_json(tasks: Client, codec: TokenCodec) -> None:
    """tasks://tasks/{id} is the get_task result as JSON, for its owner only: another user gets the
    same not-found error as for an id that does not exist."""
    task_id = await add(tasks, "Water the plants", due_date="2026-05-01", priority="high")
    uri = f"tasks://tasks/{task_id}"
    (content,) = (await tasks.read_resource(uri)).contents
    assert (str(content.uri), content.mime_type) == (uri, "application/json")
    got = await tasks.call_tool("get_task", {"task_id": task_id})
    assert json.loads(content.text) == got.structured_content  # type: ignore[union-attr]
    as_owner = await tasks.read_resource(uri, meta=as_user(codec, "local-owner"))
    assert json.loads(as_owner.contents[0].text)["title"] == "Water the plants"  # type: ignore[union-attr]

    foreign = await protocol_error(tasks.read_resource(uri, meta=as_user(codec, "mallory")))
    missing = await protocol_error(tasks.read_resource("tasks://tasks/task_000000000000"))
    for error, asked in ((foreign, uri), (missing, "tasks://tasks/task_000000000000")):
        assert error.error.code == INVALID_PARAMS
        assert error.error.data == {"uri": asked}
        assert error.error.message.startswith("No task with id")
    assert "Water" not in foreign.error.message
    assert foreign.error.message == missing.error.message.replace("task_000000000000", task_id)


async def test_resource_list_shows_the_callers_tasks_page_by_page(tasks: Client, codec: TokenCodec) -> None:
    """resources/list names each of the caller's tasks (newest first, 50 a page) and nobody else's."""
    mine = [await add(tasks, f"mine {index}") for index in range(53)]
    theirs = await add(tasks, "someone else's", as_user(codec, "other"))
    first = await tasks.list_resources()
    assert first.next_cursor is not None
    second = await tasks.list_resources(cursor=first.next_cursor)
    assert second.next_cursor is None
    listed = [*first.resources, *second.resources]
    assert [str(resource.uri) for resource in listed] == [
        f"tasks://tasks/{task_id}" for task_id in mine[::-1]
    ]
    assert len(first.resources) == 50
    assert all(resource.mime_type == "application/json" and resource.title for resource in listed)
    assert listed[0].title == "mine 52" and listed[0].name == mine[-1]
    others = (await tasks.list_resources(meta=as_user(codec, "other"))).resources
    assert [str(resource.uri) for resource in others] == [f"tasks://tasks/{theirs}"]
    bad = await protocol_error(tasks.list_resources(cursor="not-a-cursor"))
    assert bad.error.code == INVALID_PARAMS


async def test_plan_my_day_brings_the_callers_agenda(tasks: Client, codec: TokenCodec) -> None:
    """The prompt lists the caller's pending tasks that are overdue, due within a week or urgent, with
    their ids; later, completed and other users' tasks stay out; `focus` is passed on."""
    today = date.today()
    overdue = await add(tasks, "Renew passport", due_date=(today - timedelta(days=2)).isoformat())
    soon = await add(tasks, "Book dentist", due_date=(today + timedelta(days=3)).isoformat())
    await add(tasks, "Plan next year", due_date=(today + timedelta(days=60)).isoformat())
    done = await add(tasks, "Already done", due_date=today.isoformat())
    assert not (await tasks.call_tool("complete_task", {"task_id": done})).is_error
    await add(tasks, "Mallory's errand", as_user(codec, "mallory"), due_date=today.isoformat())

    result = await tasks.get_prompt("plan_my_day", {"focus": "errands"})
    (message,) = result.messages
    assert message.role == "user"
    text = message.content.text  # type: ignore[union-attr]
    assert f"Today is {today.isoformat()}" in text and "Focus on: errands." in text
    assert f"- {overdue} 'Renew passport'" in text and "overdue since" in text
    assert f"- {soon} 'Book dentist'" in text
    for absent in ("Plan next year", "Already done", "Mallory"):
        assert absent not in text
    assert "2 of my 3 pending task(s)" in text
    assert "list_tasks" in text
    plain = (await tasks.get_prompt("plan_my_day")).messages[0].content.text  # type: ignore[union-attr]
    assert "Focus on" not in plain
    theirs = await tasks.get_prompt("plan_my_day", meta=as_user(codec, "mallory"))
    assert "Mallory's errand" in theirs.messages[0].content.text  # type: ignore[union-attr]


async def test_task_ids_complete_from_the_callers_tasks(tasks: Client, codec: TokenCodec) -> None:
    """Completing task_id offers the caller's ids with the typed prefix, never another user's."""
    mine = await add(tasks, "mine")
    theirs = await add(tasks, "theirs", as_user(codec, "other"))
    offered = (await tasks.complete(TASK_TEMPLATE, {"name": "task_id", "value": "task_"})).completion
    assert (offered.values, offered.total, offered.has_more) == ([mine], 1, False)
    assert (
        await tasks.complete(TASK_TEMPLATE, {"name": "task_id", "value": mine[:8]})
    ).completion.values == [mine]
    assert (await tasks.complete(TASK_TEMPLATE, {"name": "task_id", "value": theirs})).completion.values == []


async def test_items_resources_are_the_tools_results_as_json(items: Client) -> None:
    """items://items/{id} is get_item's result and items://categories is list_categories' result."""
    (item,) = (await items.read_resource("items://items/itm_00001")).contents
    assert item.mime_type == "application/json"
    tool = await items.call_tool("get_item", {"item_id": "itm_00001"})
    assert json.loads(item.text) == tool.structured_content  # type: ignore[union-attr]
    (categories,) = (await items.read_resource("items://categories")).contents
    assert (str(categories.uri), categories.mime_type) == ("items://categories", "application/json")
    listed = await items.call_tool("list_categories", {})
    assert json.loads(categories.text) == listed.structured_content  # type: ignore[union-attr]
    missing = await protocol_error(items.read_resource("items://items/itm_99999"))
    assert (missing.error.code, missing.error.data) == (INVALID_PARAMS, {"uri": "items://items/itm_99999"})


async def test_categories_complete_by_prefix(items: Client) -> None:
    """The gift prompt's category completes to the catalog's names that start with the typed text
    (any case); an argument without completions gets none; item ids complete too."""
    listed = (await items.call_tool("list_categories", {})).structured_content
    assert listed is not None
    names = [entry["name"] for entry in listed["categories"]]
    everything = (await items.complete(GIFT, {"name": "category", "value": ""})).completion
    assert (everything.values, everything.total, everything.has_more) == (names, len(names), False)
    kitchen = (await items.complete(GIFT, {"name": "category", "value": "KIT"})).completion.values
    assert kitchen == [name for name in names if name.casefold().startswith("kit")] and kitchen
    assert (await items.complete(GIFT, {"name": "category", "value": "zz"})).completion.values == []
    assert (await items.complete(GIFT, {"name": "recipient", "value": "my"})).completion.values == []
    ids = (await items.complete(ITEM_TEMPLATE, {"name": "item_id", "value": "itm_0000"})).completion
    assert ids.values == [f"itm_0000{digit}" for digit in range(1, 10)]
    many = (await items.complete(ITEM_TEMPLATE, {"name": "item_id", "value": "itm_"})).completion
    assert (len(many.values), many.total, many.has_more) == (100, None, True)


async def test_find_a_gift_starts_from_items_within_the_limits(items: Client) -> None:
    """The prompt names the recipient and limits, and its starting items are in stock, in the
    category (spelled as the catalog does) and within the budget."""
    result = await items.get_prompt(
        "find_a_gift", {"recipient": "my dad, who cooks", "budget": "30", "category": "kitchen"}
    )
    text = result.messages[0].content.text  # type: ignore[union-attr]
    assert text.startswith("Help me find a gift for my dad, who cooks, under $30.00 in Kitchen.")
    assert "search_items" in text and "category='Kitchen'" in text and "max_price=30" in text
    starters = ITEM_LINE.findall(text)
    assert starters
    for item_id in starters:
        item = (await items.call_tool("get_item", {"item_id": item_id})).structured_content
        assert item is not None
        assert item["category"] == "Kitchen" and item["in_stock"] and item["price"] <= 30, item
    anything = (await items.get_prompt("find_a_gift", {"recipient": "a friend"})).messages[0].content
    assert ITEM_LINE.findall(anything.text)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, "needs the argument(s): recipient"),
        ({"recipient": "x", "category": "Spaceships"}, "Unknown category 'Spaceships'. Categories: "),
        ({"recipient": "x", "budget": "lots"}, "budget"),
        ({"recipient": "x", "budget": "-5"}, "budget"),
        ({"recipient": "   "}, "recipient"),
    ],
    ids=[
        "missing_recipient",
        "unknown_category",
        "budget_not_a_number",
        "negative_budget",
        "blank_recipient",
    ],
)
async def test_bad_gift_arguments_are_invalid_params(
    items: Client, arguments: dict[str, str], says: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing, unknown or malformed prompt argument is -32602 with a sentence naming it, logged
    without a traceback."""
    caplog.set_level(logging.DEBUG)
    error = await protocol_error(items.get_prompt("find_a_gift", arguments))
    assert error.error.code == INVALID_PARAMS
    assert says in error.error.message
    no_error_logged(caplog)


async def test_unknown_names_are_invalid_params_without_tracebacks(
    tasks: Client, items: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown prompt, resource, template or argument is -32602 (the uri in data for resources);
    the server logs no ERROR and no traceback for any of them."""
    caplog.set_level(logging.DEBUG)
    for client, prompts in ((tasks, "plan_my_day"), (items, "find_a_gift")):
        prompt = await protocol_error(client.get_prompt("no_such_prompt"))
        assert prompt.error.code == INVALID_PARAMS
        assert prompt.error.message == f"Unknown prompt 'no_such_prompt'. Prompts: {prompts}."
        for uri in ("nowhere://at/all", "tasks://elsewhere/1", "items://items/../../etc/passwd"):
            resource = await protocol_error(client.read_resource(uri))
            assert (resource.error.code, resource.error.data) == (INVALID_PARAMS, {"uri": uri})
        unknown_ref = PromptReference(type="ref/prompt", name="no_such_prompt")
        for ref, argument in (
            (unknown_ref, "x"),
            (ResourceTemplateReference(type="ref/resource", uri="nowhere://{x}"), "x"),
            (PromptReference(type="ref/prompt", name=prompts), "no_such_argument"),
        ):
            completion = await protocol_error(client.complete(ref, {"name": argument, "value": ""}))
            assert completion.error.code == INVALID_PARAMS
    too_long = await protocol_error(tasks.get_prompt("plan_my_day", {"focus": "x" * 201}))
    assert too_long.error.code == INVALID_PARAMS and "focus" in too_long.error.message
    no_error_logged(caplog)


async def test_an_invalid_meta_token_is_refused_not_ignored(tasks: Client, items: Client) -> None:
    """A forged or non-string `_meta` token on a resource read, a listing or a prompt is -32602
    'Refused', never answered as the local user."""
    forged = {IDENTITY_META_KEY: TokenCodec("another-secret-of-the-same-length-0123456789ab").mint("x")}
    task_id = await add(tasks, "local only")
    for meta in (forged, {IDENTITY_META_KEY: 42}):
        calls = [
            tasks.read_resource(f"tasks://tasks/{task_id}", meta=meta),
            tasks.list_resources(meta=meta),
            tasks.get_prompt("plan_my_day", meta=meta),
            items.read_resource("items://categories", meta=meta),
            items.read_resource("items://items/itm_00001", meta=meta),
            items.get_prompt("find_a_gift", {"recipient": "x"}, meta=meta),
        ]
        for call in calls:
            error = await protocol_error(call)
            assert error.error.code == INVALID_PARAMS and error.error.message.startswith("Refused"), error
