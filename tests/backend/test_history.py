"""What the model reads of a thread: widgets as short text, attachments as a note, widget actions
as notes."""

from __future__ import annotations

from datetime import datetime

from chatkit.types import (
    FileAttachment,
    HiddenContextItem,
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


async def test_a_widget_replaced_in_place_gets_a_new_summary() -> None:
    """Summaries are kept per widget object, so an action's new rendering (same item id) is read anew."""
    converter = HistoryConverter()
    card = render_tool_result("x", "get_thing", {"name": "Before", "size": 1})
    again = render_tool_result("x", "get_thing", {"name": "After", "size": 2})
    assert card is not None and again is not None
    first = WidgetItem(id="w1", thread_id="t1", created_at=datetime.now(), widget=card)
    assert "Before" in str((await converter.widget_to_input(first))["content"])
    replaced = first.model_copy(update={"widget": again})
    assert "After" in str((await converter.widget_to_input(replaced))["content"])


async def test_hidden_notes_reach_the_model_as_lines() -> None:
    """Widget actions' notes become one line each; other hidden text is passed as it is; hidden
    content that is neither is left out."""
    converter = HistoryConverter()

    def hidden(content: object) -> HiddenContextItem:
        return HiddenContextItem(id="msg_h", thread_id="t1", created_at=datetime.now(), content=content)

    notes = await converter.hidden_context_to_input(hidden({"widget_actions": ["did a", "did b"]}))
    assert notes == {
        "type": "message",
        "role": "user",
        "content": "[Done from widgets, not typed by the user:\n- did a\n- did b]",
    }
    plain = await converter.hidden_context_to_input(hidden("the user prefers mornings"))
    assert plain is not None and plain["content"] == "[Hidden context: the user prefers mornings]"
    assert await converter.hidden_context_to_input(hidden({"other": 1})) is None
