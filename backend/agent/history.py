"""How thread items become model input: the SDK's converter plus what this server adds."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from typing import cast

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    HiddenContextItem,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
)
from openai.types.responses import EasyInputMessageParam, ResponseInputContentParam, ResponseInputTextParam
from openai.types.responses.response_input_item_param import Message

from backend.actions.notes import widget_notes
from backend.agent.attachments import note
from shared_widgets import summarize_widget

SUMMARY_CACHE_SIZE = 4096
TAG_DATA_CHARS = 2000  # of a tag's data, as JSON


class HistoryConverter(ThreadItemConverter):
    """Widgets reach the model as a short text summary (not their JSON); attachments as the content
    parts read for this turn (`with_attachments`, see `backend.agent.attachments`), else as a note;
    earlier replies as plain assistant text, which Chat Completions models accept too (the SDK's
    `output_text` parts are refused there: every second turn would fail). Messages that are only
    text are sent as a string, not a list of parts: the same input, which the Agents SDK copies
    and walks (twice per model call) in a third of the nodes."""

    async def user_message_to_input(
        self, item: UserMessageItem, is_last_message: bool = True
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        """Plain text as a string; tags and quotes as the SDK builds them, then the attachments."""
        if item.attachments:
            built = await super().user_message_to_input(
                item.model_copy(update={"attachments": []}), is_last_message
            )
            assert isinstance(built, list)  # the SDK's: the message, then the quote and the tags
            message = cast(Message, built[0])
            parts = self._attachments.get(item.id)
            if parts is None:
                parts = [await self.attachment_to_message_content(a) for a in item.attachments]
            typed = [part for part in message["content"] if part.get("text", True)]  # no empty text
            message["content"] = [*typed, *parts]
            return built
        if item.quoted_text or not all(isinstance(part, UserMessageTextContent) for part in item.content):
            return await super().user_message_to_input(item, is_last_message)
        text = "".join(part.text for part in item.content if isinstance(part, UserMessageTextContent))
        return EasyInputMessageParam(type="message", role="user", content=text)

    async def assistant_message_to_input(self, item: AssistantMessageItem) -> TResponseInputItem | None:
        """An earlier reply, as text."""
        text = "\n\n".join(part.text for part in item.content if part.text)
        return EasyInputMessageParam(type="message", role="assistant", content=text) if text else None

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputContentParam:
        """An @-mention: its name and the data the client attached to it (the SDK has no default)."""
        data = json.dumps(tag.data, ensure_ascii=False, default=str)[:TAG_DATA_CHARS]
        return ResponseInputTextParam(type="input_text", text=f"@{tag.text}: {data}")

    async def attachment_to_message_content(self, attachment: Attachment) -> ResponseInputContentParam:
        """A text note for an attached file (its content is read only for recent messages)."""
        return ResponseInputTextParam(type="input_text", text=note(attachment))

    def __init__(self) -> None:
        super().__init__()
        # Summaries of stored widgets, reused turn after turn (a summary walks the whole widget).
        # The Store hands out the same parsed widget object while the stored widget is unchanged,
        # so an entry counts only for that very object: an action that re-renders a widget (same
        # item id, new tree) gets a new summary.
        self._summaries: OrderedDict[str, tuple[object, str]] = OrderedDict()
        self._attachments: dict[str, list[ResponseInputContentParam]] = {}

    def with_attachments(self, parts: dict[str, list[ResponseInputContentParam]]) -> HistoryConverter:
        """This converter for one turn: the same widget summaries, and the attachments of the user
        messages in `parts` (by item id, from `AttachmentContent.for_history`) as those parts."""
        turn = copy.copy(self)
        turn._attachments = parts
        return turn

    async def hidden_context_to_input(
        self, item: HiddenContextItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        """What the user did from widgets (the actions' notes), as lines the model can read; any
        other hidden text as it is."""
        notes = widget_notes(item)
        if notes is not None:
            lines = "\n".join(f"- {note}" for note in notes)
            text = f"[Done from widgets, not typed by the user:\n{lines}]"
        elif isinstance(item.content, str) and item.content.strip():
            text = f"[Hidden context: {item.content.strip()}]"
        else:
            return None
        return EasyInputMessageParam(type="message", role="user", content=text)

    async def widget_to_input(self, item: WidgetItem) -> TResponseInputItem | list[TResponseInputItem] | None:
        """What the user was shown, in a few lines of text."""
        known = self._summaries.get(item.id)
        if known is not None and known[0] is item.widget:
            summary = known[1]
        else:
            summary = summarize_widget(item.widget)
            self._summaries[item.id] = (item.widget, summary)
            if len(self._summaries) > SUMMARY_CACHE_SIZE:
                self._summaries.popitem(last=False)
        text = f"[Shown to the user as a widget: {summary}]"
        return EasyInputMessageParam(type="message", role="user", content=text)
