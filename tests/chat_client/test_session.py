"""The interactive session in process, against a stand-in backend: commands, failures, odd data."""

from __future__ import annotations

import io
import json

import httpx2
import pytest
from rich.console import Console

from chat_client.protocol import ChatKitClient
from chat_client.session import Session, when

THREADS = [
    {"id": "thr_a", "title": "[bold]not bold[/bold] [/oops]", "created_at": "2026-03-14T09:26:53Z"},
    {"id": "thr_b", "created_at": "yesterday"},
]


def stand_in(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    params = body["params"]
    if body["type"] == "threads.list":
        return httpx2.Response(200, json={"data": THREADS, "has_more": False})
    if body["type"] == "threads.get_by_id" and params["thread_id"] == "thr_a":
        return httpx2.Response(200, json=THREADS[0] | {"items": {"data": [], "has_more": False}})
    if body["type"] == "items.list":
        user = {
            "type": "user_message",
            "id": "m",
            "content": [{"type": "input_text", "text": "earlier question"}],
        }
        return httpx2.Response(200, json={"data": [user], "has_more": False})
    return httpx2.Response(404, json={"error": {"code": "not_found", "message": "No such thread."}})


def session(lines: str, monkeypatch: pytest.MonkeyPatch, thread_id: str | None = None) -> tuple[int, str]:
    """Run a session reading `lines` as stdin; its exit status and output."""
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    console = Console(width=100, file=io.StringIO())
    with ChatKitClient("http://t/chatkit", transport=httpx2.MockTransport(stand_in)) as client:
        code = Session(client, console, thread_id, echo=True).run()
    assert isinstance(console.file, io.StringIO)
    return code, console.file.getvalue()


def test_threads_show_titles_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = session("/threads\n/quit\nnever read\n", monkeypatch)
    assert code == 0
    assert "[bold]not bold[/bold] [/oops]" in out
    row_b = next(line for line in out.splitlines() if line.startswith("thr_b"))
    assert "—" in row_b and "yesterday" in row_b  # no title; a date that does not parse stays as it is
    assert "never read" not in out


def test_open_shows_the_last_items_and_failures_are_one_red_line(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = session("/open thr_a\n/open thr_zzz\n/open\n/open a b\n", monkeypatch)
    assert code == 0  # end of input leaves cleanly
    assert "you › earlier question" in out
    assert "error: HTTP 404: No such thread. (not_found)" in out
    assert out.count("usage: /open THREAD_ID") == 2


def test_starting_on_a_missing_thread_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = session("/quit\n", monkeypatch, thread_id="thr_zzz")
    assert code == 1
    assert "HTTP 404" in out


def test_a_message_that_fails_keeps_the_session_going(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = session("hello\n/help\n", monkeypatch)
    assert code == 0
    assert "error: HTTP 404" in out
    assert "/threads" in out[out.index("/help") + 5 :]


def test_when_formats_iso_dates() -> None:
    assert when("2026-03-14T09:26:53") == "2026-03-14 09:26"
    assert when(None) == "None"
