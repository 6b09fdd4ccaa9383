"""How thread items become model input: the SDK's converter plus what this server adds."""

from __future__ import annotations

from chatkit.agents import ThreadItemConverter
from chatkit.types import Attachment
from openai.types.responses import ResponseInputContentParam, ResponseInputTextParam


class HistoryConverter(ThreadItemConverter):
    """Attachments reach the model as a short note naming the file (their content comes later)."""

    async def attachment_to_message_content(self, attachment: Attachment) -> ResponseInputContentParam:
        """A text note for an attached file."""
        return ResponseInputTextParam(
            type="input_text", text=f"[The user attached a file: {attachment.name} ({attachment.mime_type})]"
        )
