"""Protocol fuzz: thousands of malformed ChatKit requests and hostile uploads (tests/reliability/
chatkit_fuzz.py, seeded) against the backend app on SQLite and on Postgres in process, and a few
hundred over a real `chatkit-backend` (uvicorn, keep-alive connections). No answer is a 5xx or a
hang, every 4xx carries the JSON error body, no answer shows a traceback or a path, the victim's
thread and attachment are untouched, and the server still answers a normal turn afterwards."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI

from backend.app import create_app
from backend.attachment_links import AttachmentLinks
from backend.settings import BackendSettings
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_token
from tests.conftest import SECRET
from tests.e2e.conftest import backend_env, run_backend
from tests.reliability.chatkit_fuzz import Case, Fuzzer, Ids, Tally
from tests.reliability.figures import add_row
from tests.reliability.sizes import SIZE

pytestmark = pytest.mark.timeout(SIZE.test_timeout_seconds)

REQUEST_TIMEOUT_SECONDS = 30.0  # a request still unanswered after this is a hang
MAX_REQUEST_BYTES = 256 * 1024  # small limits keep the over-the-limit bodies cheap
MAX_UPLOAD_BYTES = 16 * 1024
TABLE = f"protocol fuzz ({SIZE.name})"
COLUMNS = ["target", "requests", "wall s", "answers by status", "error events in 200 streams"]
BASE_URL = "http://127.0.0.1:8000"


def fuzz_settings(database_url: str) -> BackendSettings:
    """Auth on, the offline model, no tool servers, small body limits."""
    return BackendSettings(
        DATABASE_URL=database_url,
        AUTH_JWT_SECRET=AUTH_SECRET,
        AUTH_AUDIENCE=AUDIENCE,
        AUTH_ISSUER=ISSUER,
        MCP_CONFIG=None,
        MCP_AUTH_SECRET=SECRET,
        LLM_PROVIDER="offline",
        MAX_REQUEST_BYTES=MAX_REQUEST_BYTES,
        MAX_UPLOAD_BYTES=MAX_UPLOAD_BYTES,
        PUBLIC_BASE_URL=BASE_URL,
    )


@pytest.fixture
async def fuzz_app(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FastAPI]:
    """The app over a fresh SQLite file, then a fresh Postgres database."""
    monkeypatch.setenv("RATE_LIMIT_TURNS_PER_MINUTE", "0")
    application = create_app(fuzz_settings(database_url))
    async with application.router.lifespan_context(application):
        yield application


async def user_with_data(http: httpx2.AsyncClient, name: str) -> Ids:
    """A user with a thread (a message and its reply) and an uploaded attachment; their ids."""
    client = ChatKitClient(http, user_token(name))
    thread_id, events = await client.create_thread(f"hello from {name}")
    done = [event.item for event in events if event.type == "thread.item.done"]
    user_item = next(item.id for item in done if item.type == "user_message")
    reply_item = next(item.id for item in done if item.type == "assistant_message")
    attachment = await client.call("attachments.create", name="notes.txt", size=5, mime_type="text/plain")
    link = httpx2.URL(attachment["upload_descriptor"]["url"])  # signed for PUBLIC_BASE_URL: its path
    uploaded = await http.post(link.raw_path.decode(), content=b"notes")
    assert uploaded.status_code == 200, uploaded.text
    return Ids(name, thread_id, user_item, reply_item, attachment["id"])


async def snapshot(http: httpx2.AsyncClient, ids: Ids) -> dict[str, Any]:
    """What the victim sees of their thread and attachment."""
    client = ChatKitClient(http, user_token(ids.user))
    thread = await client.call("threads.get_by_id", thread_id=ids.thread)
    threads = await client.call("threads.list", limit=100)
    items = await client.call("items.list", thread_id=ids.thread, limit=100)
    download = await http.get(f"/chatkit/attachments/{ids.attachment}", headers=client.headers)
    return {
        "title": thread.get("title"),
        "threads": [entry["id"] for entry in threads["data"]],
        "items": [(item["id"], item["type"]) for item in items["data"]],
        "attachment": (download.status_code, download.content),
    }


async def send(http: httpx2.AsyncClient, case: Case, tally: Tally) -> None:
    """Send one case, read the whole answer (streams too), and count it."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
            response = await http.send(case.request(http), stream=True)
            try:
                await response.aread()
            finally:
                await response.aclose()
    except TimeoutError:
        tally.check(case, None, "hang")
        return
    except httpx2.LocalProtocolError:  # a header value the HTTP client itself will not send
        tally.statuses["not sendable"] += 1
        return
    except httpx2.TransportError as exc:
        tally.check(case, None, f"transport error {type(exc).__name__}")
        return
    tally.check(case, response)


async def a_normal_turn_works(http: httpx2.AsyncClient, user: str) -> None:
    client = ChatKitClient(http, user_token(user))
    _, events = await client.create_thread("add task still alive")
    assert any(
        event.type == "thread.item.done" and event.item.type == "assistant_message" for event in events
    )


