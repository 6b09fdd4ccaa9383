"""What the model reads of a thread: widgets as short text, attachments as a note."""

from __future__ import annotations

from datetime import datetime

from chatkit.types import (
    FileAttachment,
    InferenceOptions,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
)

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
    text = converted["content"]
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


async def test_plain_user_messages_are_sent_as_text() -> None:
    """A message of text parts is one string; tags, attachments and quotes keep the SDK's parts."""
    converter = HistoryConverter()

    def message(*parts: UserMessageTextContent | UserMessageTagContent, **fields: object) -> UserMessageItem:
        return UserMessageItem(
            id="msg_u",
            thread_id="t1",
            created_at=datetime.now(),
            content=list(parts),
            attachments=[],
            inference_options=InferenceOptions(),
            **fields,  # type: ignore[arg-type]
        )

    plain = await converter.to_agent_input(
        [message(UserMessageTextContent(text="add task "), UserMessageTextContent(text="milk"))]
    )
    assert plain == [{"type": "message", "role": "user", "content": "add task milk"}]
    tagged = await converter.to_agent_input(
        [
            message(
                UserMessageTextContent(text="ask "),
                UserMessageTagContent(id="t", text="alice", data={"team": "ops"}),
            )
        ]
    )
    assert tagged[0]["content"][0] == {"type": "input_text", "text": "ask @alice"}
    assert {"type": "input_text", "text": '@alice: {"team": "ops"}'} in tagged[1]["content"]
    quoted = await converter.to_agent_input(
        [message(UserMessageTextContent(text="this"), quoted_text="a line")]
    )
    assert any("a line" in str(item["content"]) for item in quoted) and isinstance(
        quoted[-1]["content"], list
    )
