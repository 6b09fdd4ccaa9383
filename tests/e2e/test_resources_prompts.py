"""Resources, prompts and completions of both console scripts, over stdio and streamable HTTP, in the
modern (2026-07-28) and the legacy (initialize) era, through the official client: what is advertised
is what is served, identity scopes every read, and errors leave no traceback in the server's log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, PromptReference

from mcp_servers.common.identity import TokenCodec
from tests.e2e.conftest import HttpConnector, Launcher, ServerProcess, server_env, stdio_params
from tests.e2e.scenarios import CAPABILITIES, MODES, PROTOCOL, TASK_TEMPLATE, as_user, bad_tokens, call_ok

pytestmark = pytest.mark.e2e

SCRIPTS = ["tasks-mcp", "items-mcp"]
GIFT = PromptReference(type="ref/prompt", name="find_a_gift")


async def protocol_error(call: Awaitable[Any]) -> MCPError:
    """The JSON-RPC error the request must end in."""
    with pytest.raises(MCPError) as raised:
        await call
    return raised.value


def assert_no_traceback(log: str) -> None:
    """The server logged no ERROR and no traceback (it logs at INFO in these tests)."""
    assert "Traceback" not in log, log
    assert "ERROR" not in log, log


async def tasks_scenario(client: Client, codec: TokenCodec, mode: str) -> None:
    """Capabilities; the caller's task as a resource, in the listing, in plan_my_day and in
    completions; another user and a bad `_meta` token refused; unknown names -32602."""
    assert client.protocol_version == PROTOCOL[mode]
    assert client.server_capabilities.model_dump(by_alias=True, exclude_none=True) == CAPABILITIES
    created = await call_ok(client, "add_task", {"title": "Call mum", "due_date": date.today().isoformat()})
    task_id, uri = created["task_id"], f"tasks://tasks/{created['task_id']}"
    (content,) = (await client.read_resource(uri)).contents
    assert content.mime_type == "application/json"
    assert json.loads(content.text)["title"] == "Call mum"  # type: ignore[union-attr]
    assert uri in [str(resource.uri) for resource in (await client.list_resources()).resources]
    (template,) = (await client.list_resource_templates()).resource_templates
    assert template.uri_template == TASK_TEMPLATE.uri
    plan = (await client.get_prompt("plan_my_day", {"focus": "family"})).messages[0].content
    assert f"- {task_id} 'Call mum'" in plan.text and "Focus on: family." in plan.text  # type: ignore[union-attr]
    offered = await client.complete(TASK_TEMPLATE, {"name": "task_id", "value": task_id[:7]})
    assert task_id in offered.completion.values

    stranger = as_user(codec.mint("stranger"))
    foreign = await protocol_error(client.read_resource(uri, meta=stranger))
    assert (foreign.error.code, foreign.error.data) == (INVALID_PARAMS, {"uri": uri})
    assert foreign.error.message.startswith("No task with id")
    assert (await client.list_resources(meta=stranger)).resources == []
    other_plan = (await client.get_prompt("plan_my_day", meta=stranger)).messages[0].content
    assert "Call mum" not in other_plan.text  # type: ignore[union-attr]
    for token in bad_tokens().values():
        refused = await protocol_error(client.read_resource(uri, meta=as_user(token)))
        assert refused.error.code == INVALID_PARAMS and refused.error.message.startswith("Refused")
    await unknown_names(client)


async def items_scenario(client: Client, mode: str) -> None:
    """Capabilities; an item and the categories as resources; find_a_gift; category completions;
    unknown names -32602."""
    assert client.protocol_version == PROTOCOL[mode]
    assert client.server_capabilities.model_dump(by_alias=True, exclude_none=True) == CAPABILITIES
    (categories,) = (await client.read_resource("items://categories")).contents
    names = [entry["name"] for entry in json.loads(categories.text)["categories"]]  # type: ignore[union-attr]
    assert "Kitchen" in names
    assert [str(resource.uri) for resource in (await client.list_resources()).resources] == [
        "items://categories"
    ]
    (item,) = (await client.read_resource("items://items/itm_00001")).contents
    assert json.loads(item.text)["id"] == "itm_00001"  # type: ignore[union-attr]
    gift = await client.get_prompt("find_a_gift", {"recipient": "a tea lover", "budget": "25"})
    assert "a tea lover, under $25.00" in gift.messages[0].content.text  # type: ignore[union-attr]
    completed = await client.complete(GIFT, {"name": "category", "value": "kit"})
    assert completed.completion.values == ["Kitchen"]
    bad = await protocol_error(client.get_prompt("find_a_gift", {"recipient": "x", "category": "Moon rocks"}))
    assert bad.error.code == INVALID_PARAMS and "Unknown category 'Moon rocks'" in bad.error.message
    missing = await protocol_error(client.read_resource("items://items/itm_99999"))
    assert (missing.error.code, missing.error.data) == (INVALID_PARAMS, {"uri": "items://items/itm_99999"})
    await unknown_names(client)


async def unknown_names(client: Client) -> None:
    """An unknown prompt and an unknown resource: -32602, the uri in the resource error's data."""
    prompt = await protocol_error(client.get_prompt("no_such_prompt"))
    assert prompt.error.code == INVALID_PARAMS
    assert prompt.error.message.startswith("Unknown prompt 'no_such_prompt'")
    resource = await protocol_error(client.read_resource("nowhere://at/all"))
    assert (resource.error.code, resource.error.data) == (INVALID_PARAMS, {"uri": "nowhere://at/all"})


