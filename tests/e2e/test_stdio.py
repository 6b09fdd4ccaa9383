"""Both console scripts over stdio, driven by the official MCP client in modern and legacy mode."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    INVALID_REQUEST,
    PARSE_ERROR,
    PROTOCOL_VERSION_META_KEY,
)

from mcp_servers.common.identity import TokenCodec
from tests.e2e.conftest import BIN, server_env, stdio_params
from tests.e2e.scenarios import (
    INITIALIZE,
    ITEMS_TOOLS,
    TASKS_TOOLS,
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
LOCAL_USER = "carol"
# One call per tool that needs an identity; the arguments are valid, so only the token can fail.
IDENTITY_CALLS = {
    "tasks-mcp": [
        ("add_task", {"title": "must not be stored"}),
        ("list_tasks", {}),
        ("get_task", {"task_id": "task_000000000000"}),
        ("update_task", {"task_id": "task_000000000000", "title": "x"}),
        ("complete_task", {"task_id": "task_000000000000"}),
        ("reopen_task", {"task_id": "task_000000000000"}),
        ("delete_task", {"task_id": "task_000000000000"}),
    ],
    "items-mcp": [
        ("search_items", {"query": "lamp"}),
        ("get_item", {"item_id": "itm_00001"}),
        ("list_categories", {}),
    ],
}


def env_for(tmp_path: Path) -> dict[str, str]:
    """A stdio server environment whose anonymous caller is LOCAL_USER."""
    return server_env(tmp_path, MCP_LOCAL_USER=LOCAL_USER)


@pytest.mark.parametrize("mode", MODES)
async def test_tasks_tools_listed_with_schemas_and_annotations(mode: str, tmp_path: Path) -> None:
    """tasks-mcp lists its seven tools, each with an output schema and the right annotations."""
    async with Client(stdio_params("tasks-mcp", env_for(tmp_path)), mode=mode) as client:
        check_tools((await client.list_tools()).tools, TASKS_TOOLS)


@pytest.mark.parametrize("mode", MODES)
async def test_items_tools_listed_and_answer(mode: str, tmp_path: Path, packaged_catalog: Path) -> None:
    """items-mcp lists its three read-only tools and answers them from the packaged catalog."""
    async with Client(stdio_params("items-mcp", env_for(tmp_path)), mode=mode) as client:
        check_tools((await client.list_tools()).tools, ITEMS_TOOLS)
        await items_round_trip(client)


@pytest.mark.parametrize("mode", MODES)
async def test_every_tasks_tool_round_trips(mode: str, tmp_path: Path) -> None:
    """add → get → update → complete → reopen → list → delete, without a token (the local user)."""
    async with Client(stdio_params("tasks-mcp", env_for(tmp_path)), mode=mode) as client:
        await tasks_round_trip(client)


@pytest.mark.parametrize("mode", MODES)
async def test_no_token_acts_for_the_local_user(mode: str, tmp_path: Path, codec: TokenCodec) -> None:
    """A call without a token acts for MCP_LOCAL_USER: carol's token sees the task, dave's does not."""
    async with Client(stdio_params("tasks-mcp", env_for(tmp_path)), mode=mode) as client:
        created = await call_ok(client, "add_task", {"title": "anonymous but local"})
        task_id = created["task_id"]
        carol, dave = as_user(codec.mint(LOCAL_USER)), as_user(codec.mint("dave"))
        seen = await call_ok(client, "list_tasks", {}, carol)
        assert [task["id"] for task in seen["tasks"]] == [task_id]
        got = await call_ok(client, "get_task", {"task_id": task_id}, carol)
        assert got["title"] == "anonymous but local"
        assert (await call_ok(client, "list_tasks", {}, dave))["total"] == 0
        assert "No task" in await call_error(client, "get_task", {"task_id": task_id}, dave)
        dave_task = await call_ok(client, "add_task", {"title": "dave's own"}, dave)
        anonymous = await call_ok(client, "list_tasks", {})
        assert [task["id"] for task in anonymous["tasks"]] == [task_id]
        assert dave_task["task_id"] != task_id


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("script", ["tasks-mcp", "items-mcp"])
async def test_invalid_meta_token_is_refused_not_ignored(
    script: str, mode: str, tmp_path: Path, codec: TokenCodec, packaged_catalog: Path
) -> None:
    """A `_meta` token that is present but invalid is refused on every tool, never treated as absent."""
    async with Client(stdio_params(script, env_for(tmp_path)), mode=mode) as client:
        for kind, token in bad_tokens().items():
            for tool, args in IDENTITY_CALLS[script]:
                message = await call_error(client, tool, args, as_user(token))
                assert message.startswith("Refused"), (kind, tool, message)
        if script == "tasks-mcp":
            assert (await call_ok(client, "list_tasks", {}))["total"] == 0
            assert (await call_ok(client, "list_tasks", {}, as_user(codec.mint(LOCAL_USER))))["total"] == 0


def raw_session(tool: tuple[str, dict[str, Any]]) -> bytes:
    """initialize, initialized, tools/list, a call, and the same call with a forged token."""
    requests: list[dict[str, Any]] = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INITIALIZE["params"]},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": tool[0], "arguments": tool[1]},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": tool[0], "arguments": tool[1], "_meta": as_user(bad_tokens()["forged"])},
        },
    ]
    return b"".join(json.dumps(request).encode() + b"\n" for request in requests)


def test_stdout_to_a_file_is_served_too(tmp_path: Path) -> None:
    """With stdout a regular file (not a pipe) the server falls back to the SDK's own stdio."""
    out = tmp_path / "out.jsonl"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [str(BIN / "tasks-mcp"), "--transport", "stdio"],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            env=env_for(tmp_path),
        )
    assert process.stdin is not None
    try:
        process.stdin.write(raw_session(("add_task", {"title": "into a file"})))
        process.stdin.flush()
        deadline = time.monotonic() + 30
        while len(out.read_bytes().splitlines()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.stdin.close()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    replies = {reply["id"]: reply for reply in map(json.loads, out.read_bytes().splitlines())}
    assert sorted(replies) == [1, 2, 3, 4]
    assert replies[3]["result"]["structuredContent"]["task"]["title"] == "into a file"
    assert replies[4]["result"]["isError"] is True


@pytest.mark.parametrize("script", ["tasks-mcp", "items-mcp"])
async def test_stdout_carries_only_json_rpc(script: str, tmp_path: Path, packaged_catalog: Path) -> None:
    """Read the raw stdout of a session (including a refused call): every line is a JSON-RPC message."""
    tool = {"tasks-mcp": ("add_task", {"title": "raw"}), "items-mcp": ("list_categories", {})}[script]
    payload = raw_session(tool)
    command = [str(BIN / script), "--transport", "stdio"]
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = await anyio.open_process(command, env=env_for(tmp_path), stderr=stderr)
    replies: dict[int, dict[str, Any]] = {}
    try:
        with anyio.fail_after(20):
            assert process.stdin is not None and process.stdout is not None
            await process.stdin.send(payload)
            buffer = b""
            while len(replies) < 4:
                *lines, buffer = (buffer + await process.stdout.receive()).split(b"\n")
                for line in lines:
                    message = json.loads(line)  # anything but JSON here breaks every stdio client
                    assert message["jsonrpc"] == "2.0", line
                    replies[message["id"]] = message
            await process.stdin.aclose()
            rest = buffer + b"".join([chunk async for chunk in process.stdout])
            assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest.splitlines() if line.strip())
    finally:
        if process.returncode is None:
            process.terminate()
            with anyio.move_on_after(5) as waited:
                await process.wait()
            if waited.cancelled_caught:
                process.kill()
                await process.wait()
    assert {tool_entry["name"] for tool_entry in replies[2]["result"]["tools"]} >= {tool[0]}
    assert replies[3]["result"].get("isError") is not True
    assert replies[4]["result"]["isError"] is True
    assert replies[4]["result"]["content"][0]["text"].startswith("Refused")


