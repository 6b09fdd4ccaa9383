"""A run's events as ChatKit's `stream_agent_response` reads them, without leaving tasks behind.

`stream_agent_response` merges the run's events with the context's event queue, reading each in a
task of its own (`asyncio.ensure_future(iterator.__anext__())`). Two ways leave such a task behind:
- the run's events raise: the pending read of the queue is never cancelled. `ending_cleanly` makes
  the events end normally instead (the failure is kept for the caller), so the merge finishes;
- the client leaves: the merge is closed or cancelled with both reads pending. One later ends with
  an exception nobody retrieves ("Task exception was never retrieved"), the other waits on the queue
  until it is destroyed pending. `MergeReads` notes the task of each read; `release()` cancels those
  still waiting and retrieves every outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from agents import (
    InputGuardrailTripwireTriggered,
    OutputGuardrailTripwireTriggered,
    RunResultStreaming,
    StreamEvent,
)
from chatkit.agents import AgentContext


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a finished task's outcome as seen (a cancellation, a value or an exception)."""
    if not task.cancelled():
        task.exception()


class _NotingQueue(asyncio.Queue[Any]):
    """The context's event queue, noting which task waits on it."""

    def __init__(self, reads: MergeReads) -> None:
        super().__init__()
        self._reads = reads

    async def get(self) -> Any:
        self._reads.note("queue")
        return await super().get()


class MergeReads:
    """The merge's latest read of the run's events and of the context's queue, one task each."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def note(self, side: str) -> None:
        """Note the task now reading `side` (called from inside the read)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks[side] = task

    def watch(self, context: AgentContext[Any]) -> None:
        """Note the reads of `context`'s event queue (before anything reads it; queued events move)."""
        queue = _NotingQueue(self)
        old = context._events
        while not old.empty():
            queue.put_nowait(old.get_nowait())
        context._events = queue

    def release(self) -> None:
        """Cancel the reads still pending and retrieve the outcome of all (the merge is gone)."""
        current = asyncio.current_task()
        for task in self._tasks.values():
            if task is current:
                continue
            if not task.done():
                task.cancel()
            task.add_done_callback(_retrieve)
        self._tasks.clear()


def ending_cleanly(
    result: RunResultStreaming, failures: list[Exception], reads: MergeReads | None = None
) -> RunResultStreaming:
    """`result`, whose events end normally when the run fails (the failure goes to `failures`), each
    read noted in `reads`. Guardrail trips still raise: ChatKit removes the turn's items for them."""
    events = result.stream_events

    async def stream_events() -> AsyncIterator[StreamEvent]:
        if reads is not None:
            reads.note("run")
        try:
            async for event in events():
                yield event
                if reads is not None:  # resumed by the merge's next read: a task of its own
                    reads.note("run")
        except (InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered):
            raise
        except Exception as exc:
            failures.append(exc)

    result.stream_events = stream_events  # type: ignore[method-assign]
    return result
