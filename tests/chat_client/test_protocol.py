"""The client's side of the protocol in process: request shapes, SSE decoding of hostile streams, errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from chat_client.protocol import (
    MALFORMED,
    ChatKitClient,
    ChatKitError,
    decode_event,
    describe_body,
    local_timezone,
)
from tests.e2e.conftest import free_port

URL = "http://chatkit.test/chatkit"
Handler = Callable[[httpx2.Request], httpx2.Response]


def sse(chunks: list[bytes], content_type: str = "text/event-stream") -> Handler:
    """A handler that streams `chunks` exactly as split here."""

    def handle(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": content_type}, content=iter(chunks))

    return handle


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def streamed(handler: Handler) -> list[dict]:
    with (
        ChatKitClient(URL, transport=httpx2.MockTransport(handler)) as client,
        client.send("hi") as events,
    ):
        return list(events)


NOTICE = {"type": "notice", "level": "info", "message": "héllo 🎉 — “quotes”"}
DELTA = {
    "type": "thread.item.updated",
    "item_id": "msg_1",
    "update": {"type": "assistant_message.content_part.text_delta", "content_index": 0, "delta": "a\nb"},
}


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_frames_split_anywhere_even_inside_utf8_characters(size: int) -> None:
    """Chunk boundaries fall mid-line, mid-`data:` and mid-character: the events come out whole."""
    body = "".join(f"data: {json.dumps(event, ensure_ascii=False)}\n\n" for event in (NOTICE, DELTA)).encode()
    assert streamed(sse(split_every(body, size))) == [NOTICE, DELTA]


def test_comments_keepalives_ids_crlf_and_named_events() -> None:
    """Comment lines, empty frames, `event:`/`id:`/`retry:` fields and CRLF endings are SSE, not events."""
    body = (
        b": keep-alive\r\n\r\n"
        b"retry: 1000\r\n\r\n"
        b"event: ping\r\n\r\n"
        b"id: 7\r\nevent: message\r\ndata: " + json.dumps(NOTICE).encode() + b"\r\n\r\n"
        b":comment between\n"
        b"data: \n\n"
    )
    assert streamed(sse([body])) == [NOTICE]


def test_data_over_several_lines_is_joined() -> None:
    """A JSON object split over several `data:` lines is one event (lines joined with newlines)."""
    body = b'data: {"type": "notice",\ndata: "level": "warning",\ndata:"message": "two lines"}\n\n'
    assert streamed(sse([body])) == [{"type": "notice", "level": "warning", "message": "two lines"}]


def test_unknown_and_malformed_events_pass_through_marked() -> None:
    """Unknown types are handed on as they are; data that is not a typed JSON object becomes MALFORMED."""
    frames = [
        {"type": "future.event", "payload": [1, 2]},
        "not json at all",
        "[1, 2, 3]",
        '{"no_type": true}',
        '{"type": 42}',
    ]
    body = "".join(f"data: {f if isinstance(f, str) else json.dumps(f)}\n\n" for f in frames).encode()
    events = streamed(sse([body]))
    assert events[0] == {"type": "future.event", "payload": [1, 2]}
    assert [event["type"] for event in events[1:]] == [MALFORMED] * 4
    assert events[1]["data"] == "not json at all"


def test_an_unterminated_last_frame_is_dropped() -> None:
    """A stream cut in the middle of a frame (no blank line) does not dispatch the half event (SSE rules)."""
    body = b"data: " + json.dumps(NOTICE).encode() + b'\n\ndata: {"type": "notice", "mess'
    assert streamed(sse([body])) == [NOTICE]


def test_decode_event_ignores_blank_data() -> None:
    assert decode_event("") is None
    assert decode_event("  \n ") is None


def test_requests_are_shaped_as_the_ui_sends_them() -> None:
    """POST JSON {type, params} with the bearer token; user input with content, attachments, options."""
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        body = json.loads(request.content)
        if body["type"] == "threads.list":
            return httpx2.Response(200, json={"data": [{"id": "thr_1"}], "has_more": False})
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=b"")

    with ChatKitClient(URL, "tok", transport=httpx2.MockTransport(handle)) as client:
        with client.send("buy milk") as events:
            assert list(events) == []
        with client.send("more", "thr_1") as events:
            list(events)
        assert client.list_threads(5) == [{"id": "thr_1"}]
    bodies = [json.loads(request.content) for request in seen]
    user_input = {
        "content": [{"type": "input_text", "text": "buy milk"}],
        "attachments": [],
        "inference_options": {},
    }
    assert bodies[0] == {"type": "threads.create", "params": {"input": user_input}}
    assert bodies[1]["type"] == "threads.add_user_message"
    assert bodies[1]["params"]["thread_id"] == "thr_1"
    assert bodies[1]["params"]["input"]["content"][0]["text"] == "more"
    assert bodies[2] == {"type": "threads.list", "params": {"limit": 5, "order": "desc"}}
    for request in seen:
        assert request.method == "POST"
        assert str(request.url) == URL
        assert request.headers["authorization"] == "Bearer tok"
        assert request.headers["content-type"] == "application/json"
    assert seen[0].headers["accept"] == "text/event-stream"


def test_no_authorization_header_without_a_token() -> None:
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json={"data": []})

    with ChatKitClient(URL, transport=httpx2.MockTransport(handle)) as client:
        client.list_threads()
    assert "authorization" not in seen[0].headers


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, b'{"error": {"code": "unauthorized", "message": "Authentication failed: bad token."}}',
         "HTTP 401: Authentication failed: bad token. (unauthorized)"),
        (404, b'{"detail": "Not Found"}', "HTTP 404: Not Found"),
        (422, b'{"detail": [{"loc": ["body"], "msg": "field required"}]}', "HTTP 422: [{"),
        (400, b'{"error": "bad request type"}', "HTTP 400: bad request type"),
        (400, b'{"message": "nope", "code": "E1"}', "HTTP 400: nope (E1)"),
        (413, b"<html><body>\n  Request Entity Too Large\n</body></html>",
         "HTTP 413: <html><body> Request Entity"),
        (502, b"", "HTTP 502: Bad Gateway"),
        (500, b"\xff\xfe broken bytes", "HTTP 500: "),
    ],
)  # fmt: skip
def test_http_errors_become_one_line_messages(status: int, body: bytes, expected: str) -> None:
    """Streaming and JSON requests fail the same way: status plus the backend's message, on one line."""

    def handle(_: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body)

    def stream(client: ChatKitClient) -> None:
        with client.send("hi") as events:
            list(events)

    with ChatKitClient(URL, transport=httpx2.MockTransport(handle)) as client:
        for attempt in (stream, ChatKitClient.list_threads):
            with pytest.raises(ChatKitError) as caught:
                attempt(client)
            assert caught.value.status == status
            assert str(caught.value).startswith(expected)
            assert "\n" not in str(caught.value)


