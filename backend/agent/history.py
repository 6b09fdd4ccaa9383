"""How thread items become model input: the SDK's converter plus what this server adds."""

from __future__ import annotations

from collections import OrderedDict

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem, Attachment, WidgetItem
from openai.types.responses import EasyInputMessageParam, ResponseInputContentParam, ResponseInputTextParam
from openai.types.responses.response_input_item_param import Message

from shared_widgets import summarize_widget

SUMMARY_CACHE_SIZE = 4096


class HistoryConverter(ThreadItemConverter):
    """Widgets reach the model as a short text summary (not their JSON); attachments as a note;
    earlier replies as plain assistant text, which Chat Completions models accept too (the SDK's
    `output_text` parts are refused there: every second turn would fail)."""

    async def assistant_message_to_input(self, item: AssistantMessageItem) -> TResponseInputItem | None:
        """An earlier reply, as text."""
        text = "\n\n".join(part.text for part in item.content if part.text)
        return EasyInputMessageParam(type="message", role="assistant", content=text) if text else None

    async def attachment_to_message_content(self, attachment: Attachment) -> ResponseInputContentParam:
        """A text note for an attached file."""
        return ResponseInputTextParam(
            type="input_text", text=f"[The user attached a file: {attachment.name} ({attachment.mime_type})]"
        )

    def __init__(self) -> None:
        super().__init__()
        # Summaries of stored widgets, reused turn after turn (a summary walks the whole widget).
        self._summaries: OrderedDict[str, str] = OrderedDict()

    async def widget_to_input(self, item: WidgetItem) -> TResponseInputItem | list[TResponseInputItem] | None:
        """What the user was shown, in a few lines of text."""
        summary = self._summaries.get(item.id)
        if summary is None:
            summary = self._summaries[item.id] = summarize_widget(item.widget)
            if len(self._summaries) > SUMMARY_CACHE_SIZE:
                self._summaries.popitem(last=False)
        text = f"[Shown to the user as a widget: {summary}]"
        return Message(
            type="message", role="user", content=[ResponseInputTextParam(type="input_text", text=text)]
        )
