"""Load: many end users at once, each with its own JWT, holding tool conversations over real
processes with the offline model and the shipped MCP servers over stdio (each backend process starts
its own tasks and items children, as production on one host does), then every user's threads,
messages and tasks are read back through the public surfaces: nothing lost, crossed or duplicated.

Three targets with the same load shape and the same client: a bare FastAPI SSE endpoint (the
baseline: HTTP + SSE + this client, no store, model or tools), `chatkit-backend --workers 2` on
SQLite, and two backend processes on two ports sharing one fresh Postgres database (chat and tasks).
Sizes: tests/reliability/sizes.py (SOAK=1 for the full size).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from chatkit.types import AssistantMessageItem, ThreadCreatedEvent, ThreadItemDoneEvent
from mcp import Client
from mcp.client.stdio import stdio_client

from mcp_servers.common.identity import TokenCodec
from tests.backend.conftest import parse_sse, user_input, user_token
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import (
    BackendProcess,
    backend_env,
    free_port,
    run_backend,
    server_env,
    stdio_params,
    wait_until_ok,
)
from tests.e2e.scenarios import as_user, call_ok
from tests.reliability.figures import add_row
from tests.reliability.sizes import SIZE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SIZE.test_timeout_seconds)]

ROOT = Path(__file__).resolve().parents[2]
TABLE = f"load: {SIZE.users} users x {SIZE.turns} tool turns ({SIZE.name})"
COLUMNS = ["target", "turns", "wall s", "turns/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"]
NEW_THREAD_EVERY = 5  # turn 0, 5, ... start a new thread: 2 threads per user at 10 turns
# The replies the offline model gives to each kind of turn (backend/agent/offline/).
REPLIES = {"add": "Task created: ", "list": " task(s) found", "search": " item(s) found"}


@dataclass(frozen=True)
class Turn:
    """One message a user sends: the text, what kind of tool turn it is, and the task it adds."""

    text: str
    kind: str
    title: str | None = None


def plan(user_number: int, turns: int) -> list[Turn]:
    """A user's turns: adds, lists and catalog searches in turn, the first one an add."""
    planned = []
    for number in range(turns):
        kind = ("add", "list", "search")[number % 3]
        if kind == "add":
            title = f"errand u{user_number:03d} n{number:02d}"
            planned.append(Turn(f"add task {title}", kind, title))
        elif kind == "list":
            planned.append(Turn("list tasks", kind))
        else:
            planned.append(Turn(("search lamp", "find me a desk lamp")[number % 2], kind))
    return planned


@dataclass
class UserRecord:
    """What one user sent, and what the run saw."""

    name: str
    number: int
    threads: list[str] = field(default_factory=list)
    sent: dict[str, list[str]] = field(default_factory=dict)  # thread id -> texts in order
    titles: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    """Latencies (seconds, one per turn that ended) and errors by reason."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall_seconds: float = 0.0
    users: list[UserRecord] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.latencies) + sum(self.errors.values())


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (which must not be empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def report(target: str, result: LoadResult) -> None:
    """One row of the load table."""
    ms = [value * 1000 for value in result.latencies] or [0.0]
    errors = ", ".join(f"{reason}: {count}" for reason, count in sorted(result.errors.items())) or "0"
    add_row(
        TABLE,
        COLUMNS,
        [
            target,
            result.turns,
            f"{result.wall_seconds:.1f}",
            f"{result.turns / result.wall_seconds:.1f}",
            f"{percentile(ms, 0.5):.0f}",
            f"{percentile(ms, 0.9):.0f}",
            f"{percentile(ms, 0.99):.0f}",
            f"{max(ms):.0f}",
            errors,
        ],
    )


def turn_problem(turn: Turn, body: bytes, check_replies: bool) -> tuple[str | None, str | None]:
    """(the problem with a turn's stream or None, the thread it created or None)."""
    try:
        events = parse_sse(body)
    except ValueError:
        return "unparsable stream", None
    if any(event.type == "error" for event in events):
        return "error event", None
    created = next((event.thread.id for event in events if isinstance(event, ThreadCreatedEvent)), None)
    replies = [
        event.item.content[0].text
        for event in events
        if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem)
    ]
    if len(replies) != 1:
        return f"{len(replies)} replies", created
    if check_replies and REPLIES[turn.kind] not in replies[0]:
        return f"unexpected {turn.kind} reply", created
    return None, created