MODERN_META = {
    PROTOCOL_VERSION_META_KEY: "2026-07-28",
    CLIENT_INFO_META_KEY: {"name": "raw", "version": "0"},
    CLIENT_CAPABILITIES_META_KEY: {},
}
# Each malformed line and the error it must get back: (code, id).
MALFORMED = [
    (b"this is not json", (PARSE_ERROR, None)),
    (b'{"jsonrpc": "2.0", "id": 7, "method": "tools/list"', (PARSE_ERROR, None)),  # cut short
    (b'{"hello": "world"}', (INVALID_REQUEST, None)),
    (b'{"jsonrpc": "2.0", "id": 5, "method": 42}', (INVALID_REQUEST, 5)),
    (b'{"jsonrpc": "1.0", "id": "abc", "method": "ping"}', (INVALID_REQUEST, "abc")),
    (b'[{"jsonrpc": "2.0", "id": 6, "method": "ping"}]', (INVALID_REQUEST, None)),  # MCP has no batches
    (b"[]", (INVALID_REQUEST, None)),
    (b"12", (INVALID_REQUEST, None)),
]
# Lines that must get no reply at all: blank ones, and a broken response (responses are never answered).
UNANSWERED = [b"", b"   ", b'{"jsonrpc": "2.0", "id": 9, "result": 3}']


