"""MCP fuzz over streamable HTTP: `tasks-mcp --transport http` and `items-mcp --transport http`
called by the official client with seeded hostile tool arguments (wrong types, missing and extra
arguments, huge, NUL and lone-surrogate strings, other users' task ids, bad `_meta` identity
tokens, unknown tools). Every answer is a tool result (an error one with readable text) or a
JSON-RPC error, never a broken connection; the servers serve on and the victim's tasks are intact.

tests/mcp_servers/test_fuzz.py fuzzes the text of two tools in memory; this is the whole argument
space of every tool, over the transport production uses between processes.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from mcp_servers.common.identity import TokenCodec
from tests.e2e.conftest import Launcher, ServerProcess, server_env
from tests.e2e.scenarios import RAW_HEADERS, as_user, bad_tokens, call_ok
from tests.reliability.chatkit_fuzz import HUGE_INTS, LEAKS
from tests.reliability.figures import add_row
from tests.reliability.sizes import SIZE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SIZE.test_timeout_seconds)]

CALL_TIMEOUT_SECONDS = 30.0
TABLE = f"MCP tool-argument fuzz over streamable HTTP ({SIZE.name})"
COLUMNS = ["server", "calls", "wall s", "answers", "JSON-RPC errors by code"]
BAD_TOOLS = ["", "nope", "add_task\x00", "ADD_TASK", "list_tasks ", "../get_item", "x" * 1_000]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    """Both tool servers over HTTP, on their own fresh databases."""
    launcher = Launcher(tmp_path_factory.mktemp("mcp-fuzz"))
    try:
        env = server_env(launcher.directory)
        yield {script: launcher.http(script, env) for script in ("tasks-mcp", "items-mcp")}
    finally:
        launcher.stop_all()


@asynccontextmanager
async def connect(url: str, token: str) -> AsyncIterator[Client]:
    """The official client over streamable HTTP with a bearer token."""
    async with (
        httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {token}"}, timeout=CALL_TIMEOUT_SECONDS
        ) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


def encodable(value: Any) -> bool:
    """Whether the official client can send `value` (UTF-8 JSON: no lone surrogates)."""
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


class Raw:
    """A plain HTTP client for hand-made JSON-RPC requests to one server, as one user."""

    def __init__(self, http: httpx2.AsyncClient, url: str, token: str) -> None:
        self.http, self.url = http, url
        self.headers = RAW_HEADERS | {"Authorization": f"Bearer {token}"}


class ArgumentFuzzer:
    """Seeded hostile tool calls: (tool name, arguments, `_meta`)."""

    def __init__(self, seed: int, bases: dict[str, dict[str, Any]], other_ids: list[str]) -> None:
        self.random = random.Random(seed)
        self.bases = bases
        self.other_ids = other_ids
        self.bad_meta = [as_user(token) for token in bad_tokens().values()] + [
            {"chatkit.identity": 12},
            {"io.chatkit/identity": ["x"]},
        ]

    def hostile_value(self) -> Any:
        rng = self.random
        return rng.choice(
            [
                None,
                True,
                -1,
                0,
                rng.choice(HUGE_INTS),
                1e308,
                -1e-308,
                "",
                "   ",
                "x" * rng.choice([65, 201, 2_001, 10_001, 200_000]),
                "\x00",
                "a\x00b",
                "\ud800",
                "tail \udfff",
                "😀" * 300,
                "2026-02-30",
                "9999-99-99",
                "urgent",
                "'; DROP TABLE tasks; --",
                '"*()-:^+ NEAR AND OR NOT',
                [],
                {},
                ["a"] * 500,
                {"nested": {"deeper": [1, {"x": None}]}},
                rng.choice(self.other_ids),
                "task_" + "0" * 12,
                "itm_99999",
            ]
        )

    def call(self) -> tuple[str, dict[str, Any] | Any, dict[str, Any] | None, str]:
        """One hostile call and a label saying what was done to it."""
        rng = self.random
        tool = rng.choice(sorted(self.bases))
        arguments: Any = copy.deepcopy(self.bases[tool])
        labels = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            kind = rng.choice(["replace", "replace", "drop", "extra", "other_user"])
            if kind == "replace" and arguments:
                arguments[rng.choice(sorted(arguments))] = self.hostile_value()
            elif kind == "drop" and arguments:
                del arguments[rng.choice(sorted(arguments))]
            elif kind == "other_user" and "task_id" in arguments:
                arguments["task_id"] = rng.choice(self.other_ids)
            else:
                kind = "extra"
                arguments[rng.choice(["extra", "owner", "user_id", "_meta", "\x00", "x" * 300])] = (
                    self.hostile_value()
                )
            labels.append(kind)
        meta = None
        pick = rng.randrange(20)
        if pick == 0:
            tool = rng.choice(BAD_TOOLS)
            labels.append("bad tool")
        elif pick == 1:
            meta = rng.choice(self.bad_meta)
            labels.append("bad _meta")
        return tool, arguments, meta, "+".join(labels)


class McpTally:
    """Counts of answers, and every answer that broke a rule."""

    def __init__(self) -> None:
        self.answers: Counter[str] = Counter()
        self.rpc_codes: Counter[int] = Counter()
        self.failures: list[str] = []

    def leaks(self, text: str, label: str) -> None:
        for leak in LEAKS:
            if leak in text:
                self.failures.append(f"{leak!r} in the answer to {label}: {text[:300]}")

    async def call(
        self, client: Client, raw: Raw, tool: str, arguments: Any, meta: dict[str, Any] | None, label: str
    ) -> None:
        """Make one call and check its answer: through the official client, or as a hand-made
        JSON-RPC request when the arguments hold a lone surrogate (which the client cannot encode,
        so JSON's \\uXXXX escape carries it)."""
        label = f"{tool[:30]!r} {label}"
        if not encodable([tool, arguments, meta]):
            await self.raw_call(raw, tool, arguments, meta, label)
            return
        try:
            async with asyncio.timeout(CALL_TIMEOUT_SECONDS):
                result = await client.call_tool(tool, arguments, meta=meta)  # type: ignore[arg-type]
        except MCPError as exc:
            self.answers["JSON-RPC error"] += 1
            self.rpc_codes[exc.error.code] += 1
            if not exc.error.message:
                self.failures.append(f"JSON-RPC error {exc.error.code} without a message: {label}")
            self.leaks(exc.error.message, label)
            return
        except TimeoutError:
            self.failures.append(f"hang: {label}")
            return
        except Exception as exc:  # a broken session or transport: the one thing that must not happen
            self.failures.append(f"{type(exc).__name__}: {label}: {str(exc)[:200]}")
            return
        text = " ".join(getattr(block, "text", "") for block in result.content)
        self.leaks(text, label)
        if result.is_error:
            self.answers["tool error"] += 1
            if not text.strip():
                self.failures.append(f"a tool error without text: {label}")
        else:
            self.answers["tool result"] += 1
            if result.structured_content is None:
                self.failures.append(f"a result without structured content: {label}")

    async def raw_call(
        self, raw: Raw, tool: str, arguments: Any, meta: dict[str, Any] | None, label: str
    ) -> None:
        params: dict[str, Any] = {"name": tool, "arguments": arguments}
        if meta is not None:
            params["_meta"] = meta
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
        try:
            response = await raw.http.post(raw.url, content=body, headers=raw.headers)
        except httpx2.TransportError as exc:
            self.failures.append(f"raw {type(exc).__name__}: {label}")
            return
        self.leaks(response.text, label)
        try:
            answer = response.json()
        except ValueError:
            self.failures.append(
                f"raw HTTP {response.status_code} without JSON: {label}: {response.text[:200]}"
            )
            return
        if response.status_code >= 500:
            self.failures.append(f"raw HTTP {response.status_code}: {label}: {response.text[:200]}")
        elif "error" in answer and answer["error"].get("message"):
            self.answers["JSON-RPC error"] += 1
            self.rpc_codes[answer["error"]["code"]] += 1
        elif answer.get("result", {}).get("isError") and answer["result"]["content"][0]["text"]:
            self.answers["tool error"] += 1
        elif response.status_code == 200 and "structuredContent" in answer.get("result", {}):
            self.answers["tool result"] += 1
        else:
            self.failures.append(
                f"raw HTTP {response.status_code}, no answer: {label}: {response.text[:200]}"
            )

    def row(self, server: str, calls: int, elapsed: float) -> list[object]:
        answers = ", ".join(f"{kind}: {count}" for kind, count in sorted(self.answers.items()))
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.rpc_codes.items())) or "none"
        return [server, calls, f"{elapsed:.1f}", answers, codes]


