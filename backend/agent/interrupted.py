"""Turns that never ended: a user message with nothing after it when the next one arrives (the
process was killed mid-reply, or the database went away before the reply or its failure note was
saved). The next turn first answers it with a note, so the thread shows that turn as failed and
the model sees that it was not answered.

A turn still running in this process for the same thread is left alone (its reply may yet come).
Another process's running turn cannot be seen: a second message sent to another replica while
the first one still streams gets the note too (the ChatKit UI does not send while a reply
streams).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from chatkit.store import Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    WidgetItem,
)

from backend.context import RequestContext

logger = logging.getLogger(__name__)
INTERRUPTED_NOTE = "(No reply: the answer to this message was interrupted. Try again.)"
# The task of the turn each thread has running in this process (entries go with their tasks).
_running: weakref.WeakValueDictionary[str, asyncio.Task[Any]] = weakref.WeakValueDictionary()


def _unanswered(history: list[ThreadItem], current: UserMessageItem | None) -> list[UserMessageItem]:
    """The user messages before `current` that nothing visible (a reply, a widget) came after."""
    unanswered: list[UserMessageItem] = []
    for item in reversed(history):
        if isinstance(item, AssistantMessageItem | WidgetItem):
            break
        if isinstance(item, UserMessageItem) and (current is None or item.id != current.id):
            unanswered.insert(0, item)
    return unanswered


async def answer_interrupted(
    store: Store[RequestContext],
    thread: ThreadMetadata,
    history: list[ThreadItem],
    current: UserMessageItem | None,
    context: RequestContext,
) -> list[ThreadItem]:
    """`history` (oldest first) with a note saved after each interrupted turn's user message; this
    turn is noted as the thread's running one (a turn still running before it is left alone)."""
    task = asyncio.current_task()
    other = _running.get(thread.id)
    if task is not None:
        _running[thread.id] = task
    if other is not None and other is not task and not other.done():
        return history  # the turn before may still answer
    marked = list(history)
    for orphan in _unanswered(history, current):
        note = AssistantMessageItem(
            id=store.generate_item_id("message", thread, context),
            thread_id=thread.id,
            created_at=orphan.created_at,  # placed right after it: (created_at, pk) orders a thread
            content=[AssistantMessageContent(text=INTERRUPTED_NOTE)],
        )
        await store.add_thread_item(thread.id, note, context)
        logger.warning("Thread %s: an earlier turn was interrupted; it is marked failed", thread.id)
        marked.insert(marked.index(orphan) + 1, note)
    return marked
