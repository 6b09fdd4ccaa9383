"""`chatkit-backend --workers N`: processes sharing one port, one store and the tool servers' data.

A real supervisor with two workers (auth on, offline model, both MCP servers over stdio per worker,
SQLite files) is driven over HTTP through many connections, one of its workers is killed, and it is
stopped; the start-up refusals and the schema race between processes are checked on their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx2
import psutil
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.backend.conftest import parse_sse, user_input, user_token
from tests.conftest import POSTGRES_URL, postgres_unavailable_reason
from tests.e2e.conftest import BIN, BackendProcess, backend_env, free_port, run_backend, server_env

ROOT = Path(__file__).resolve().parents[2]
RACER = Path(__file__).with_name("create_schemas.py")
WORKERS = 2
CONNECTIONS = 12  # all on one worker by chance: 2 * 2**-12


def listeners(port: int) -> int:
    """How many sockets listen on 127.0.0.1:`port`."""
    return sum(
        1
        for connection in psutil.net_connections("tcp")
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN
    )


def family(backend: BackendProcess) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(workers, MCP servers) under the supervisor; a worker's resource tracker counts as neither."""
    workers, servers = [], []
    for child in psutil.Process(backend.process.pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:
            continue  # ended while we looked
        if "-mcp" in command:
            servers.append(child)
        elif "spawn_main" in command:
            workers.append(child)
    return workers, servers


def wait_for(condition: str, check: Callable[[], bool], seconds: float = 60.0) -> None:
    """Poll `check()` until it is true; fail with `condition` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {condition}"
        time.sleep(0.1)


def port_of(backend: BackendProcess) -> int:
    return int(backend.url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """Two workers on fresh SQLite files, both tool servers per worker over stdio."""
    directory = tmp_path_factory.mktemp("workers")
    with run_backend(directory, backend_env(directory), args=["--workers", str(WORKERS)]) as server:
        wait_for(f"{WORKERS} workers listening", lambda: listeners(port_of(server)) == WORKERS)
        wait_for("both tool servers of each worker", lambda: len(family(server)[1]) == 2 * WORKERS)
        yield server


async def turn(url: str, user: str, kind: str, text: str, thread_id: str | None = None) -> list:
    """One streamed request on a connection of its own (so the kernel picks its worker)."""
    params: dict = {"input": user_input(text)} | ({"thread_id": thread_id} if thread_id else {})
    headers = {"Authorization": f"Bearer {user_token(user)}", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=60) as http:
        response = await http.post(url, content=json.dumps({"type": kind, "params": params}), headers=headers)
    assert response.status_code == 200, response.text
    return parse_sse(response.content)


def widget_json(events: list) -> str:
    """The widgets of a turn's events, as JSON text."""
    done = [
        event.item for event in events if event.type == "thread.item.done" and event.item.type == "widget"
    ]
    return json.dumps([item.widget.model_dump(mode="json") for item in done])


async def test_workers_share_the_store_and_the_tool_data(backend: BackendProcess) -> None:
    workers, _ = family(backend)
    assert len(workers) == WORKERS
    cpu_before = [sum(worker.cpu_times()[:2]) for worker in workers]
    titles = [f"worker check {index}" for index in range(CONNECTIONS)]
    created = await asyncio.gather(
        *(turn(backend.chatkit_url, "alice", "threads.create", f"add task {title}") for title in titles)
    )
    for title, events in zip(titles, created, strict=True):
        assert title in widget_json(events), events  # each turn ran the tool and streamed its card
    busy = [sum(worker.cpu_times()[:2]) - before for worker, before in zip(workers, cpu_before, strict=True)]
    assert all(seconds > 0.02 for seconds in busy), f"a worker served nothing: CPU {busy}"

    # Whichever worker answers sees every thread and every task, whichever worker wrote them.
    thread_ids = {next(e.thread.id for e in events if e.type == "thread.created") for events in created}
    headers = {"Authorization": f"Bearer {user_token('alice')}"}
    for _ in range(4):
        async with httpx2.AsyncClient(timeout=30, headers=headers) as http:
            listed = await http.post(
                backend.chatkit_url, json={"type": "threads.list", "params": {"limit": 100}}
            )
        assert {thread["id"] for thread in listed.json()["data"]} == thread_ids
    listing = widget_json(await turn(backend.chatkit_url, "alice", "threads.create", "list tasks"))
    assert all(title in listing for title in titles), listing

    # Another user, on any worker, sees none of it.
    for events in await asyncio.gather(
        *(turn(backend.chatkit_url, "bob", "threads.create", "list tasks") for _ in range(4))
    ):
        assert not any(title in widget_json(events) for title in titles)


async def test_workers_sign_with_one_secret_when_none_is_configured(tmp_path: Path) -> None:
    """Without MCP_AUTH_SECRET the supervisor's generated secret is every worker's: an upload URL
    signed by one worker is honoured by the other (each upload on a new connection, so by both)."""
    port = free_port()
    env = backend_env(tmp_path, MCP_AUTH_SECRET=None, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    with run_backend(tmp_path, env, args=["--workers", str(WORKERS)], port=port) as server:
        wait_for(f"{WORKERS} workers listening", lambda: listeners(port_of(server)) == WORKERS)
        headers = {"Authorization": f"Bearer {user_token('erin')}", "Content-Type": "application/json"}
        for index in range(CONNECTIONS):
            body = {
                "type": "attachments.create",
                "params": {"name": f"n{index}.txt", "size": 2, "mime_type": "text/plain"},
            }
            async with httpx2.AsyncClient(timeout=30) as http:
                created = await http.post(server.chatkit_url, json=body, headers=headers)
            assert created.status_code == 200, created.text
            async with httpx2.AsyncClient(timeout=30) as http:
                uploaded = await http.post(created.json()["upload_descriptor"]["url"], content=b"hi")
            assert uploaded.status_code == 200, (index, uploaded.text)


async def test_a_worker_that_dies_is_replaced(backend: BackendProcess) -> None:
    workers, servers = family(backend)
    victim = workers[0]
    orphans = [server for server in servers if server.ppid() == victim.pid]
    assert len(orphans) == 2
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    def replaced() -> bool:
        now, tools = family(backend)
        return len(now) == WORKERS and victim not in now and len(tools) == 2 * WORKERS

    wait_for("a new worker with its own tool servers", replaced)
    wait_for("every worker listening", lambda: listeners(port_of(backend)) == WORKERS)
    _, alive = psutil.wait_procs(orphans, timeout=15)
    assert not alive, f"the dead worker's tool servers are still running: {alive}"
    for events in await asyncio.gather(
        *(turn(backend.chatkit_url, "carol", "threads.create", "add task after the crash") for _ in range(6))
    ):
        assert "after the crash" in widget_json(events)


def test_stopping_the_supervisor_stops_every_worker(backend: BackendProcess) -> None:
    workers, servers = family(backend)
    backend.process.send_signal(signal.SIGTERM)
    assert backend.process.wait(timeout=40) == 0, backend.logs()
    _, alive = psutil.wait_procs([*workers, *servers], timeout=10)
    assert not alive, alive
    assert listeners(port_of(backend)) == 0


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "chatkit-backend"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=90
    )


def test_what_workers_cannot_serve_is_refused_at_start(tmp_path: Path) -> None:
    env = server_env(tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}", MCP_CONFIG="")
    refused = run_cli(["--workers", "0"], env, tmp_path)
    assert refused.returncode != 0 and "--workers must be at least 1" in refused.stderr
    in_memory = {**env, "DATABASE_URL": "sqlite+aiosqlite:///:memory:"}
    refused = run_cli(["--workers", "2", "--port", str(free_port())], in_memory, tmp_path)
    assert refused.returncode != 0 and "need a fixed port and a database file" in refused.stderr
    with socket.socket() as taken:  # a listener that does not share its port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run_cli(["--workers", "2", "--port", str(port)], env, tmp_path)
    assert refused.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in refused.stderr


def test_a_database_that_cannot_be_migrated_stops_the_command_before_any_worker(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    env = server_env(
        tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'not-a-directory' / 'chat.db'}",
        MCP_CONFIG="",
    )
    failed = run_cli(["--workers", "2", "--port", str(free_port())], env, tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "cannot prepare the chat database" in failed.stderr and "not-a-directory" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    """A config the command can read but the tool server contradicts fails in the workers, as they
    connect (here: an approval rule for a tool the server does not offer)."""
    config = tmp_path / "mcp.json"
    shipped = json.loads((ROOT / "mcp_servers.json").read_text())
    tasks = {**shipped["mcpServers"]["tasks"], "require_approval": {"always": ["no_such_tool"]}}
    config.write_text(json.dumps({"mcpServers": {"tasks": tasks}}))
    env = server_env(
        tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}", MCP_CONFIG=str(config)
    )
    started = time.monotonic()
    failed = run_cli(["--workers", "2", "--port", str(free_port())], env, tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "a worker failed to start" in failed.stderr
    assert time.monotonic() - started < 60


def test_a_config_that_cannot_be_read_stops_the_command_before_any_worker(tmp_path: Path) -> None:
    env = server_env(
        tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        MCP_CONFIG=str(tmp_path / "missing.json"),
    )
    failed = run_cli(["--workers", "2", "--port", str(free_port())], env, tmp_path)
    assert failed.returncode == 1
    assert (
        failed.stderr.strip()
        == f"chatkit-backend: MCP config {tmp_path / 'missing.json'} does not exist (set MCP_CONFIG)"
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database: a new SQLite file, or a new database on the local Postgres."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    reason = await postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    name = f"race_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.dispose()


async def test_processes_starting_together_create_the_schema_once(fresh_database: str) -> None:
    """Without the schema lock, two of four racers fail ('table already exists', or a duplicate
    pg_type row on Postgres) in most runs."""
    start = str(time.time() + 3)  # after every interpreter has imported what it needs
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racers = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(RACER), fresh_database, start, env=env, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    for racer in racers:
        _, errors = await asyncio.wait_for(racer.communicate(), timeout=60)
        assert racer.returncode == 0, errors.decode(errors="replace")[-2000:]