def assert_clean(tally: McpTally) -> None:
    assert not tally.failures, f"{len(tally.failures)} bad answers, first ones:\n" + "\n".join(
        tally.failures[:15]
    )
    assert tally.answers["tool error"] and tally.answers["tool result"], (
        tally.answers
    )  # the fuzz reached both


async def test_tasks_server_survives_hostile_arguments(
    servers: dict[str, ServerProcess], codec: TokenCodec
) -> None:
    url = servers["tasks-mcp"].url
    async with connect(url, codec.mint("mcp-victim")) as victim:
        for title in ("victim one", "victim two", "victim three"):
            await call_ok(victim, "add_task", {"title": title, "description": "private"})
        before = await call_ok(victim, "list_tasks", {"limit": 100})
    victim_ids = [task["id"] for task in before["tasks"]]
    async with connect(url, codec.mint("mcp-attacker")) as attacker:
        own = await call_ok(attacker, "add_task", {"title": "mine"})
        own_id = own["task_id"]
        bases: dict[str, dict[str, Any]] = {
            "add_task": {"title": "fuzzed", "description": "d", "due_date": "2026-12-24", "priority": "high"},
            "list_tasks": {"status": "pending", "query": "fuzz", "limit": 5, "cursor": None},
            "get_task": {"task_id": own_id},
            "update_task": {
                "task_id": own_id,
                "title": "t",
                "description": "d",
                "due_date": None,
                "priority": "low",
            },
            "complete_task": {"task_id": own_id},
            "reopen_task": {"task_id": own_id},
            "delete_task": {"task_id": "task_" + "1" * 12},  # never the attacker's own one, by design
        }
        fuzzer = ArgumentFuzzer(7, bases, victim_ids)
        tally = McpTally()
        started = time.perf_counter()
        async with httpx2.AsyncClient(timeout=CALL_TIMEOUT_SECONDS) as http:
            raw = Raw(http, url, codec.mint("mcp-attacker"))
            for _ in range(SIZE.mcp_calls):
                await tally.call(attacker, raw, *fuzzer.call())
        elapsed = time.perf_counter() - started
        assert (await call_ok(attacker, "get_task", {"task_id": own_id}))["id"] == own_id  # still serving
    async with connect(url, codec.mint("mcp-victim")) as victim:
        assert await call_ok(victim, "list_tasks", {"limit": 100}) == before  # untouched by the attacker
    add_row(TABLE, COLUMNS, tally.row("tasks-mcp", SIZE.mcp_calls, elapsed))
    assert_clean(tally)


