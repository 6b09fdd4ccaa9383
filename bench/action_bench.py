"""Widget action round trips beside a tool-plus-widget chat turn, in the same run.

The backend runs as `chatkit-backend` (offline model, auth on, SQLite, both MCP servers over stdio
as shipped). Each round measures, interleaved so the machine's noise falls on all alike:
- chat turns with one tool call and its widget: "add task ..." (two model passes, the add_task
  call and the task card an action re-renders too) and "list tasks" (the list grows to 20 rows);
- `threads.sync_custom_action` completing / reopening a task from its card (one tool call, the
  card re-rendered and saved, answered as JSON);
- `threads.custom_action` doing the same, streamed (the replaced widget as an SSE event).
Every figure is request sent to answer read whole, on one keep-alive connection per kind.
Target: an action costs at most half a tool turn (the add-task turn, the lighter of the two).

Usage: python -m bench.action_bench [--rounds 300]
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.agent_bench import message, shipped_env
from bench.chatkit_bench import running, token
from bench.support import LeanClient, free_port, percentile, summary

BIN = Path(sys.executable).parent
TASK_ID = re.compile(rb"task_[0-9a-z]{12}")
FRESH_EVERY = 20  # a new thread (and card) now and then: histories stay short, as in agent_bench
ADD_TURN = "chat turn, add task (a task card)"


def action(kind: str, thread_id: str, item_id: str, action_type: str, task_id: str) -> bytes:
    params = {
        "thread_id": thread_id,
        "item_id": item_id,
        "action": {"type": action_type, "payload": {"task_id": task_id}},
    }
    return json.dumps({"type": kind, "params": params}).encode()


class Card:
    """A thread with a fresh task card in it, toggled complete / reopen by each action."""

    def __init__(self) -> None:
        self.thread_id = self.item_id = self.task_id = ""
        self.done = False
        self.uses = 0


async def new_card(client: LeanClient, headers: dict[str, str], card: Card) -> None:
    status, body = await client.post(
        "/chatkit", message("threads.create", "add task bench the card"), headers
    )
    assert status == 200, body[:300]
    events = [json.loads(frame[6:]) for frame in body.split(b"\n\n") if frame.startswith(b"data: ")]
    card.thread_id = next(event["thread"]["id"] for event in events if event["type"] == "thread.created")
    widget = next(
        event["item"]
        for event in events
        if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
    )
    card.item_id = widget["id"]
    match = TASK_ID.search(json.dumps(widget).encode())
    assert match is not None
    card.task_id, card.done, card.uses = match.group().decode(), False, 0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    options = parser.parse_args()
    headers = {"Authorization": f"Bearer {token('bench')}", "Content-Type": "application/json"}
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory)
        env = shipped_env(data)
        port = free_port()
        async with running([str(BIN / "chatkit-backend"), "--port", str(port)], env, port):
            turns, syncs, streams = (LeanClient("127.0.0.1", port) for _ in range(3))
            chat_thread = {"id": "", "uses": 0}
            cards = {"sync": Card(), "stream": Card()}
            for card in cards.values():
                await new_card(syncs, headers, card)

            def chat_turn(text: str) -> Callable[[], Awaitable[bytes]]:
                async def turn() -> bytes:
                    if chat_thread["uses"] % FRESH_EVERY == 0:
                        _, body = await turns.post("/chatkit", message("threads.create", "hello"), headers)
                        chat_thread["id"] = body.split(b'"id":"', 1)[1].split(b'"', 1)[0].decode()
                    chat_thread["uses"] += 1
                    said = message("threads.add_user_message", text, str(chat_thread["id"]))
                    status, body = await turns.post("/chatkit", said, headers)
                    assert status == 200 and b'"type":"widget"' in body, body[:300]
                    return body

                return turn

            def clicker(kind: str, client: LeanClient, card: Card) -> Callable[[], Awaitable[bytes]]:
                async def click() -> bytes:
                    if card.uses == FRESH_EVERY:
                        await new_card(client, headers, card)
                    card.uses += 1
                    action_type = "tasks.reopen" if card.done else "tasks.complete"
                    body_in = action(kind, card.thread_id, card.item_id, action_type, card.task_id)
                    status, body = await client.post("/chatkit", body_in, headers)
                    assert status == 200 and b"Task " in body, body[:300]
                    card.done = not card.done
                    return body

                return click

            kinds: dict[str, Callable[[], Awaitable[Any]]] = {
                ADD_TURN: chat_turn("add task bench turn"),
                "chat turn, list tasks (up to 20 rows)": chat_turn("list tasks"),
                "action, threads.sync_custom_action": clicker(
                    "threads.sync_custom_action", syncs, cards["sync"]
                ),
                "action, threads.custom_action (SSE)": clicker(
                    "threads.custom_action", streams, cards["stream"]
                ),
            }
            timings: dict[str, list[float]] = {name: [] for name in kinds}
            for _ in range(20):  # warm up every path (imports, caches, the MCP tool listing)
                for run in kinds.values():
                    await run()
            for _ in range(options.rounds):
                for name, run in kinds.items():
                    started = time.perf_counter()
                    await run()
                    timings[name].append((time.perf_counter() - started) * 1000)
            for client in (turns, syncs, streams):
                await client.close()
    turn = timings[ADD_TURN]
    print(f"== widget actions, {options.rounds} rounds (offline model, stdio MCP, SQLite, auth on) ==")
    for name, values in timings.items():
        ratio = statistics.median(values) / statistics.median(turn)
        p90_ratio = percentile(values, 0.9) / percentile(turn, 0.9)
        print(f"  {name:40} {summary(values)}   x{ratio:.2f} (p90 x{p90_ratio:.2f})")
    worst = max(
        statistics.median(values) / statistics.median(turn)
        for name, values in timings.items()
        if name.startswith("action")
    )
    verdict = "met" if worst <= 0.5 else "MISSED"
    print(f"  target, an action at most half a tool turn (the add-task turn): {verdict} (worst x{worst:.2f})")


if __name__ == "__main__":
    asyncio.run(main())
