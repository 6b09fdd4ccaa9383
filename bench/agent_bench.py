"""Per-turn overhead of the agent path with the offline model, over HTTP on loopback.

For the MCP servers over stdio (started by the backend) and over streamable HTTP, it measures a
text-only turn and a turn with one MCP tool call plus its widget: time to first and last byte,
median and p90, beside a bare FastAPI SSE endpoint streaming as many events in the same run.
Then 50 concurrent users doing 10 tool-plus-widget turns each, on one backend process and then on
`--workers` of them: turns/s, p90, errors, CPU per turn of the backend, the MCP servers and the load
generator, and peak RSS of the backend and of the MCP servers.

Usage: python -m bench.agent_bench [--rounds 200] [--users 50] [--turns 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import psutil

from bench.chatkit_bench import SECRET, against_floor, running, timed_stream, token
from bench.support import LeanClient, free_port, summary

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent
MCP_SECRET = "bench-mcp-secret-for-identity-tokens-0123456789abcdef"


def system_env(data: Path, **extra: str) -> dict[str, str]:
    """This environment plus auth on, the identity secret and the tool servers' databases in `data`."""
    return {
        **os.environ,
        "AUTH_JWT_SECRET": SECRET,
        "MCP_AUTH_SECRET": MCP_SECRET,
        "TASKS_DATABASE_URL": f"sqlite+aiosqlite:///{data}/tasks.db",
        "ITEMS_DATABASE_URL": f"sqlite+aiosqlite:///{data}/items.db",
        "RATE_LIMIT_TURNS_PER_MINUTE": "0",  # hundreds of turns a minute per user, on purpose
        **extra,
    }


def shipped_env(data: Path) -> dict[str, str]:
    """`system_env` for a backend on the shipped MCP config (both servers over stdio) with its chat
    store in `data`."""
    return {
        **system_env(data),
        "DATABASE_URL": f"sqlite+aiosqlite:///{data}/chat.db",
        "MCP_CONFIG": "mcp_servers.json",
    }


def message(kind: str, text: str, thread_id: str | None = None) -> bytes:
    params: dict[str, Any] = {"input": {"content": [{"type": "input_text", "text": text}], "attachments": [],
                                        "inference_options": {}}}  # fmt: skip
    if thread_id:
        params["thread_id"] = thread_id
    return json.dumps({"type": kind, "params": params}).encode()


async def new_thread(http: httpx2.AsyncClient, url: str, headers: dict[str, str], text: str) -> str:
    response = await http.post(url, content=message("threads.create", text), headers=headers)
    return response.text.split('"id":"', 1)[1].split('"', 1)[0]


async def measure(base: str, rounds: int, env: dict[str, str], label: str) -> None:
    headers = {"Authorization": f"Bearer {token('bench')}", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=60) as http:
        url = f"{base}/chatkit"
        await http.post(url, content=message("threads.create", "add task warm up"), headers=headers)
        for kind, text in (("text-only", "hello there"), ("tool + widget", "list tasks")):
            state: dict[str, Any] = {"turns": 0, "thread": None}

            async def one_turn(text: str = text, state: dict[str, Any] = state) -> tuple[float, float, int]:
                if state["turns"] % 20 == 0:  # keep the history short and realistic
                    state["thread"] = await new_thread(http, url, headers, "hello")
                state["turns"] += 1
                return await timed_stream(
                    http, url, message("threads.add_user_message", text, state["thread"]), headers
                )

            print(f"  {label} MCP, {kind} turn")
            await against_floor(http, one_turn, rounds, env)


async def wait_for_listeners(port: int, count: int, within_seconds: float = 60) -> None:
    """Wait until `count` sockets listen on `port`: connections made before a worker listens all go
    to the others, and keep-alive would keep them there for the whole run."""
    deadline = time.monotonic() + within_seconds
    while True:
        listening = [
            connection
            for connection in psutil.net_connections("tcp")
            if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN
        ]
        if len(listening) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(listening)} of {count} workers listen on port {port}")
        await asyncio.sleep(0.1)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User plus system CPU time of `processes` (0 for any that has gone)."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def process_groups(backend: psutil.Process) -> dict[str, list[psutil.Process]]:
    """The backend's processes (the server, or a supervisor and its workers) and its MCP servers."""
    groups: dict[str, list[psutil.Process]] = {"backend": [backend], "mcp": []}
    for child in backend.children(recursive=True):
        is_mcp = any(name.endswith("-mcp") for name in child.cmdline()[:2])
        groups["mcp" if is_mcp else "backend"].append(child)
    return groups


