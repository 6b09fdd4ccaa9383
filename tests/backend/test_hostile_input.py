"""Hostile input over HTTP, on SQLite and Postgres alike: out-of-range page sizes, text no database
can store (NUL, lone surrogates), data errors that are not outages, and logs without user data."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from backend.app import create_app
from backend.db import create_engine
from backend.request_checks import MAX_PAGE_SIZE, UNSTORABLE_MESSAGE
from backend.settings import BackendSettings
from backend.store import SqlStore
from tests.backend.conftest import AUDIENCE, AUTH_SECRET, ISSUER, ChatKitClient, user_input, user_token

OUT_OF_RANGE = [2**63 - 1, 2**63, 2**31, MAX_PAGE_SIZE + 1, 0, -1, -(2**63)]


@pytest.fixture
async def db_app(database_url: str) -> AsyncIterator[FastAPI]:
    """The app with auth on, over a fresh SQLite file and then a fresh Postgres database."""
    settings = BackendSettings(
        DATABASE_URL=database_url, AUTH_JWT_SECRET=AUTH_SECRET, AUTH_AUDIENCE=AUDIENCE, AUTH_ISSUER=ISSUER
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def db_http(db_app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=db_app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if "unreachable" in record.getMessage()]


def assert_rejected(response: httpx2.Response, code: str, words: str) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == code, response.text
    assert words in response.json()["error"]["message"], response.text


async def test_out_of_range_page_sizes_get_400_before_any_sql(
    db_http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """threads.list and items.list with a limit outside 1..MAX_PAGE_SIZE: a 400 naming the range
    (not a 500 on SQLite nor a fake outage on Postgres), and the app answers normally afterwards."""
    alice = ChatKitClient(db_http, user_token("alice"))
    thread_id, _ = await alice.create_thread("hello")
    for limit in OUT_OF_RANGE:
        for type_, params in (
            ("threads.list", {"limit": limit}),
            ("threads.list", {"limit": limit, "order": "asc", "after": thread_id}),
            ("items.list", {"thread_id": thread_id, "limit": limit}),
            ("items.list", {"thread_id": "thr_nobody", "limit": limit}),
        ):
            response = await alice.post({"type": type_, "params": params})
            assert_rejected(response, "invalid_request", f"between 1 and {MAX_PAGE_SIZE}")
    assert [t["id"] for t in (await alice.call("threads.list", limit=MAX_PAGE_SIZE))["data"]] == [thread_id]
    assert (await alice.call("items.list", thread_id=thread_id, limit=1))["has_more"] is True
    assert (await alice.call("items.list", thread_id=thread_id))["data"]  # no limit: the default
    assert not outage_warnings(caplog)


def nul_requests(thread_id: str, item_id: str) -> list[dict[str, Any]]:
    """Requests with a NUL in an id, a cursor, a title, a message, an attachment name, metadata."""
    return [
        {"type": "threads.get_by_id", "params": {"thread_id": "thr_x\x00"}},
        {"type": "threads.get_by_id", "params": {"thread_id": thread_id + "\x00"}},
        {"type": "threads.delete", "params": {"thread_id": "\x00"}},
        {"type": "threads.list", "params": {"after": "thr_\x00"}},
        {"type": "items.list", "params": {"thread_id": thread_id, "after": "msg_\x00"}},
        {"type": "items.list", "params": {"thread_id": "thr\x00"}},
        {
            "type": "items.feedback",
            "params": {"thread_id": thread_id, "item_ids": [item_id + "\x00"], "kind": "positive"},
        },
        {"type": "threads.update", "params": {"thread_id": thread_id, "title": "a\x00b"}},
        {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input("\x00")}},
        {"type": "threads.create", "params": {"input": user_input("first\x00message")}},
        {"type": "attachments.create", "params": {"name": "a\x00.txt", "size": 3, "mime_type": "text/plain"}},
        {"type": "attachments.delete", "params": {"attachment_id": "atc_\x00"}},
        {"type": "threads.list", "params": {}, "metadata": {"note": "\x00"}},
    ]  # fmt: skip


async def test_nul_and_lone_surrogates_get_the_same_400_on_every_database(
    db_http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A NUL anywhere in a request body or path, or a lone surrogate in the JSON: a 400 saying the
    text cannot be stored, before process() and any SQL; no thread is half-created, no outage logged."""
    caplog.set_level(logging.WARNING)
    alice = ChatKitClient(db_http, user_token("alice"))
    thread_id, events = await alice.create_thread("hello")
    item_id = next(event.item.id for event in events if event.type == "thread.item.done")
    for payload in nul_requests(thread_id, item_id):
        response = await alice.post(payload)
        assert_rejected(response, "unstorable_text", UNSTORABLE_MESSAGE)
        assert response.headers["content-type"] == "application/json"
    for payload in (  # json.dumps writes a lone surrogate as its \\uXXXX escape
        {"type": "threads.update", "params": {"thread_id": thread_id, "title": "\ud800"}},
        {"type": "threads.get_by_id", "params": {"thread_id": "thr_\udc00"}},
        {"type": "threads.create", "params": {"input": user_input("hi \ud83d")}},
    ):
        assert_rejected(await alice.post(payload), "unstorable_text", UNSTORABLE_MESSAGE)
    raw = b'{"type": "threads.get_by_id", "params": {"thread_id": "thr_\xed\xa0\x80"}}'
    assert_rejected(await alice.post(raw), "unstorable_text", UNSTORABLE_MESSAGE)
    for method, path in (("POST", "/chatkit/upload/%00"), ("GET", "/chatkit/attachments/%00")):
        response = await db_http.request(method, path, headers=alice.headers, content=b"abc")
        assert_rejected(response, "unstorable_text", UNSTORABLE_MESSAGE)
    # A token whose subject no database can store is not a valid user.
    nul_user = ChatKitClient(db_http, user_token("eve\x00"))
    assert (await nul_user.post({"type": "threads.list", "params": {}})).status_code == 401
    # Nothing was stored or changed by the refused requests.
    threads = (await alice.call("threads.list"))["data"]
    assert [thread["id"] for thread in threads] == [thread_id]
    assert threads[0]["title"] != "a\x00b"
    assert not outage_warnings(caplog)