async def one_user(
    http: httpx2.AsyncClient, urls: list[str], record: UserRecord, result: LoadResult, check_replies: bool
) -> None:
    """Send a user's turns one after another (turn k of user i to backend (i + k) mod n), reading
    each stream to its end."""
    headers = {"Authorization": f"Bearer {user_token(record.name)}", "Content-Type": "application/json"}
    thread_id: str | None = None
    for number, turn in enumerate(plan(record.number, SIZE.turns)):
        if number % NEW_THREAD_EVERY == 0:
            thread_id = None
        if thread_id is None:
            payload: dict[str, Any] = {"type": "threads.create", "params": {"input": user_input(turn.text)}}
        else:
            payload = {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input(turn.text)},
            }
        url = urls[(record.number + number) % len(urls)] + "/chatkit"
        started = time.perf_counter()
        try:
            async with asyncio.timeout(SIZE.turn_timeout_seconds):
                async with http.stream("POST", url, content=json.dumps(payload), headers=headers) as response:
                    body = await response.aread()
        except TimeoutError:
            result.errors["timeout"] += 1
            return  # the thread is in an unknown state: this user stops
        except httpx2.TransportError as exc:
            result.errors[type(exc).__name__] += 1
            return
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            result.errors[f"HTTP {response.status_code}"] += 1
            return
        problem, created = turn_problem(turn, body, check_replies)
        if problem is not None:
            result.errors[problem] += 1
            return
        if thread_id is None:
            if created is None:
                result.errors["no thread.created"] += 1
                return
            thread_id = created
            record.threads.append(thread_id)
        record.sent.setdefault(thread_id, []).append(turn.text)
        if turn.title is not None:
            record.titles.append(turn.title)
        result.latencies.append(elapsed)


async def run_load(urls: list[str], *, check_replies: bool = True) -> LoadResult:
    """All users at once against `urls`; the latencies, errors and what each user did."""
    result = LoadResult(users=[UserRecord(f"load-user-{number:03d}", number) for number in range(SIZE.users)])
    # Idle connections are dropped well before the server's HTTP_KEEP_ALIVE_SECONDS (5): reusing one
    # just as the server closes it is a ReadError no server can prevent (browsers retry those).
    limits = httpx2.Limits(
        max_connections=SIZE.users * 2, max_keepalive_connections=SIZE.users * 2, keepalive_expiry=2.0
    )
    async with httpx2.AsyncClient(timeout=SIZE.turn_timeout_seconds, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one_user(http, urls, user, result, check_replies) for user in result.users))
        result.wall_seconds = time.perf_counter() - started
    return result


async def check_chat_store(url: str, result: LoadResult) -> None:
    """Through the ChatKit protocol, as each user: exactly their threads, each with exactly the
    messages they sent (in order, once each, one reply each); another user's thread is not found."""
    limit = asyncio.Semaphore(20)

    async def post(http: httpx2.AsyncClient, user: str, payload: dict[str, Any]) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {user_token(user)}", "Content-Type": "application/json"}
        async with limit:
            return await http.post(url + "/chatkit", content=json.dumps(payload), headers=headers)

    async def check(http: httpx2.AsyncClient, record: UserRecord, neighbour: UserRecord) -> None:
        listed = await post(http, record.name, {"type": "threads.list", "params": {"limit": 100}})
        assert listed.status_code == 200, listed.text
        assert sorted(thread["id"] for thread in listed.json()["data"]) == sorted(record.threads), record.name
        for thread_id, texts in record.sent.items():
            page = await post(
                http,
                record.name,
                {"type": "items.list", "params": {"thread_id": thread_id, "limit": 200, "order": "asc"}},
            )
            assert page.status_code == 200, page.text
            data = page.json()["data"]
            said = [item["content"][0]["text"] for item in data if item["type"] == "user_message"]
            assert said == texts, (record.name, thread_id, said, texts)
            assert sum(item["type"] == "assistant_message" for item in data) == len(texts), record.name
        for thread_id in neighbour.threads:
            stolen = await post(
                http, record.name, {"type": "threads.get_by_id", "params": {"thread_id": thread_id}}
            )
            assert stolen.status_code == 404, (record.name, thread_id, stolen.status_code)

    async with httpx2.AsyncClient(timeout=60) as http:
        users = result.users
        await asyncio.gather(
            *(check(http, record, users[(index + 1) % len(users)]) for index, record in enumerate(users))
        )


