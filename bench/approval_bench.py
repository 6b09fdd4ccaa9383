"""The approve round trip beside a plain tool turn, in the same run.

The backend runs as `chatkit-backend` (offline model, auth on, SQLite, both MCP servers over stdio
as shipped, where `delete_task` asks first). Each round, on one keep-alive connection:
- a plain tool turn: "add task ..." (two model passes, one tool call, its widget);
- the turn that pauses: "delete task <id>" (one model pass, a read to word the question, the run
  stored, the confirmation);
- the approve round trip: the click, until the reply has streamed (the run read back and resumed,
  the tool call and its widget, the second model pass, the confirmation settled).
Request sent to answer read whole. What to expect of the click: a tool turn plus a store read.

Usage: python -m bench.approval_bench [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.agent_bench import message, shipped_env
from bench.chatkit_bench import running, token
from bench.support import LeanClient, free_port, percentile, summary

BIN = Path(sys.executable).parent
TASK_ID = re.compile(rb"task_[0-9a-z]{12}")
FRESH_EVERY = 20  # a new thread now and then: histories stay short, as in agent_bench


def events_of(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(frame[6:]) for frame in body.split(b"\n\n") if frame.startswith(b"data: ")]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    options = parser.parse_args()
    headers = {"Authorization": f"Bearer {token('bench')}", "Content-Type": "application/json"}
    timings: dict[str, list[float]] = {
        "plain tool turn (add task)": [],
        "the turn that pauses": [],
        "approve round trip": [],
    }
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        env = shipped_env(data)
        port = free_port()
        async with running([str(BIN / "chatkit-backend"), "--port", str(port)], env, port):
            client = LeanClient("127.0.0.1", port)
            thread_id = ""

            async def timed(name: str | None, body: bytes) -> bytes:
                started = time.perf_counter()
                status, answer = await client.post("/chatkit", body, headers)
                if name is not None:
                    timings[name].append((time.perf_counter() - started) * 1000)
                assert status == 200 and b'"type":"error"' not in answer, answer[:300]
                return answer

            for round_number in range(options.rounds + 10):  # the first 10 warm every path up
                if round_number % FRESH_EVERY == 0:
                    _, created = await client.post("/chatkit", message("threads.create", "hello"), headers)
                    thread_id = created.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
                warm = round_number < 10
                added = await timed(
                    None if warm else "plain tool turn (add task)",
                    message("threads.add_user_message", f"add task bench {round_number}", thread_id),
                )
                match = TASK_ID.search(added)
                assert match is not None
                asked = await timed(
                    None if warm else "the turn that pauses",
                    message("threads.add_user_message", f"delete task {match.group().decode()}", thread_id),
                )
                confirmation = next(
                    event["item"]
                    for event in events_of(asked)
                    if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
                )
                approval_id = re.search(r"apr_[0-9a-f]{32}", json.dumps(confirmation))
                assert approval_id is not None
                action = {"type": "approval.approve", "payload": {"approval_id": approval_id.group()}}
                params = {"thread_id": thread_id, "item_id": confirmation["id"], "action": action}
                done = await timed(
                    None if warm else "approve round trip",
                    json.dumps({"type": "threads.custom_action", "params": params}).encode(),
                )
                assert b"Task deleted" in done, done[:300]
            await client.close()
    plain = timings["plain tool turn (add task)"]
    print(f"== approvals, {options.rounds} rounds (offline model, stdio MCP, SQLite, auth on) ==")
    for name, values in timings.items():
        ratio = statistics.median(values) / statistics.median(plain)
        p90_ratio = percentile(values, 0.9) / percentile(plain, 0.9)
        print(f"  {name:30} {summary(values)}   x{ratio:.2f} of the plain turn (p90 x{p90_ratio:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
