"""Instructions per turn, counted by callgrind: a figure that a shared, noisy machine cannot blur.

Runs `chatkit-backend` (the shipped MCP config: both servers over stdio) and the bare FastAPI SSE
floor under `valgrind --tool=callgrind --instr-atstart=no`. After a warm-up, it counts the
instructions of N tool-plus-widget turns, N text turns and N floor requests, and prints millions of
instructions per turn beside the floor's. Only those two processes are counted: the MCP servers
run natively, and the kernel's share (system calls) is not counted. Repeat runs agree to ~1%, so
a change of a few percent shows here when wall-clock medians cannot see it.

Usage: python -m bench.turn_instructions [--turns 30]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2

from bench.agent_bench import message, new_thread, system_env
from bench.chatkit_bench import timed_stream, token
from bench.support import free_port, wait_for_port

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent
STARTUP_SECONDS = 600  # imports under valgrind are slow


async def under_callgrind(
    command: list[str], env: dict[str, str], port: int, out: Path
) -> asyncio.subprocess.Process:
    """Start `command` under callgrind with instrumentation off; return once it listens on `port`."""
    process = await asyncio.create_subprocess_exec(
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *command,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    await wait_for_port(port, within_seconds=STARTUP_SECONDS)
    return process


def control(pid: int, *options: str) -> None:
    subprocess.run(["callgrind_control", *options, str(pid)], check=True, capture_output=True)


async def count(pid: int, out: Path, runs: int, one: Callable[[], Awaitable[object]]) -> float:
    """Millions of instructions per call of `one`, counted in process `pid`."""
    before = set(glob.glob(f"{out}*"))
    control(pid, "--zero")
    control(pid, "--instr=on")
    for _ in range(runs):
        await one()
    control(pid, "--instr=off")
    control(pid, "--dump")
    (dump,) = set(glob.glob(f"{out}*")) - before
    return totals(Path(dump)) / runs / 1e6


def totals(dump: Path) -> int:
    """The instruction total of one callgrind dump."""
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise ValueError(f"{dump} has no totals line")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    turns = parser.parse_args().turns
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        env = system_env(
            data,
            DATABASE_URL=f"sqlite+aiosqlite:///{data}/chat.db",
            MCP_CONFIG=str(HERE.parent / "mcp_servers.json"),
        )
        headers = {"Authorization": f"Bearer {token('instructions')}", "Content-Type": "application/json"}
        port, floor_port = free_port(), free_port()
        backend = await under_callgrind(
            [str(BIN / "python"), str(BIN / "chatkit-backend"), "--port", str(port)],
            env,
            port,
            data / "backend.cg",
        )
        floor = await under_callgrind(
            [str(BIN / "python"), str(HERE / "sse_floor.py"), str(floor_port), "10"],
            env,
            floor_port,
            data / "floor.cg",
        )
        try:
            async with httpx2.AsyncClient(timeout=600) as http:
                url = f"http://127.0.0.1:{port}/chatkit"
                thread = await new_thread(http, url, headers, "add task warm up")
                state = {"thread": thread, "turns": 0}

                async def turn(text: str) -> None:
                    if state["turns"] % 20 == 19:  # keep the history short and realistic, as agent_bench does
                        state["thread"] = await new_thread(http, url, headers, "hello")
                    state["turns"] = int(state["turns"]) + 1
                    await timed_stream(
                        http, url, message("threads.add_user_message", text, str(state["thread"])), headers
                    )

                for _ in range(10):
                    await turn("list tasks")
                    await timed_stream(http, f"http://127.0.0.1:{floor_port}/", b"{}", {})
                tool = await count(backend.pid, data / "backend.cg", turns, lambda: turn("list tasks"))
                text = await count(backend.pid, data / "backend.cg", turns, lambda: turn("hello there"))
                bare = await count(
                    floor.pid, data / "floor.cg", turns,
                    lambda: timed_stream(http, f"http://127.0.0.1:{floor_port}/", b"{}", {}),
                )  # fmt: skip
        finally:
            for process in (backend, floor):
                process.terminate()
                await process.wait()
    print(f"instructions per turn, {turns} turns each (callgrind; MCP servers and kernel not counted)")
    print(f"  tool + widget turn (stdio MCP) {tool:8.1f} M   ({tool / bare:.0f}x the floor)")
    print(f"  text turn                      {text:8.1f} M   ({text / bare:.0f}x the floor)")
    print(f"  bare SSE floor, 10 events      {bare:8.1f} M")


if __name__ == "__main__":
    asyncio.run(main())
