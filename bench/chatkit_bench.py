"""ChatKit protocol server figures: page latency, turn latency against a bare SSE floor, and load.

1. `items.list` and `threads.list` page latency at 1k and 100k items/threads (in process, ASGI).
2. `threads.create` with the offline model over HTTP on loopback (uvicorn, SQLite, auth on): time
   to first SSE byte and to last byte, beside a bare FastAPI endpoint streaming as many SSE events.
3. 50 concurrent clients creating threads for 20 s: turns/s, p90, errors, backend peak RSS.

Usage: python bench/chatkit_bench.py [--skip-pages] [--seconds 20] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import jwt
import psutil

from bench.support import free_port, summary, wait_for_port

SECRET = "bench-secret-for-end-user-tokens-0123456789abcdef"
BIN = Path(sys.executable).parent
HERE = Path(__file__).parent


def token(user: str) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")


async def start(command: list[str], env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(*command, env=env, stderr=subprocess.DEVNULL)
    await wait_for_port(port)
    return process


@asynccontextmanager
async def running(
    command: list[str], env: dict[str, str], port: int
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`command`, once it listens on `port`; terminated on exit."""
    process = await start(command, env, port)
    try:
        yield process
    finally:
        process.terminate()
        await process.wait()


CREATE = json.dumps(
    {"type": "threads.create", "params": {"input": {"content": [{"type": "input_text", "text": "hello"}],
                                                     "attachments": [], "inference_options": {}}}}
).encode()  # fmt: skip


async def timed_stream(
    http: httpx2.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> tuple[float, float, int]:
    """(ms to first byte, ms to last byte, SSE frames) of one streamed POST."""
    start = time.perf_counter()
    first, frames = 0.0, 0
    async with http.stream("POST", url, content=body, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        async for chunk in response.aiter_bytes():
            if not first:
                first = time.perf_counter()
            frames += chunk.count(b"\n\n")
    return (first - start) * 1000, (time.perf_counter() - start) * 1000, frames


Turn = Callable[[], Awaitable[tuple[float, float, int]]]


async def against_floor(http: httpx2.AsyncClient, turn: Turn, rounds: int, env: dict[str, str]) -> None:
    """Time `turn` and a bare SSE endpoint streaming as many events, alternating, and print both."""
    _, _, frames = await turn()
    floor_port = free_port()
    floor = await start(
        [sys.executable, str(HERE / "sse_floor.py"), str(floor_port), str(frames)], env, floor_port
    )
    floor_url = f"http://127.0.0.1:{floor_port}/"
    ours: tuple[list[float], list[float]] = ([], [])
    bare: tuple[list[float], list[float]] = ([], [])
    try:
        for round_ in range(rounds + 10):  # the first 10 warm both up
            first, last, _ = await turn()
            floor_first, floor_last, _ = await timed_stream(http, floor_url, b"{}", {})
            if round_ >= 10:
                ours[0].append(first)
                ours[1].append(last)
                bare[0].append(floor_first)
                bare[1].append(floor_last)
    finally:
        floor.terminate()
        await floor.wait()
    for label, index in (("first byte", 0), ("last byte ", 1)):
        ratio = statistics.median(ours[index]) / statistics.median(bare[index])
        print(f"    {label}  ours {summary(ours[index])}   floor {summary(bare[index])}   ({ratio:.1f}x)")
    print(f"    ({frames} SSE events, {rounds} turns)")


async def turn_latency(rounds: int, env: dict[str, str]) -> None:
    port = free_port()
    headers = {"Authorization": f"Bearer {token('bench')}", "Content-Type": "application/json"}
    async with (
        running([str(BIN / "chatkit-backend"), "--port", str(port)], env, port),
        httpx2.AsyncClient(timeout=30) as http,
    ):
        url = f"http://127.0.0.1:{port}/chatkit"
        print("  threads.create over HTTP on loopback")
        await against_floor(http, lambda: timed_stream(http, url, CREATE, headers), rounds, env)


async def load(clients: int, seconds: float, env: dict[str, str]) -> None:
    port = free_port()
    peak_rss = 0
    latencies: list[float] = []
    errors = 0
    url = f"http://127.0.0.1:{port}/chatkit"
    stop_at = 0.0  # set once the backend listens

    async def client(index: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token(f'user-{index}')}", "Content-Type": "application/json"}
        async with httpx2.AsyncClient(timeout=60) as http:
            while time.monotonic() < stop_at:
                try:
                    _, last, frames = await timed_stream(http, url, CREATE, headers)
                    latencies.append(last)
                    errors += frames < 5
                except Exception:  # count, never stop the run
                    errors += 1

    async def sample_rss(process: psutil.Process) -> None:
        nonlocal peak_rss
        while time.monotonic() < stop_at:
            peak_rss = max(peak_rss, process.memory_info().rss)
            await asyncio.sleep(0.2)

    async with running([str(BIN / "chatkit-backend"), "--port", str(port)], env, port) as backend:
        stop_at = time.monotonic() + seconds
        started = time.monotonic()
        await asyncio.gather(
            sample_rss(psutil.Process(backend.pid)), *(client(index) for index in range(clients))
        )
        elapsed = time.monotonic() - started
    rate = len(latencies) / elapsed
    print(f"  {clients} concurrent clients for {seconds:.0f} s: {rate:.0f} turns/s, {summary(latencies)}")
    print(f"    errors {errors}, backend peak RSS {peak_rss / 2**20:.0f} MiB")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=50)
    options = parser.parse_args()
    if not options.skip_pages:
        from bench.chatkit_pages import page_latency

        await page_latency()
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{directory}/chat.db",
            "AUTH_JWT_SECRET": SECRET,
            "MCP_CONFIG": "",  # the protocol layer alone (bench.agent_bench measures turns with tools)
            "RATE_LIMIT_TURNS_PER_MINUTE": "0",  # hundreds of turns a minute per user, on purpose
        }
        print("\n== turn latency ==")
        await turn_latency(options.rounds, env)
        print("\n== load ==")
        await load(options.clients, options.seconds, env)


if __name__ == "__main__":
    asyncio.run(main())
