"""One turn on the console, in process: streamed text, progress, notices, errors, unknown events;
plain text when the output is not a terminal; exit statuses of a one-shot send."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx2
import pytest
from rich.console import Console

from chat_client.protocol import MALFORMED, ChatKitClient
from chat_client.session import send_once
from chat_client.turn import TurnView

THREAD = {"id": "thr_1", "created_at": "2026-01-01T00:00:00", "status": {"type": "active"}, "metadata": {}}
WIDGET = {
    "type": "Card",
    "children": [{"type": "Title", "value": "buy milk"}, {"type": "Badge", "label": "High"}],
}


def item(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": fields.pop("id", "msg_1"),
        "thread_id": "thr_1",
        "created_at": "2026-01-01T00:00:00",
        "type": kind,
    } | fields


def delta(text: str, item_id: str = "msg_a") -> dict[str, Any]:
    update = {"type": "assistant_message.content_part.text_delta", "content_index": 0, "delta": text}
    return {"type": "thread.item.updated", "item_id": item_id, "update": update}


def done(text: str, item_id: str = "msg_a") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}]
    return {"type": "thread.item.done", "item": item("assistant_message", id=item_id, content=content)}


TURN: list[dict[str, Any]] = [
    {"type": "thread.created", "thread": THREAD | {"items": {"data": [], "has_more": False}}},
    {"type": "thread.item.done", "item": item("user_message", content=[{"type": "input_text", "text": "q"}])},
    {"type": "stream_options", "stream_options": {"allow_cancel": True}},
    {"type": "progress_update", "icon": "bolt", "text": "Adding the task…"},
    {"type": "thread.updated", "thread": THREAD | {"title": "add task"}},
    {"type": "thread.item.done", "item": item("widget", id="msg_w", widget=WIDGET)},
    {"type": "thread.item.added", "item": item("assistant_message", id="msg_a", content=[])},
    {"type": "thread.item.updated", "item_id": "msg_a", "update": {
        "type": "assistant_message.content_part.added", "content_index": 0,
        "content": {"type": "output_text", "text": "", "annotations": []}}},
    delta("Task created: "),
    delta("'buy milk' (high priority)."),
    {"type": "thread.item.updated", "item_id": "msg_a", "update": {"type": "some.future.update"}},
    done("Task created: 'buy milk' (high priority)."),
    {"type": "thread.item.done", "item": item("end_of_turn", id="msg_e")},
]  # fmt: skip


def plain() -> Console:
    """A console writing to a file, as when stdout is a pipe."""
    return Console(width=100, file=io.StringIO())


def terminal() -> Console:
    return Console(width=100, file=io.StringIO(), force_terminal=True, color_system="standard")


def written(console: Console) -> str:
    """Exactly what the console wrote, control codes included."""
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def run(console: Console, events: list[dict[str, Any]]) -> tuple[TurnView, str]:
    with TurnView(console) as view:
        for event in events:
            view.handle(event)
    return view, written(console)


def test_plain_output_streams_text_without_control_codes() -> None:
    view, text = run(plain(), TURN)
    assert "\x1b" not in text
    assert view.thread_id == "thr_1"
    assert view.errors == []
    lines = text.splitlines()
    assert "… Adding the task…" in lines
    assert "Task created: 'buy milk' (high priority)." in lines  # the deltas, once, on one line
    assert text.count("buy milk' (high") == 1
    assert (
        text.index("Adding the task")
        < text.index("buy milk")
        < text.index("High")
        < text.index("Task created")
    )
    assert "waiting for the backend" not in text
    assert "some.future.update" not in text


def test_notices_errors_unknown_and_malformed_events() -> None:
    events = [
        delta("partial answer"),
        {"type": "notice", "level": "warning", "message": "Slow down", "title": "Heads up"},
        {"type": "notice", "level": "danger", "message": "Quota nearly gone"},
        {"type": "future.event", "whatever": 1},
        {"type": MALFORMED, "data": "{not json"},
        {"type": "error", "code": "stream.error", "message": "The model failed", "allow_retry": True},
        {"type": "error"},
        {"type": "client_effect", "name": "confetti", "data": {}},
    ]
    view, text = run(plain(), events)
    lines = text.splitlines()
    assert lines[0] == "partial answer"  # the line is ended before the next thing is shown
    assert "Heads up: Slow down" in lines
    assert "Quota nearly gone" in lines
    assert "· future.event event" in lines
    assert "· malformed event: {not json" in lines
    assert "error: The model failed (stream.error)" in lines
    assert view.errors == ["The model failed (stream.error)", "the backend reported an error (custom)"]
    assert "confetti" not in text


def test_colours_on_a_terminal() -> None:
    console = Console(
        record=True, width=100, file=io.StringIO(), force_terminal=True, color_system="standard"
    )
    events = [
        {"type": "notice", "level": "warning", "message": "careful"},
        {"type": "error", "message": "boom"},
    ]
    _, text = run(console, events)
    assert "\x1b[33mcareful" in text  # yellow
    assert "\x1b[1;31merror: boom" in text  # bold red


def test_live_mode_on_a_terminal_keeps_the_finished_turn() -> None:
    """On a terminal the reply streams in a live region; what stays printed is the finished turn."""
    view, text = run(terminal(), TURN)
    assert view.thread_id == "thr_1"
    assert "Adding the task…" in text  # the spinner line
    assert "buy milk" in text and "High" in text
    assert "Task created: 'buy milk' (high priority)." in text


def test_a_reply_sent_whole_without_deltas_is_printed() -> None:
    _, text = run(plain(), [done("All at once.", "msg_x")])
    assert text.splitlines() == ["All at once."]


@pytest.mark.parametrize("console", [plain, terminal], ids=["plain", "terminal"])
def test_a_reply_keeps_its_angle_bracket_placeholders(console: Any) -> None:
    """`add task <title>` streams and stays on screen with its `<title>`, on a terminal too."""
    reply = "Say “add task <title>” to add one.\n\n<title> is its name, <due> optional."
    _, text = run(console(), [delta(reply[:16]), delta(reply[16:]), done(reply)])
    assert "Say “add task <title>” to add one." in text
    assert "<title> is its name, <due> optional." in text


def test_workflow_tasks_show_their_titles() -> None:
    task = {"type": "custom", "title": "Searching the catalog", "status_indicator": "loading"}
    events = [
        {"type": "thread.item.updated", "item_id": "wf", "update": {
            "type": "workflow.task.added", "task_index": 0, "task": task}},
        {"type": "thread.item.done", "item": item("workflow", id="wf", workflow={
            "type": "custom", "tasks": [task], "summary": {"title": "Searched"}})},
    ]  # fmt: skip
    _, text = run(plain(), events)
    assert "… Searching the catalog" in text
    assert "Searched" in text


def backend(*frames: str, status: int = 200, body: bytes | None = None) -> httpx2.MockTransport:
    def handle(_: httpx2.Request) -> httpx2.Response:
        if body is not None:
            return httpx2.Response(status, content=body)
        content = "".join(f"data: {frame}\n\n" for frame in frames).encode()
        return httpx2.Response(status, headers={"content-type": "text/event-stream"}, content=content)

    return httpx2.MockTransport(handle)


@pytest.mark.parametrize(
    ("transport", "code", "out", "err"),
    [
        (backend(*map(json.dumps, TURN)), 0, "thread thr_1  (continue with --thread thr_1)", ""),
        (backend(json.dumps({"type": "error", "message": "no model"})), 1, "error: no model", ""),
        (backend(), 1, "without sending any event", ""),
        (backend(body=b'{"error": {"code": "unauthorized", "message": "Authentication failed."}}',
                 status=401), 1, "", "chatkit-chat: HTTP 401: Authentication failed. (unauthorized)"),
    ],
    ids=["ok", "error-event", "empty-stream", "http-401"],
)  # fmt: skip
def test_send_once_exit_status(transport: httpx2.MockTransport, code: int, out: str, err: str) -> None:
    console, errors = plain(), plain()
    with ChatKitClient("http://t/chatkit", transport=transport) as client:
        assert send_once(client, console, errors, "hello", None) == code
    assert out in written(console)
    assert err in written(errors)