async def test_items_server_survives_hostile_arguments(
    servers: dict[str, ServerProcess], codec: TokenCodec
) -> None:
    url = servers["items-mcp"].url
    async with connect(url, codec.mint("mcp-attacker")) as client:
        found = await call_ok(client, "search_items", {"query": "lamp", "limit": 3})
        item_id = found["items"][0]["id"]
        bases = {
            "search_items": {
                "query": "lamp",
                "category": "Lighting",
                "min_price": 1,
                "max_price": 500,
                "in_stock": True,
                "limit": 5,
            },
            "get_item": {"item_id": item_id},
            "list_categories": {},
        }
        fuzzer = ArgumentFuzzer(11, bases, ["task_" + "2" * 12])
        tally = McpTally()
        started = time.perf_counter()
        async with httpx2.AsyncClient(timeout=CALL_TIMEOUT_SECONDS) as http:
            raw = Raw(http, url, codec.mint("mcp-attacker"))
            for _ in range(SIZE.mcp_calls):
                await tally.call(client, raw, *fuzzer.call())
        elapsed = time.perf_counter() - started
        again = await call_ok(client, "search_items", {"query": "lamp", "limit": 3})
        assert again == found  # still serving, the same answer
    add_row(TABLE, COLUMNS, tally.row("items-mcp", SIZE.mcp_calls, elapsed))
    assert_clean(tally)
