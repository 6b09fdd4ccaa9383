"""Both console scripts over streamable HTTP: bearer auth, refusals, DNS-rebinding protection, isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_servers.common.identity import IDENTITY_META_KEY, TokenCodec
from tests.e2e.conftest import HttpConnector, Launcher, ServerProcess, server_env
from tests.e2e.scenarios import (
    INITIALIZE,
    ITEMS_TOOLS,
    RAW_HEADERS,
    TASKS_TOOLS,
    TOOLS_LIST,
    as_user,
    bad_tokens,
    call_error,
    call_ok,
    check_tools,
    items_round_trip,
    tasks_round_trip,
)

pytestmark = pytest.mark.e2e

MODES = ["auto", "legacy"]
SCRIPTS = ["tasks-mcp", "items-mcp"]
BAD_HEADERS = {
    "none": {},
    **{kind: {"Authorization": f"Bearer {token}"} for kind, token in bad_tokens().items()},
    "not_bearer": {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
}


@pytest.fixture(scope="module")
def servers(launcher: Launcher, packaged_catalog: Path) -> dict[str, ServerProcess]:
    """One tasks and one items server for the whole module, on their own databases."""
    env = server_env(launcher.directory)
    return {script: launcher.http(script, env) for script in SCRIPTS}


@pytest.fixture(scope="module")
async def raw() -> AsyncIterator[httpx2.AsyncClient]:
    """A plain HTTP client for hand-made JSON-RPC requests."""
    async with httpx2.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", SCRIPTS)
async def test_tools_listed_with_a_bearer_token(
    script: str, mode: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """The official client with a valid bearer token lists every tool with its schema and annotations."""
    async with mcp_http(servers[script].url, codec.mint("lister"), mode=mode) as client:
        expected = TASKS_TOOLS if script == "tasks-mcp" else ITEMS_TOOLS
        check_tools((await client.list_tools()).tools, expected)


@pytest.mark.parametrize("mode", MODES)
async def test_every_tool_round_trips_with_a_bearer_token(
    mode: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """Every tasks tool and every items tool answers over HTTP as the bearer token's user."""
    token = codec.mint(f"round-trip-{mode}")
    async with mcp_http(servers["tasks-mcp"].url, token, mode=mode) as client:
        await tasks_round_trip(client)
    async with mcp_http(servers["items-mcp"].url, token, mode=mode) as client:
        await items_round_trip(client)


@pytest.mark.parametrize("body", [TOOLS_LIST, INITIALIZE], ids=["tools_list", "initialize"])
@pytest.mark.parametrize("script", SCRIPTS)
async def test_raw_post_with_a_valid_token_is_answered(
    script: str,
    body: dict[str, object],
    servers: dict[str, ServerProcess],
    raw: httpx2.AsyncClient,
    codec: TokenCodec,
) -> None:
    """The control for the refusals below: the same raw request with a valid token gets 200 and a result."""
    headers = RAW_HEADERS | {"Authorization": f"Bearer {codec.mint('raw')}"}
    response = await raw.post(servers[script].url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "result" in response.json()


@pytest.mark.parametrize("kind", list(BAD_HEADERS))
@pytest.mark.parametrize("body", [TOOLS_LIST, INITIALIZE], ids=["tools_list", "initialize"])
@pytest.mark.parametrize("script", SCRIPTS)
async def test_raw_post_without_a_valid_token_gets_401(
    script: str,
    body: dict[str, object],
    kind: str,
    servers: dict[str, ServerProcess],
    raw: httpx2.AsyncClient,
) -> None:
    """No token, a forged, expired, wrong-audience, alg-none, exp-less or malformed token: 401, no data."""
    response = await raw.post(servers[script].url, json=body, headers=RAW_HEADERS | BAD_HEADERS[kind])
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "tools" not in response.text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", list(BAD_HEADERS))
async def test_official_client_without_a_valid_token_fails(
    kind: str, mode: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector
) -> None:
    """The official client with a missing or bad bearer token cannot connect and list tools: it raises."""
    token = BAD_HEADERS[kind].get("Authorization", "").removeprefix("Bearer ") or None
    with pytest.RaisesGroup(MCPError, allow_unwrapped=True, flatten_subgroups=True):
        async with mcp_http(servers["tasks-mcp"].url, token, mode=mode) as client:
            await client.list_tools()


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"Host": "evil.example:80"}, {"Origin": "http://evil.example"}],
    ids=["host", "host_with_port", "origin"],
)
@pytest.mark.parametrize("script", SCRIPTS)
async def test_dns_rebinding_is_refused(
    script: str,
    headers: dict[str, str],
    servers: dict[str, ServerProcess],
    raw: httpx2.AsyncClient,
    codec: TokenCodec,
) -> None:
    """A request naming a foreign Host or Origin is refused even with a valid token (4xx, never 200)."""
    auth = {"Authorization": f"Bearer {codec.mint('alice')}"}
    response = await raw.post(servers[script].url, json=TOOLS_LIST, headers=RAW_HEADERS | auth | headers)
    assert response.status_code in (403, 421), (response.status_code, response.text)  # not 401: auth is valid
    assert "tools" not in response.text


