"""Repairs to the event stream of Chat Completions models (the Gemini and OpenAI-compatible path).

That path gives every assistant message the same id (`__fake_id__`), so in a multi-turn thread
replies would overwrite each other in the Store; and it never sends the text-done event, so the
final item can lack text that was streamed. Each message gets a fresh id here, and its final
content is completed from the deltas seen.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.models.fake_id import FAKE_RESPONSES_ID
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)


class AssistantMessageRepair:
    """Gives each `__fake_id__` message its own id and completes its final text from the deltas."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self._current: str | None = None
        self._deltas: dict[int, str] = {}

    def __call__(self, event: ThreadStreamEvent) -> ThreadStreamEvent:
        """The event, repaired where needed."""
        if isinstance(event, ThreadItemAddedEvent):
            if isinstance(event.item, AssistantMessageItem) and event.item.id == FAKE_RESPONSES_ID:
                self._current, self._deltas = self._new_id(), {}
                return event.model_copy(update={"item": event.item.model_copy(update={"id": self._current})})
        elif isinstance(event, ThreadItemUpdatedEvent):
            if event.item_id == FAKE_RESPONSES_ID and self._current:
                if isinstance(event.update, AssistantMessageContentPartTextDelta):
                    index = event.update.content_index
                    self._deltas[index] = self._deltas.get(index, "") + event.update.delta
                return event.model_copy(update={"item_id": self._current})
        elif isinstance(event, ThreadItemDoneEvent):
            item = event.item
            if isinstance(item, AssistantMessageItem) and item.id == FAKE_RESPONSES_ID and self._current:
                fixed = item.model_copy(update={"id": self._current, "content": self._complete(item)})
                self._current = None
                return event.model_copy(update={"item": fixed})
        return event

    def _complete(self, item: AssistantMessageItem) -> list[AssistantMessageContent]:
        content = [part.model_copy() for part in item.content]
        for index, streamed in sorted(self._deltas.items()):
            while len(content) <= index:
                content.append(AssistantMessageContent(text="", annotations=[]))
            if len(streamed) > len(content[index].text):
                content[index] = content[index].model_copy(update={"text": streamed})
        return content