def test_describe_body_truncates_long_text() -> None:
    assert len(describe_body(b"x" * 5000)) == 300


def test_a_streaming_request_answered_with_json_is_an_error() -> None:
    """A backend that answers a streaming request with JSON (or HTML) says so, with what it sent."""
    with pytest.raises(ChatKitError, match=r"expected text/event-stream, got application/json: oops"):
        streamed(lambda _: httpx2.Response(200, json={"message": "oops"}))


def test_a_stream_that_stops_answering_times_out_with_a_clear_message() -> None:
    """Events that arrived are kept; the timeout after them is one clear error."""

    def chunks() -> Iterator[bytes]:
        yield b"data: " + json.dumps(NOTICE).encode() + b"\n\n"
        raise httpx2.ReadTimeout("timed out")

    transport = httpx2.MockTransport(
        lambda _: httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())
    )
    received: list[dict] = []
    with pytest.raises(ChatKitError, match=r"stopped answering \(no data for 120 s\)"):
        with ChatKitClient(URL, transport=transport) as client, client.send("hi") as events:
            received.extend(events)
    assert received == [NOTICE]


def test_nobody_listening_is_a_clear_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/chatkit"
    with (
        ChatKitClient(url) as client,
        pytest.raises(ChatKitError, match=f"cannot connect to {url}") as caught,
    ):
        client.list_threads()
    assert caught.value.status is None


def test_a_server_that_accepts_but_never_answers_times_out() -> None:
    """A real socket that accepts connections (kernel backlog) but never answers: read timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/chatkit"
        with (
            ChatKitClient(url, timeout=0.3) as client,
            pytest.raises(ChatKitError, match="stopped answering"),
        ):
            with client.send("hi") as events:
                list(events)


def test_the_time_zone_rides_on_every_request_as_the_page_sends_it() -> None:
    seen: list[str | None] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("x-timezone"))
        return httpx2.Response(200, json={"data": [], "has_more": False})

    with ChatKitClient(URL, transport=httpx2.MockTransport(handle), timezone="Asia/Tokyo") as client:
        client.call("threads.list", limit=1)
    with ChatKitClient(URL, transport=httpx2.MockTransport(handle)) as client:
        client.call("threads.list", limit=1)
    assert seen == ["Asia/Tokyo", None]


def test_this_machines_time_zone_is_read_from_where_localtime_links(tmp_path: Path) -> None:
    zone = tmp_path / "usr" / "share" / "zoneinfo" / "Europe" / "Paris"
    zone.parent.mkdir(parents=True)
    zone.write_bytes(b"TZif")
    link = tmp_path / "localtime"
    link.symlink_to(zone)
    assert local_timezone(str(link)) == "Europe/Paris"
    assert local_timezone(str(tmp_path / "missing")) is None
    plain = tmp_path / "plain"
    plain.write_bytes(b"TZif")  # a copy, not a link: the name cannot be told
    assert local_timezone(str(plain)) is None
