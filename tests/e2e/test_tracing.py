"""Tracing across processes: `chatkit-backend` and `tasks-mcp` over streamable HTTP, both exporting
OTLP/HTTP to a collector in this test. A tool turn is one trace: the tool server's span for the
call continues the backend's, under the backend's tool span."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.backend.tool_app import User
from tests.e2e.conftest import Launcher, backend_env, run_backend, server_env

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 20.0
MESSAGE = "add task water the zanzibar ferns"


@dataclass(frozen=True)
class Exported:
    """One span as a process exported it."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, str]


class Collector(ThreadingHTTPServer):
    """An OTLP/HTTP trace collector on 127.0.0.1 (protobuf POST /v1/traces), keeping every span."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.spans: list[Exported] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def keep(self, request: ExportTraceServiceRequest) -> None:
        found = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        Exported(
                            service=resource.get("service.name", ""),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            attributes={
                                kv.key: str(getattr(kv.value, kv.value.WhichOneof("value") or "string_value"))
                                for kv in span.attributes
                            },
                        )
                    )
        with self.lock:
            self.spans.extend(found)

    def named(self, service: str, name: str) -> list[Exported]:
        with self.lock:
            return [span for span in self.spans if span.service == service and span.name == name]


class _Receiver(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:  # http.server calls it by this name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_response(404)
            self.end_headers()
            return
        self.server.keep(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_for(collector: Collector, service: str, name: str) -> Exported:
    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := collector.named(service, name)):
        if time.monotonic() > deadline:
            names = sorted({(span.service, span.name) for span in collector.spans})
            raise AssertionError(f"no {service} span {name!r} within {WAIT_SECONDS} s; got {names}")
        time.sleep(0.1)
    assert len(found) == 1, found
    return found[0]


async def test_the_tool_servers_span_continues_the_backends_trace(
    collector: Collector, tmp_path: Path
) -> None:
    tracing_env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    launcher = Launcher(tmp_path)
    try:
        tasks = launcher.http("tasks-mcp", server_env(tmp_path, **tracing_env))
        config = tmp_path / "mcp.json"
        config.write_text(json.dumps({"mcpServers": {"tasks": {"url": tasks.url, "timeout_seconds": 10}}}))
        env = backend_env(tmp_path, MCP_CONFIG=str(config), LLM_PROVIDER="offline", **tracing_env)
        with run_backend(tmp_path, env) as backend:
            async with httpx2.AsyncClient(base_url=backend.url, timeout=60) as http:
                await User(http).say(MESSAGE)
            request = wait_for(collector, "chatkit-backend", "POST /chatkit threads.create")
            tool = wait_for(collector, "chatkit-backend", "execute_tool add_task")
            sent = wait_for(collector, "chatkit-backend", "MCP send tools/call add_task")
            served = wait_for(collector, "tasks-mcp", "tools/call add_task")
    finally:
        launcher.stop_all()

    assert request.parent_id == ""  # no traceparent came in: the turn starts the trace
    assert tool.trace_id == sent.trace_id == served.trace_id == request.trace_id
    assert tool.parent_id == request.span_id
    assert tool.attributes["mcp.server.name"] == "tasks"
    assert tool.attributes["chatkit.tool.outcome"] == "ok"
    # The call's _meta carried the traceparent of the MCP SDK's client span, opened under the tool
    # span: the tool server's span is its child, in the backend's trace.
    assert sent.parent_id == tool.span_id
    assert served.parent_id == sent.span_id
    with collector.lock:
        spans = list(collector.spans)
    below = {served.span_id}
    stores = []
    for span in spans:  # parents end (and are exported) after their children: walk to a fixed point
        if span.service == "tasks-mcp" and span.attributes.get("db.system") == "sqlite":
            stores.append(span)
    while True:
        grown = below | {span.span_id for span in spans if span.parent_id in below}
        if grown == below:
            break
        below = grown
    assert stores and all(span.span_id in below for span in stores), [span.name for span in stores]
    assert all(span.trace_id == request.trace_id for span in stores)
    assert any(span.name.startswith("INSERT ") for span in stores)
    for span in spans:
        for value in [span.name, *span.attributes.values()]:
            assert "zanzibar" not in value and "eyJ" not in value, (span.service, span.name, value)