async def fuzz(http: httpx2.AsyncClient, seed: int, requests: int, uploads: int) -> tuple[Tally, float]:
    """Set up a victim and an attacker, send `requests` hostile ChatKit requests and `uploads`
    hostile uploads as the attacker, and check the victim's data did not change."""
    victim = await user_with_data(http, f"victim-{seed}")
    attacker = await user_with_data(http, f"attacker-{seed}")
    before = await snapshot(http, victim)
    fuzzer = Fuzzer(seed, attacker, victim, max_request_bytes=MAX_REQUEST_BYTES)
    links = AttachmentLinks(SECRET, BASE_URL)
    attacker_client = ChatKitClient(http, user_token(attacker.user))
    tally = Tally()
    started = time.perf_counter()
    for _ in range(requests):
        await send(http, fuzzer.chatkit_case(), tally)
    for number in range(uploads):
        if number % 20 == 0:  # a fresh attachment waiting for its bytes, now and then
            pending = await attacker_client.call(
                "attachments.create", name="up.txt", size=3, mime_type="text/plain"
            )
        await send(http, fuzzer.upload_case(links, pending["id"], MAX_UPLOAD_BYTES), tally)
    elapsed = time.perf_counter() - started
    assert await snapshot(http, victim) == before
    await a_normal_turn_works(http, attacker.user)
    return tally, elapsed


def assert_clean(tally: Tally) -> None:
    assert not tally.failures, f"{len(tally.failures)} bad answers, first ones:\n" + "\n".join(
        tally.failures[:15]
    )


async def test_hostile_requests_in_process(fuzz_app: FastAPI, database_url: str) -> None:
    """SIZE.protocol_requests malformed ChatKit requests and SIZE.upload_requests hostile uploads,
    against the app in process (ASGI), on SQLite and on Postgres."""
    transport = httpx2.ASGITransport(app=fuzz_app)
    async with httpx2.AsyncClient(
        transport=transport, base_url=BASE_URL, timeout=REQUEST_TIMEOUT_SECONDS
    ) as http:
        tally, elapsed = await fuzz(http, 1234, SIZE.protocol_requests, SIZE.upload_requests)
    database = "Postgres" if database_url.startswith("postgresql") else "SQLite"
    total = SIZE.protocol_requests + SIZE.upload_requests
    add_row(
        TABLE,
        COLUMNS,
        [f"in process, {database}", total, f"{elapsed:.1f}", tally.counts(), tally.stream_errors],
    )
    assert_clean(tally)
    assert {"200", "400", "401", "404", "413"} <= set(tally.statuses), (
        tally.statuses
    )  # it reached every check


def test_the_checks_catch_bad_answers() -> None:
    """A 5xx, a 4xx without the JSON error body (FastAPI's default), a traceback, a path and a hang
    are each noted as a failure; a proper refusal is not."""
    case = Case("probe", "POST", "/chatkit", {}, b"")

    def answer(status: int, body: dict[str, Any] | str) -> httpx2.Response:
        content = body if isinstance(body, str) else json.dumps(body)
        return httpx2.Response(status, content=content.encode(), headers={"content-type": "application/json"})

    tally = Tally()
    tally.check(case, answer(400, {"error": {"code": "invalid_request", "message": "Bad."}}))
    assert not tally.failures
    for bad in (
        answer(500, {"error": {"code": "internal", "message": "The server could not handle this request."}}),
        answer(422, {"detail": [{"loc": ["body"], "msg": "field required"}]}),
        answer(404, "Not Found"),
        answer(400, {"error": {"code": "x", "message": 'Traceback (most recent call last): File "a.py"'}}),
        answer(400, {"error": {"code": "x", "message": "/work/main/backend/app.py"}}),
    ):
        before = len(tally.failures)
        tally.check(case, bad)
        assert len(tally.failures) > before, bad.content
    tally.check(case, None, "hang")
    assert tally.failures[-1].startswith("hang")


RAW_REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"POST /chatkit HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",  # then the client leaves
    b"POST /chatkit HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /chatkit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /chatkit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    b"POST /chat\x00kit HTTP/1.1\r\nHost: x\r\n\r\n",
]


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection; whatever comes back within a few seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
        return answer


async def test_hostile_requests_over_a_real_process(tmp_path: Path) -> None:
    """SIZE.wire_requests of the same cases (another seed) over keep-alive connections to a real
    `chatkit-backend` on SQLite, plus raw malformed HTTP: the same rules, and the process serves on."""
    env = backend_env(
        tmp_path,
        MCP_CONFIG="",
        LLM_PROVIDER="offline",
        RATE_LIMIT_TURNS_PER_MINUTE="0",
        MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES),
        MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES),
    )
    with run_backend(tmp_path, env) as backend:
        limits = httpx2.Limits(max_connections=4, max_keepalive_connections=4)
        async with httpx2.AsyncClient(
            base_url=backend.url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
        ) as http:
            uploads = max(10, SIZE.wire_requests // 10)
            tally, elapsed = await fuzz(http, 99, SIZE.wire_requests - uploads, uploads)
            port = int(backend.url.rsplit(":", 1)[1])
            for data in RAW_REQUESTS:
                answer = await asyncio.to_thread(raw_exchange, port, data)
                assert not answer or answer.startswith(b"HTTP/1.1 4"), answer[:200]
                for leak in ("Traceback", "/work/", "site-packages"):
                    assert leak.encode() not in answer
            await a_normal_turn_works(http, "after-raw")
    add_row(
        TABLE,
        COLUMNS,
        [
            "chatkit-backend process, SQLite",
            f"{SIZE.wire_requests + len(RAW_REQUESTS)} (incl. {len(RAW_REQUESTS)} raw HTTP)",
            f"{elapsed:.1f}",
            tally.counts(),
            tally.stream_errors,
        ],
    )
    assert_clean(tally)