async def check_tasks(directory: Path, env: dict[str, str], result: LoadResult, codec: TokenCodec) -> None:
    """Through the tasks MCP server (stdio, the official client) on the database the backends'
    children wrote, as each user (their identity token): exactly the tasks they added, once each."""
    with (directory / "check-tasks.log").open("w") as errlog:
        async with Client(stdio_client(stdio_params("tasks-mcp", env), errlog=errlog)) as client:
            for record in result.users:
                token = codec.mint(record.name)
                listed = await call_ok(client, "list_tasks", {"limit": 100}, as_user(token))
                titles = sorted(task["title"] for task in listed["tasks"])
                assert titles == sorted(record.titles), (record.name, titles, record.titles)
                assert listed["total"] == len(record.titles)


def load_env(directory: Path, **overrides: str) -> dict[str, str]:
    """A backend under load: auth on, the offline model, the shipped stdio servers, no rate limit."""
    return backend_env(
        directory,
        LLM_PROVIDER="offline",
        RATE_LIMIT_TURNS_PER_MINUTE="0",
        **overrides,
    )


def assert_all_served(result: LoadResult) -> None:
    assert not result.errors, dict(result.errors)
    assert len(result.latencies) == SIZE.users * SIZE.turns


def uvicorn_options(port: int) -> list[str]:
    return ["--port", str(port), "--workers", "2", "--log-level", "warning"]


@contextmanager
def bare_sse(directory: Path) -> Iterator[str]:
    """The baseline endpoint under uvicorn with two worker processes (as the SQLite target has)."""
    port = free_port()
    log = directory / "bare-sse.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.reliability.bare_sse:app", *uvicorn_options(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ok(process, url + "/readyz", 30, "bare SSE", lambda: log.read_text(errors="replace"))
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def started_together(
    stack: ExitStack, directory: Path, env: dict[str, str], count: int
) -> list[BackendProcess]:
    """`count` backends started at once (each waits for its own readiness), stopped with `stack`."""
    managers = [run_backend(directory, env) for _ in range(count)]
    entered = await asyncio.gather(
        *(asyncio.to_thread(manager.__enter__) for manager in managers), return_exceptions=True
    )
    for manager, outcome in zip(managers, entered, strict=True):
        if not isinstance(outcome, BaseException):
            stack.push(manager.__exit__)
    for outcome in entered:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in entered if isinstance(outcome, BackendProcess)]


async def test_baseline_bare_sse_endpoint(tmp_path: Path) -> None:
    """The same load shape against a bare FastAPI SSE endpoint (2 uvicorn workers): the floor that
    HTTP, SSE and this client cost, to read the backend's figures against."""
    with bare_sse(tmp_path) as url:
        result = await run_load([url], check_replies=False)
    report("baseline: bare FastAPI SSE, 2 workers", result)
    assert_all_served(result)


async def test_load_on_sqlite_with_two_workers(tmp_path: Path, codec: TokenCodec) -> None:
    """`chatkit-backend --workers 2` on SQLite files, each worker with its own stdio tool servers:
    every turn answered, and every user's threads, messages and tasks exactly theirs."""
    env = load_env(tmp_path)
    with run_backend(tmp_path, env, args=["--workers", "2"]) as backend:
        result = await run_load([backend.url])
        report("chatkit-backend --workers 2, SQLite", result)
        assert_all_served(result)
        await check_chat_store(backend.url, result)
    await check_tasks(tmp_path, server_env(tmp_path), result, codec)


@pytest.mark.postgres
async def test_load_on_postgres_with_two_processes(tmp_path: Path, codec: TokenCodec) -> None:
    """Two backend processes on two ports sharing one fresh Postgres database (and one for tasks),
    each turn of a user going to the other process than the last: the same guarantees."""
    async with fresh_postgres_database() as chat_url, fresh_postgres_database() as tasks_url:
        env = load_env(tmp_path, DATABASE_URL=chat_url, TASKS_DATABASE_URL=tasks_url)
        with ExitStack() as stack:
            backends = await started_together(stack, tmp_path, env, 2)
            result = await run_load([backend.url for backend in backends])
            report("2 chatkit-backend processes, one Postgres", result)
            assert_all_served(result)
            await check_chat_store(backends[1].url, result)
        await check_tasks(tmp_path, server_env(tmp_path, TASKS_DATABASE_URL=tasks_url), result, codec)