async def test_a_data_error_that_reaches_the_database_is_no_outage(
    db_app: FastAPI,
    db_http: httpx2.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the edge check out of the way, the NUL reaches SQL: Postgres refuses the value (a 400,
    "cannot be stored"), SQLite finds no such thread (404); neither is a 503 or an outage warning."""
    monkeypatch.setattr("backend.request_checks.check_text", lambda *values: None)
    alice = ChatKitClient(db_http, user_token("alice"))
    response = await alice.post({"type": "threads.get_by_id", "params": {"thread_id": "thr_x\x00"}})
    store: SqlStore = db_app.state.store
    if store.engine.dialect.name == "sqlite":
        assert response.status_code == 404, response.text
    else:
        assert_rejected(response, "invalid_request", "cannot be stored")
    assert not outage_warnings(caplog)


async def test_a_refused_connection_is_still_an_outage(
    app: FastAPI, http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that refuses connections: 503 "unreachable" and one warning (the classification
    still knows a real outage)."""
    store: SqlStore = app.state.store
    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    store.engine, store._single = dead, dead
    try:
        response = await ChatKitClient(http, user_token("alice")).post({"type": "threads.list", "params": {}})
    finally:
        await dead.dispose()
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert outage_warnings(caplog)


async def test_failed_statements_log_no_user_data(
    database_url: str, db_app: FastAPI, db_http: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """With the threads table gone, requests fail inside SQL (a 503 that says the database is missing
    tables, or a stream that ends with an error event); no log record, traceback included, shows
    the user id, thread id, title or message sent."""
    caplog.set_level(logging.INFO)
    user, secret_thread, secret_text = "user-7f3a9c-secret", "thr_9d2e41secret", "title-5b8c0e-secret"
    client = ChatKitClient(db_http, user_token(user))
    store: SqlStore = db_app.state.store
    async with store.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE chat_threads RENAME TO chat_threads_gone"))
    caplog.clear()
    for payload in (
        {"type": "threads.get_by_id", "params": {"thread_id": secret_thread}},
        {"type": "threads.update", "params": {"thread_id": secret_thread, "title": secret_text}},
        {"type": "threads.list", "params": {"after": secret_thread}},
    ):
        response = await client.post(payload)
        assert response.status_code == 503, response.text  # migrating finds nothing to re-create
        assert "missing some of its tables" in response.json()["error"]["message"]
    # A stream whose first write fails: the SDK logs it and the stream ends (how is not the point).
    with contextlib.suppress(Exception):
        await client.post({"type": "threads.create", "params": {"input": user_input(secret_text)}})
    formatter = logging.Formatter()
    logged = [
        record.getMessage() + (formatter.formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    ]
    assert any("SELECT on chat_threads failed" in line for line in logged), logged
    for line in logged:
        for secret in (user, secret_thread, secret_text):
            assert secret not in line, line
    assert not [line for line in logged if "unreachable" in line]
