"""Log hygiene on the real `chatkit-backend` with both tool servers over stdio (the shipped config),
`LOG_FORMAT=json`: a whole session (a thread whose turn calls a tool, items.list, a widget
action, an upload, a request that fails server-side), then every line the backend and its tool
servers wrote to stderr is read back.

Every line is JSON; the backend's request id reaches the tool server's line for the call it made;
a failure is one line with its traceback; no line holds a token, a secret, the user id, the
message, or a signed link's token."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest

from shared_widgets import offered_actions
from tests.backend.conftest import AUTH_SECRET, parse_sse, user_input, user_token
from tests.conftest import SECRET
from tests.e2e.conftest import backend_env, free_port, run_backend

pytestmark = pytest.mark.e2e
USER = "user-e2e-hygiene-5k2p9w"
MARKER = "zebra-quartz-7731"
API_KEY = "sk-fake-hygiene-key-8c1e4d0b7a"


def post(http: httpx2.Client, token: str, request_id: str, payload: dict[str, Any]) -> httpx2.Response:
    """A ChatKit request with our X-Request-ID; the answer must echo it."""
    response = http.post(
        "/chatkit",
        json=payload,
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
    )
    assert response.headers.get("x-request-id") == request_id, response.headers
    return response


def session(http: httpx2.Client, token: str, data_dir: Path) -> list[str]:
    """A user's session; the signed-link tokens it was given."""
    created = post(
        http,
        token,
        "e2e-create-1",
        {"type": "threads.create", "params": {"input": user_input(f"add task buy milk {MARKER}")}},
    )
    assert created.status_code == 200, created.text
    events = parse_sse(created.content)
    thread_id = next(event.thread.id for event in events if event.type == "thread.created")
    widget = next(
        event.item
        for event in events
        if event.type == "thread.item.done" and event.item.type == "widget"  # type: ignore[union-attr]
    )
    listed = post(http, token, "e2e-list-2", {"type": "items.list", "params": {"thread_id": thread_id}})
    assert listed.status_code == 200, listed.text
    assert MARKER in listed.text  # the message is stored: it is only the logs that must not have it

    offered = offered_actions(widget.widget.model_dump())  # type: ignore[union-attr]
    assert offered, "the task widget offers actions"
    action = {"type": offered[0].type, "payload": dict(offered[0].payload)}
    acted = post(
        http,
        token,
        "e2e-action-3",
        {
            "type": "threads.custom_action",
            "params": {"thread_id": thread_id, "item_id": widget.id, "action": action},
        },
    )
    assert acted.status_code == 200, acted.text

    attachment = post(
        http,
        token,
        "e2e-attach-4",
        {
            "type": "attachments.create",
            "params": {"name": "notes.txt", "size": 5, "mime_type": "text/plain"},
        },
    )
    assert attachment.status_code == 200, attachment.text
    url = attachment.json()["upload_descriptor"]["url"]
    link_tokens = re.findall(r"token=([^&]+)", url)
    assert link_tokens, url
    uploaded = http.post(url, files={"file": ("notes.txt", b"hello", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    link_tokens += re.findall(r"token=([^&\"]+)", uploaded.text)  # a preview link, if any

    # A real server-side failure: a column of the chat store goes away under the backend.
    with sqlite3.connect(data_dir / "chat.db") as database:
        database.execute("ALTER TABLE chat_threads RENAME COLUMN data TO data_gone")
    failed = post(http, token, "e2e-boom-5", {"type": "threads.list", "params": {}})
    assert failed.status_code == 500, failed.text
    return link_tokens


def test_a_session_leaves_json_lines_without_secrets(tmp_path: Path) -> None:
    port = free_port()
    env = backend_env(
        tmp_path,
        LOG_FORMAT="json",
        LLM_PROVIDER="offline",
        OPENAI_API_KEY=API_KEY,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    token = user_token(USER)
    with (
        run_backend(tmp_path, env, port=port) as backend,
        httpx2.Client(base_url=backend.url, timeout=60.0) as http,
    ):
        link_tokens = session(http, token, tmp_path)
    text = backend.logs()  # after the stop: the tool servers have exited, everything is written

    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # each line is JSON
    assert lines

    calls = [line for line in lines if line["logger"] == "mcp_servers.calls"]
    create_calls = [line for line in calls if line["request_id"] == "e2e-create-1"]
    assert [(line["tool"], line["outcome"]) for line in create_calls] == [("add_task", "ok")], calls
    assert isinstance(create_calls[0]["duration_ms"], float)
    assert create_calls[0]["user"] == lines_user(lines, "e2e-create-1")
    assert any(line["request_id"] == "e2e-action-3" for line in calls), calls  # the widget's call

    access = {line["request_id"]: line for line in lines if line["logger"] == "backend.access"}
    assert access["e2e-create-1"]["status"] == 200
    assert access["e2e-create-1"]["thread_id"]
    assert access["e2e-boom-5"]["status"] == 500
    failure = [line for line in lines if line.get("request_id") == "e2e-boom-5" and line.get("traceback")]
    assert len(failure) == 1, failure
    assert not [line for line in lines if "Exception in ASGI application" in line["message"]]

    for secret in (token, AUTH_SECRET, SECRET, API_KEY, USER, MARKER, *link_tokens):
        assert secret not in text, secret
    assert "eyJ" not in text  # no JWT at all: neither the user's nor an identity token in _meta
    assert "token=" not in text


def lines_user(lines: list[dict[str, Any]], request_id: str) -> str:
    """The user hash the backend's access line for `request_id` gives."""
    (line,) = [
        line for line in lines if line["logger"] == "backend.access" and line["request_id"] == request_id
    ]
    assert re.fullmatch(r"[0-9a-f]{12}", line["user"]), line
    return str(line["user"])