@asynccontextmanager
async def stdio(script: str, directory: Path, mode: str, errlog: Path) -> AsyncIterator[Client]:
    """The official client on `script` over stdio, the server's stderr kept in `errlog`."""
    env = server_env(directory, MCP_LOG_LEVEL="INFO")
    with errlog.open("w") as stderr:
        async with Client(stdio_client(stdio_params(script, env), errlog=stderr), mode=mode) as client:
            yield client


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", SCRIPTS)
async def test_over_stdio(
    script: str, mode: str, tmp_path: Path, codec: TokenCodec, packaged_catalog: Path
) -> None:
    """Over stdio (no token: the local user) everything advertised is served, scoped by identity;
    the errors reach the client and the server's stderr has no ERROR and no traceback."""
    errlog = tmp_path / "stderr.log"
    async with stdio(script, tmp_path, mode, errlog) as client:
        if script == "tasks-mcp":
            await tasks_scenario(client, codec, mode)
        else:
            await items_scenario(client, mode)
    log = errlog.read_text(errors="replace")
    assert "failed" in log  # the INFO lines of the refused reads: the log was really captured
    assert_no_traceback(log)


@pytest.fixture(scope="module")
def servers(launcher: Launcher, packaged_catalog: Path) -> dict[str, ServerProcess]:
    """One tasks and one items server over HTTP for the module, logging at INFO."""
    env = server_env(launcher.directory, MCP_LOG_LEVEL="INFO")
    return {script: launcher.http(script, env) for script in SCRIPTS}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", SCRIPTS)
async def test_over_http(
    script: str, mode: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """Over streamable HTTP with a bearer token the same holds, in both eras; the server's log has no
    ERROR and no traceback."""
    server = servers[script]
    async with mcp_http(server.url, codec.mint(f"http-{mode}"), mode=mode) as client:
        if script == "tasks-mcp":
            await tasks_scenario(client, codec, mode)
        else:
            await items_scenario(client, mode)
    log = server.log.read_text(errors="replace")
    assert "failed" in log  # the INFO lines of the refused reads: the log was really captured
    assert_no_traceback(log)


@pytest.mark.parametrize("mode", MODES)
async def test_bearer_users_see_only_their_own_tasks_as_resources(
    mode: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """Bob's bearer token cannot read, list, complete or plan with Alice's task: he gets the error a
    missing id gets; Alice, and a shared connection with her `_meta` token, read it."""
    url = servers["tasks-mcp"].url
    alice_token = codec.mint(f"res-alice-{mode}")
    async with (
        mcp_http(url, alice_token, mode=mode) as alice,
        mcp_http(url, codec.mint(f"res-bob-{mode}"), mode=mode) as bob,
    ):
        args = {"title": "Alice's surprise party", "due_date": date.today().isoformat()}
        task_id = (await call_ok(alice, "add_task", args))["task_id"]
        uri, missing_uri = f"tasks://tasks/{task_id}", "tasks://tasks/task_000000000000"
        (content,) = (await alice.read_resource(uri)).contents
        assert json.loads(content.text)["id"] == task_id  # type: ignore[union-attr]

        refused = await protocol_error(bob.read_resource(uri))
        missing = await protocol_error(bob.read_resource(missing_uri))
        assert refused.error.code == missing.error.code == INVALID_PARAMS
        assert refused.error.message == missing.error.message.replace("task_000000000000", task_id)
        assert "surprise" not in refused.error.message
        assert (await bob.list_resources()).resources == []
        plan = (await bob.get_prompt("plan_my_day")).messages[0].content
        assert "surprise" not in plan.text  # type: ignore[union-attr]
        assert (
            await bob.complete(TASK_TEMPLATE, {"name": "task_id", "value": task_id})
        ).completion.values == []
        assert [str(resource.uri) for resource in (await alice.list_resources()).resources] == [uri]

    async with mcp_http(url, codec.mint(f"res-backend-{mode}"), mode=mode) as shared:
        via_meta = await shared.read_resource(uri, meta=as_user(alice_token))
        assert json.loads(via_meta.contents[0].text)["id"] == task_id  # type: ignore[union-attr]
        assert (await protocol_error(shared.read_resource(uri))).error.code == INVALID_PARAMS