async def test_bearer_users_are_isolated(
    servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """Bob cannot read, change, complete, reopen, delete or even list Alice's task; hers is untouched."""
    url = servers["tasks-mcp"].url
    async with mcp_http(url, codec.mint("iso-alice")) as alice, mcp_http(url, codec.mint("iso-bob")) as bob:
        created = await call_ok(alice, "add_task", {"title": "Alice's secret plan", "priority": "high"})
        task_id = created["task_id"]
        attempts = [
            ("get_task", {"task_id": task_id}),
            ("update_task", {"task_id": task_id, "title": "pwned"}),
            ("complete_task", {"task_id": task_id}),
            ("reopen_task", {"task_id": task_id}),
            ("delete_task", {"task_id": task_id}),
        ]
        for tool, args in attempts:
            message = await call_error(bob, tool, args)
            assert "No task" in message, (tool, message)
            assert "secret plan" not in message
        for args in ({}, {"query": "secret plan"}, {"query": "Alice"}, {"status": "pending", "limit": 100}):
            listed = await call_ok(bob, "list_tasks", args)
            assert task_id not in [task["id"] for task in listed["tasks"]], args
            assert listed["total"] == 0, args
        after = await call_ok(alice, "get_task", {"task_id": task_id})
        assert after["title"] == "Alice's secret plan"
        assert (after["status"], after["priority"]) == ("pending", "high")
        assert after["updated_at"] == created["task"]["updated_at"]
        found = await call_ok(alice, "list_tasks", {"query": "secret plan"})
        assert [task["id"] for task in found["tasks"]] == [task_id]


async def listed_ids(client: Client, meta: dict[str, Any]) -> list[str]:
    """The ids `list_tasks` shows the `_meta` token's user."""
    return [task["id"] for task in (await call_ok(client, "list_tasks", {}, meta))["tasks"]]


@pytest.mark.parametrize("mode", MODES)
async def test_meta_token_overrides_the_bearer_per_call(
    mode: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """One connection (bearer: the backend), identity per call: each `_meta` token acts for its own user."""
    url = servers["tasks-mcp"].url
    backend, erin, frank = f"backend-{mode}", f"erin-{mode}", f"frank-{mode}"
    as_erin, as_frank = as_user(codec.mint(erin)), as_user(codec.mint(frank))
    async with mcp_http(url, codec.mint(backend), mode=mode) as shared:
        erins = await call_ok(shared, "add_task", {"title": "erin's task"}, as_erin)
        franks = await call_ok(shared, "add_task", {"title": "frank's task"}, as_frank)
        assert await listed_ids(shared, as_erin) == [erins["task_id"]]
        assert await listed_ids(shared, as_frank) == [franks["task_id"]]
        assert "No task" in await call_error(shared, "get_task", {"task_id": erins["task_id"]}, as_frank)
        assert (await call_ok(shared, "list_tasks", {}))["total"] == 0  # the bearer's own user owns nothing
    async with mcp_http(url, codec.mint(erin), mode=mode) as own:
        assert (await call_ok(own, "get_task", {"task_id": erins["task_id"]}))["title"] == "erin's task"


@pytest.mark.parametrize("script", SCRIPTS)
async def test_invalid_meta_token_is_refused_despite_a_valid_bearer(
    script: str, servers: dict[str, ServerProcess], mcp_http: HttpConnector, codec: TokenCodec
) -> None:
    """A bad `_meta` token is refused, not skipped in favour of the connection's valid bearer token."""
    call = ("list_tasks", {}) if script == "tasks-mcp" else ("list_categories", {})
    async with mcp_http(servers[script].url, codec.mint("meta-victim")) as client:
        for kind, token in bad_tokens().items():
            message = await call_error(client, *call, as_user(token))
            assert message.startswith("Refused"), (kind, message)
        assert "must be a string" in await call_error(client, *call, {IDENTITY_META_KEY: 42})


async def test_configured_public_host_names_are_served(
    launcher: Launcher, raw: httpx2.AsyncClient, codec: TokenCodec, tmp_path: Path
) -> None:
    """MCP_ALLOWED_HOSTS lets the server answer behind a real host name; other names stay refused."""
    env = server_env(tmp_path, MCP_ALLOWED_HOSTS="tasks.internal, api.example.com:8443")
    server = launcher.http("tasks-mcp", env)
    auth = {"Authorization": f"Bearer {codec.mint('alice')}"}
    for host in (
        "tasks.internal",
        f"tasks.internal:{server.url.split(':')[2].split('/')[0]}",
        "api.example.com:8443",
    ):
        response = await raw.post(server.url, json=TOOLS_LIST, headers=RAW_HEADERS | auth | {"Host": host})
        assert response.status_code == 200, (host, response.status_code, response.text)
        assert "add_task" in response.text
    refused = await raw.post(
        server.url, json=TOOLS_LIST, headers=RAW_HEADERS | auth | {"Host": "api.example.com:80"}
    )
    assert refused.status_code == 421
