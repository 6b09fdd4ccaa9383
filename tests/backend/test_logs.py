"""Request ids and log lines, through the app over HTTP (ASGI transport): every response says its
`X-Request-ID` (the client's when well-formed, else a new one), and the JSON log lines of a request
carry its id, the user's hash and the thread, never the user id or the message."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import httpx2
import pytest
from sqlalchemy import text

from backend.store import SqlStore
from plumbing.logs import setup_logging, user_hash
from tests.backend.conftest import ChatKitClient, user_input, user_token

NEW_ID = re.compile(r"[0-9a-f]{32}")
USER = "user-logs-4b7e2d"
MESSAGE = "okapi-marble-9051 what can you do"


@pytest.fixture
def json_logs(restore_root: None) -> io.StringIO:
    """Every record of the test as JSON lines in a buffer; the root logger restored after."""
    buffer = io.StringIO()
    setup_logging("json", "INFO", stream=buffer)
    return buffer


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """The JSON objects logged so far (each line must parse)."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.parametrize("given", ["abc-123", "trace.id:42_x", "A" * 128, "0"])
async def test_a_well_formed_request_id_is_echoed(http: httpx2.AsyncClient, given: str) -> None:
    response = await http.get("/healthz", headers={"X-Request-ID": given})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["A" * 129, "has space", "slash/y", "semi;colon", "é".encode(), "", "a\tb"])
async def test_a_malformed_request_id_is_replaced(http: httpx2.AsyncClient, given: str | bytes) -> None:
    raw = given if isinstance(given, bytes) else given.encode()
    response = await http.get("/healthz", headers=[(b"X-Request-ID", raw)])
    assert response.status_code == 200
    assert NEW_ID.fullmatch(response.headers["x-request-id"]), response.headers


async def test_a_request_id_with_crlf_is_replaced(http: httpx2.AsyncClient) -> None:
    """A header value with CR LF in it (as a raw ASGI scope carries it: clients refuse to send one)."""
    app = http._transport.app  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"t"), (b"x-request-id", b"abc\r\nSet-Cookie: x=1")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    ids = [value for name, value in start["headers"] if name == b"x-request-id"]
    assert len(ids) == 1 and NEW_ID.fullmatch(ids[0].decode()), start["headers"]


async def test_no_request_id_gets_a_new_one_each_time(http: httpx2.AsyncClient) -> None:
    first, second = await http.get("/healthz"), await http.get("/healthz")
    assert NEW_ID.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_refusals_carry_the_request_id(http: httpx2.AsyncClient) -> None:
    """401 (no token), 404 (no such route), 404 (no such thread), 400 (bad JSON)."""
    headers = {"X-Request-ID": "refused-1", "Content-Type": "application/json"}
    unauthorized = await http.post("/chatkit", content="{}", headers=headers)
    assert unauthorized.status_code == 401
    assert unauthorized.headers["x-request-id"] == "refused-1"
    missing = await http.get("/no-such-page", headers=headers)
    assert missing.status_code == 404
    assert missing.headers["x-request-id"] == "refused-1"
    authed = headers | {"Authorization": f"Bearer {user_token(USER)}"}
    body = json.dumps({"type": "threads.get_by_id", "params": {"thread_id": "thr_nope"}})
    unknown = await http.post("/chatkit", content=body, headers=authed)
    assert unknown.status_code == 404
    assert unknown.headers["x-request-id"] == "refused-1"
    invalid = await http.post("/chatkit", content="{not json", headers=authed)
    assert invalid.status_code == 400
    assert invalid.headers["x-request-id"] == "refused-1"


async def test_cors_lets_the_page_send_and_read_the_request_id(http: httpx2.AsyncClient) -> None:
    origin = "http://localhost:5173"
    preflight = await http.options(
        "/chatkit",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-request-id",
        },
    )
    assert preflight.status_code == 200
    assert "x-request-id" in preflight.headers["access-control-allow-headers"].lower()
    answer = await http.get("/healthz", headers={"Origin": origin, "X-Request-ID": "cors-1"})
    assert answer.headers["x-request-id"] == "cors-1"
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


