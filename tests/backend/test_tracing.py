"""Tracing through the app (an in-memory exporter installed the way OTLP would be): one trace per
request, with its model, tool and store spans under the request's; an incoming `traceparent` is
continued; no span carries message text or a token; off by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from backend.app import create_app
from backend.settings import BackendSettings
from plumbing import tracing
from tests.backend.conftest import ChatKitClient, user_token
from tests.backend.tool_app import user_of_own_app

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
SECRET_WORDS = "zanzibar marmalade"  # the message text, which no span may carry


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test, into memory; off again afterwards."""
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("chatkit-backend", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown_tracing()
    assert not tracing.enabled()


def by_id(finished: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in finished}


def ancestors(span: ReadableSpan, index: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    """The span's parents, nearest first, as far as they are in `index`."""
    chain = []
    while span.parent is not None and span.parent.span_id in index:
        span = index[span.parent.span_id]
        chain.append(span)
    return chain


def strings_of(span: ReadableSpan) -> list[str]:
    """Everything a span says: its name, status and attribute values, its events' too."""
    values = [span.name, span.status.description or ""]
    values += [str(value) for value in (span.attributes or {}).values()]
    for event in span.events:
        values += [event.name, *(str(value) for value in (event.attributes or {}).values())]
    return values


async def test_a_tool_turn_is_one_trace_of_request_model_tool_and_store_spans(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    async with user_of_own_app(tmp_path) as user:
        spans.clear()  # start-up aside
        await user.say(f"add task {SECRET_WORDS}")
    finished = spans.get_finished_spans()
    index = by_id(finished)
    [request] = [span for span in finished if span.kind == SpanKind.SERVER]
    assert request.name == "POST /chatkit threads.create"
    assert request.attributes is not None
    assert request.attributes["http.request.method"] == "POST"
    assert request.attributes["url.path"] == "/chatkit"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["chatkit.request.type"] == "threads.create"
    assert request.parent is None
    trace_id = request.context.trace_id
    in_trace = [span for span in finished if span.context.trace_id == trace_id]
    assert {span.context.trace_id for span in finished} == {trace_id}  # the turn made one trace

    models = [span for span in in_trace if span.name.startswith("chat ")]
    assert models and all(span.parent is not None for span in models)
    assert all(span.parent.span_id == request.context.span_id for span in models if span.parent)
    assert all((span.attributes or {})["gen_ai.request.model"] == "OfflineModel" for span in models)

    [tool] = [span for span in in_trace if span.name == "execute_tool add_task"]
    expected = {"mcp.server.name": "tasks", "gen_ai.tool.name": "add_task", "chatkit.tool.outcome": "ok"}
    assert expected.items() <= dict(tool.attributes or {}).items()
    assert request in ancestors(tool, index)
    # The MCP SDK's client span sends the call, and its traceparent rides in the call's _meta.
    [sent] = [span for span in in_trace if span.name == "MCP send tools/call add_task"]
    assert sent.parent is not None and sent.parent.span_id == tool.context.span_id

    stores = [span for span in in_trace if (span.attributes or {}).get("db.system") == "sqlite"]
    assert stores, [span.name for span in in_trace]
    assert all(request in ancestors(span, index) for span in stores)
    assert all(span.kind == SpanKind.CLIENT for span in stores)
    assert any(span.name == "INSERT chat_items" or span.name.startswith("INSERT ") for span in stores)
    for span in stores:
        assert set(span.attributes or {}) <= {"db.system", "db.operation", "db.sql.table"}

    secrets = ["zanzibar", "marmalade", "eyJ", "Bearer"]  # the words; any JWT (user or identity token)
    for span in finished:
        for value in strings_of(span):
            assert not any(secret in value for secret in secrets), (span.name, value)


async def test_a_tool_that_refuses_marks_its_span_failed(spans: InMemorySpanExporter, tmp_path: Path) -> None:
    async with user_of_own_app(tmp_path) as user:
        spans.clear()
        await user.say("complete task_zzzzzzzzzzzz")  # no such task: the tool answers with an error
    [tool] = [span for span in spans.get_finished_spans() if span.name == "execute_tool complete_task"]
    assert (tool.attributes or {})["chatkit.tool.outcome"] == "error"
    assert tool.status.status_code == StatusCode.ERROR
    assert (tool.attributes or {})["error.type"] == "tool_error"


async def test_an_incoming_traceparent_is_continued(
    spans: InMemorySpanExporter, settings: BackendSettings
) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            client = ChatKitClient(http, user_token("alice"))
            client.headers["traceparent"] = f"00-{TRACE_ID}-{PARENT_ID}-01"
            spans.clear()
            await client.call("threads.list", limit=5, order="desc")
            untraced = await http.get("/healthz")
            assert untraced.status_code == 200
    finished = spans.get_finished_spans()
    [request] = [span for span in finished if span.kind == SpanKind.SERVER]
    assert request.name == "POST /chatkit threads.list"
    assert format(request.context.trace_id, "032x") == TRACE_ID
    assert request.parent is not None and format(request.parent.span_id, "016x") == PARENT_ID
    stores = [span for span in finished if span.name.startswith("SELECT ")]
    assert stores and all(format(span.context.trace_id, "032x") == TRACE_ID for span in stores)
    assert all(span.parent is not None and span.parent.span_id == request.context.span_id for span in stores)


def test_switched_off_a_tracer_held_from_before_records_nothing() -> None:
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("chatkit-backend", exporter=exporter)
    held = trace.get_tracer("some.library")  # as the MCP SDK holds one from its import on
    try:
        with held.start_as_current_span("while on") as span:
            assert span.is_recording()
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            assert "traceparent" in carrier
    finally:
        tracing.shutdown_tracing()
    with held.start_as_current_span("while off") as span:
        assert not span.is_recording()
        carrier = {}
        propagate.inject(carrier)
        assert carrier == {}  # as if nothing had ever been installed
    assert [span.name for span in exporter.get_finished_spans()] == ["while on"]


OFF = textwrap.dedent(
    """
    import asyncio, json, sys
    import httpx2
    from opentelemetry import trace
    from backend.app import create_app
    from backend.settings import BackendSettings
    from plumbing import tracing

    async def main():
        settings = BackendSettings(DATABASE_URL=sys.argv[1])
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
                answer = await http.post(
                    "/chatkit", json={"type": "threads.list", "params": {"limit": 5}},
                    headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                )
        print(json.dumps({
            "status": answer.status_code,
            "enabled": tracing.enabled(),
            "provider": type(trace.get_tracer_provider()).__name__,
            "sdk_loaded": "opentelemetry.sdk.trace" in sys.modules,
            "middleware": [m.cls.__name__ for m in app.user_middleware],
            "empty_endpoint": tracing.TracingSettings(OTEL_EXPORTER_OTLP_ENDPOINT="").tracing_wanted(),
            "sdk_disabled": tracing.TracingSettings(
                OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SDK_DISABLED="true"
            ).tracing_wanted(),
        }))

    asyncio.run(main())
    """
)


def test_tracing_is_off_without_an_endpoint(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env["MCP_CONFIG"] = ""
    ran = subprocess.run(
        [sys.executable, "-c", OFF, f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    found: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["status"] == 200
    assert found["enabled"] is False
    assert found["provider"] == "ProxyTracerProvider"  # nothing installed: the API's no-op
    assert found["sdk_loaded"] is False  # not even imported
    assert "TracingMiddleware" not in found["middleware"]
    assert found["empty_endpoint"] is False and found["sdk_disabled"] is False
