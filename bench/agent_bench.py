"""Per-turn overhead of the agent path with the offline model, over HTTP on loopback.

For the MCP servers over stdio (started by the backend) and over streamable HTTP, it measures a
text-only turn and a turn with one MCP tool call plus its widget: time to first and last byte,
median and p90, beside a bare FastAPI SSE endpoint streaming as many events in the same run.
Then 50 concurrent users doing 10 tool-plus-widget turns each: turns/s, p90, errors, and peak RSS
of the backend and of the MCP servers.

Usage: python -m bench.agent_bench [--rounds 200] [--users 50] [--turns 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2
import psutil

from bench.chatkit_bench import SECRET, against_floor, start, timed_stream, token
from bench.support import free_port, summary

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
        **extra,
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


async def load(base: str, users: int, turns: int, backend_pid: int) -> None:
    backend = psutil.Process(backend_pid)
    peaks = {"backend": 0, "mcp": 0}
    latencies: list[float] = []
    errors = 0
    done = asyncio.Event()

    async def user(index: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token(f'load-{index}')}", "Content-Type": "application/json"}
        async with httpx2.AsyncClient(timeout=120) as http:
            url = f"{base}/chatkit"
            thread_id = await new_thread(http, url, headers, "hello")
            for turn in range(turns):
                text = f"add task load {index}-{turn}" if turn % 2 == 0 else "list tasks"
                try:
                    _, last, frames = await timed_stream(
                        http, url, message("threads.add_user_message", text, thread_id), headers
                    )
                    latencies.append(last)
                    errors += frames < 5
                except Exception:  # count, never stop the run
                    errors += 1

    async def sample() -> None:
        while not done.is_set():
            peaks["backend"] = max(peaks["backend"], backend.memory_info().rss)
            children = backend.children(recursive=True)
            peaks["mcp"] = max(peaks["mcp"], sum(child.memory_info().rss for child in children))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    await asyncio.gather(*(user(index) for index in range(users)))
    elapsed = time.monotonic() - started
    done.set()
    await sampler
    rate = len(latencies) / elapsed
    print(f"  {users} users x {turns} tool+widget turns: {rate:.0f} turns/s, {summary(latencies)}")
    print(f"    errors {errors}, peak RSS backend {peaks['backend'] / 2**20:.0f} MiB, "
          f"stdio MCP servers {peaks['mcp'] / 2**20:.0f} MiB")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10)
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
        backend = await start([str(BIN / "chatkit-backend"), "--port", str(port)], stdio_env, port)
        try:
            print("== per-turn overhead ==")
            await measure(f"http://127.0.0.1:{port}", options.rounds, env, "stdio")
            print("\n== load ==")
            await load(f"http://127.0.0.1:{port}", options.users, options.turns, backend.pid)
        finally:
            backend.terminate()
            await backend.wait()
        # MCP over streamable HTTP: the servers are their own processes.
        tasks_port, items_port, port = free_port(), free_port(), free_port()
        servers = [
            await start(
                [str(BIN / "tasks-mcp"), "--transport", "http", "--port", str(tasks_port)], env, tasks_port
            ),
            await start(
                [str(BIN / "items-mcp"), "--transport", "http", "--port", str(items_port)], env, items_port
            ),
        ]
        config = data / "mcp-http.json"
        config.write_text(json.dumps({"mcpServers": {
            "tasks": {"url": f"http://127.0.0.1:{tasks_port}/mcp"}, "items": {"url": f"http://127.0.0.1:{items_port}/mcp"},
        }}))  # fmt: skip
        http_env = {
            **env,
            "DATABASE_URL": f"sqlite+aiosqlite:///{data}/chat-http.db",
            "MCP_CONFIG": str(config),
        }
        backend = await start([str(BIN / "chatkit-backend"), "--port", str(port)], http_env, port)
        try:
            print("\n== per-turn overhead, MCP over HTTP ==")
            await measure(f"http://127.0.0.1:{port}", options.rounds, env, "http")
        finally:
            backend.terminate()
            await backend.wait()
            for server in servers:
                server.terminate()
                await server.wait()


if __name__ == "__main__":
    asyncio.run(main())