async def test_a_stream_and_its_log_lines_carry_the_request_id(
    http: httpx2.AsyncClient, json_logs: io.StringIO
) -> None:
    """threads.create (SSE): the header on the stream; the access line with the request id, the
    user's hash and the new thread; no line shows the user id or the message."""
    client = ChatKitClient(http, user_token(USER))
    payload = json.dumps({"type": "threads.create", "params": {"input": user_input(MESSAGE)}})
    response = await http.post(
        "/chatkit",
        content=payload,
        headers=client.headers | {"Content-Type": "application/json", "X-Request-ID": "stream-7"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-request-id"] == "stream-7"
    thread_id = next(
        json.loads(frame[6:])["thread"]["id"]
        for frame in response.text.split("\n\n")
        if frame.startswith("data: ") and '"thread.created"' in frame
    )
    logged = lines(json_logs)
    access = [line for line in logged if line["logger"] == "backend.access"]
    assert len(access) == 1, logged
    line = access[0]
    assert line["request_id"] == "stream-7"
    assert line["user"] == user_hash(USER) and len(line["user"]) == 12
    assert line["thread_id"] == thread_id
    assert (line["method"], line["path"], line["status"]) == ("POST", "/chatkit", 200)
    assert isinstance(line["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "INFO"
    raw = json_logs.getvalue()
    assert USER not in raw and MESSAGE not in raw and "okapi" not in raw


async def test_the_access_line_has_no_query_string(http: httpx2.AsyncClient, json_logs: io.StringIO) -> None:
    """A signed link's token rides in the query string: the access line shows the path only."""
    response = await http.get(
        "/chatkit/attachments/atc_x?token=sekrit-link-token-3391", headers={"X-Request-ID": "link-1"}
    )
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "link-1"
    (line,) = [line for line in lines(json_logs) if line["request_id"] == "link-1"]
    assert line["path"] == "/chatkit/attachments/atc_x"
    assert line["status"] == 401
    assert "sekrit" not in json_logs.getvalue()


async def test_a_server_failure_logs_one_traceback_and_answers_its_request_id(
    app: Any, json_logs: io.StringIO
) -> None:
    """With a column of the threads table gone, threads.list is a 500: the response says its request id and
    exactly one line (with that id) holds the traceback; the access line says 500."""
    store: SqlStore = app.state.store
    async with store.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE chat_threads RENAME COLUMN data TO data_gone"))
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        client = ChatKitClient(http, user_token(USER))
        payload = json.dumps({"type": "threads.list", "params": {}})
        response = await http.post(
            "/chatkit",
            content=payload,
            headers=client.headers | {"Content-Type": "application/json", "X-Request-ID": "boom-1"},
        )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "boom-1"
    mine = [line for line in lines(json_logs) if line["request_id"] == "boom-1"]
    with_traceback = [line for line in mine if line.get("traceback")]
    assert len(with_traceback) == 1, mine
    assert with_traceback[0]["level"] == "ERROR"
    assert "chat_threads" in with_traceback[0]["message"]
    assert [line["status"] for line in mine if line["logger"] == "backend.access"] == [500]


async def test_probes_that_succeed_leave_no_access_line_at_info(
    http: httpx2.AsyncClient, json_logs: io.StringIO
) -> None:
    """/healthz every few seconds would drown the log: DEBUG; a request that fails stays INFO."""
    await http.get("/healthz", headers={"X-Request-ID": "probe-1"})
    await http.get("/nowhere", headers={"X-Request-ID": "lost-1"})
    access = [line for line in lines(json_logs) if line["logger"] == "backend.access"]
    assert [(line["request_id"], line["status"]) for line in access] == [("lost-1", 404)]