def valid_requests(era: str) -> list[dict[str, Any]]:
    """The session after the malformed lines: tools/list answered as id 100, in `era`."""
    if era == "legacy":
        return [
            {"jsonrpc": "2.0", "id": 99, "method": "initialize", "params": INITIALIZE["params"]},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 100, "method": "tools/list", "params": {}},
        ]
    return [{"jsonrpc": "2.0", "id": 100, "method": "tools/list", "params": {"_meta": MODERN_META}}]


@pytest.mark.parametrize("era", ["modern", "legacy"])
async def test_malformed_lines_get_json_rpc_errors(era: str, tmp_path: Path) -> None:
    """A line that is not JSON gets -32700 and JSON that is no JSON-RPC message gets -32600 (id null,
    or the request's id when it can be read), in order; blank lines and a broken response get
    nothing; the session goes on and the next valid request is answered; stderr has no traceback."""
    lines = [line for line, _ in MALFORMED] + UNANSWERED
    payload = (
        b"\n".join(lines) + b"\n" + b"".join(json.dumps(m).encode() + b"\n" for m in valid_requests(era))
    )
    command = [str(BIN / "tasks-mcp"), "--transport", "stdio"]
    errlog = tmp_path / "stderr.log"
    with errlog.open("wb") as stderr:
        process = await anyio.open_process(
            command, env=env_for(tmp_path) | {"MCP_LOG_LEVEL": "INFO"}, stderr=stderr
        )
    replies: list[dict[str, Any]] = []
    try:
        with anyio.fail_after(20):
            assert process.stdin is not None and process.stdout is not None
            await process.stdin.send(payload)
            buffer = b""
            while not any(reply.get("id") == 100 for reply in replies):
                *complete, buffer = (buffer + await process.stdout.receive()).split(b"\n")
                replies.extend(json.loads(line) for line in complete)
            await process.stdin.aclose()
            with anyio.fail_after(10):
                await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    errors = [reply for reply in replies if "error" in reply]
    assert [(reply["error"]["code"], reply["id"]) for reply in errors] == [want for _, want in MALFORMED]
    assert all(reply["jsonrpc"] == "2.0" and reply["error"]["message"] for reply in errors)
    answered = {reply["id"]: reply for reply in replies if "result" in reply}
    assert set(answered) == ({99, 100} if era == "legacy" else {100})
    assert "add_task" in {tool["name"] for tool in answered[100]["result"]["tools"]}
    log = errlog.read_text(errors="replace")
    assert "answered a malformed line" in log  # the INFO lines: the log was really captured
    assert "Traceback" not in log and "ERROR" not in log, log