async def load(port: int, users: int, turns: int, backend_pid: int) -> None:
    """`users` at once, each in its own thread and connection, alternating add and list turns."""
    groups = process_groups(psutil.Process(backend_pid))
    generator = psutil.Process()
    peaks = {"backend": 0, "mcp": 0}
    latencies: list[float] = []
    errors = 0
    done = asyncio.Event()

    async def user(index: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token(f'load-{index}')}", "Content-Type": "application/json"}
        client = LeanClient("127.0.0.1", port)
        try:
            _, created = await client.post("/chatkit", message("threads.create", "hello"), headers)
            thread_id = created.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
            for turn in range(turns):
                text = f"add task load {index}-{turn}" if turn % 2 == 0 else "list tasks"
                started = time.perf_counter()
                try:
                    status, body = await client.post(
                        "/chatkit", message("threads.add_user_message", text, thread_id), headers
                    )
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += status != 200 or body.count(b"\n\n") < 5 or b'"type":"error"' in body
                except Exception:  # count, never stop the run
                    errors += 1
                    await client.close()
        finally:
            await client.close()

    async def sample() -> None:
        while not done.is_set():
            for name, processes in groups.items():
                rss = 0
                for process in processes:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        rss += process.memory_info().rss
                peaks[name] = max(peaks[name], rss)
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    before = {name: cpu_seconds(processes) for name, processes in groups.items()}
    generator_before = cpu_seconds([generator])
    started = time.monotonic()
    await asyncio.gather(*(user(index) for index in range(users)))
    elapsed = time.monotonic() - started
    done.set()
    await sampler
    rate = len(latencies) / elapsed
    cpu = {
        name: (cpu_seconds(processes) - before[name]) * 1000 / len(latencies)
        for name, processes in groups.items()
    }
    cpu["load generator"] = (cpu_seconds([generator]) - generator_before) * 1000 / len(latencies)
    print(f"    {rate:.0f} turns/s, {summary(latencies)}, errors {errors}")
    print("    CPU per turn: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items()))
    backend_mib, mcp_mib = peaks["backend"] / 2**20, peaks["mcp"] / 2**20
    print(f"    peak RSS: backend {backend_mib:.0f} MiB, MCP servers {mcp_mib:.0f} MiB")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="backend workers for the second load run")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        env = system_env(data)
        # MCP over stdio, started by the backend (the shipped config).
        port = free_port()
        stdio_env = {
            **env,
            "DATABASE_URL": f"sqlite+aiosqlite:///{data}/chat-stdio.db",
            "MCP_CONFIG": "mcp_servers.json",
        }
        async with running([str(BIN / "chatkit-backend"), "--port", str(port)], stdio_env, port):
            print("== per-turn overhead ==")
            await measure(f"http://127.0.0.1:{port}", options.rounds, env, "stdio")
        print(f"\n== load: {options.users} users x {options.turns} tool+widget turns, stdio MCP ==")
        for workers in sorted({1, options.workers}):
            port = free_port()
            command = [str(BIN / "chatkit-backend"), "--port", str(port), "--workers", str(workers)]
            load_env = {**stdio_env, "DATABASE_URL": f"sqlite+aiosqlite:///{data}/chat-load-{workers}.db"}
            async with running(command, load_env, port) as backend:
                await wait_for_listeners(port, workers)
                print(f"  {workers} backend worker{'s' if workers > 1 else ''}")
                await load(port, options.users, options.turns, backend.pid)
        # MCP over streamable HTTP: the servers are their own processes.
        tasks_port, items_port, port = free_port(), free_port(), free_port()
        tasks = [str(BIN / "tasks-mcp"), "--transport", "http", "--port", str(tasks_port)]
        items = [str(BIN / "items-mcp"), "--transport", "http", "--port", str(items_port)]
        async with running(tasks, env, tasks_port), running(items, env, items_port):
            config = data / "mcp-http.json"
            config.write_text(json.dumps({"mcpServers": {
                "tasks": {"url": f"http://127.0.0.1:{tasks_port}/mcp"}, "items": {"url": f"http://127.0.0.1:{items_port}/mcp"},
            }}))  # fmt: skip
            http_env = {
                **env,
                "DATABASE_URL": f"sqlite+aiosqlite:///{data}/chat-http.db",
                "MCP_CONFIG": str(config),
            }
            async with running([str(BIN / "chatkit-backend"), "--port", str(port)], http_env, port):
                print("\n== per-turn overhead, MCP over HTTP ==")
                await measure(f"http://127.0.0.1:{port}", options.rounds, env, "http")


if __name__ == "__main__":
    asyncio.run(main())
