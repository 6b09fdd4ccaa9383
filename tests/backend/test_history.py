"""What the model reads of a thread: widgets as short text, attachments as a note."""

from __future__ import annotations

from datetime import datetime

from chatkit.types import FileAttachment, WidgetItem

from backend.agent.history import HistoryConverter
from shared_widgets import render_tool_result


async def test_widgets_become_a_short_text_summary() -> None:
    """History gives the model a widget's text, never its JSON."""
    structured = {
        "tasks": [
            {
                "id": "task_0123456789ab",
                "title": "buy milk",
                "description": "",
                "status": "pending",
                "priority": "high",
                "due_date": None,
                "created_at": "2026-11-26T10:00:00Z",
                "updated_at": "2026-11-26T10:00:00Z",
                "completed_at": None,
            }
        ],
        "total": 1,
        "next_cursor": None,
    }
    widget = render_tool_result("tasks", "list_tasks", structured)
    assert widget is not None
    item = WidgetItem(id="w1", thread_id="t1", created_at=datetime.now(), widget=widget)
    converted = await HistoryConverter().widget_to_input(item)
    text = converted["content"][0]["text"]
    assert text.startswith("[Shown to the user as a widget:")
    assert "buy milk" in text
    assert '"type"' not in text
    assert len(text) < 600


async def test_attachments_become_a_note() -> None:
    """An attached file is named to the model."""
    note = await HistoryConverter().attachment_to_message_content(
        FileAttachment(id="atc_1", name="plan.pdf", mime_type="application/pdf")
    )
    assert note["text"] == "[The user attached a file: plan.pdf (application/pdf)]"
