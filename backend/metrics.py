"""The backend's Prometheus metrics (served at `GET /metrics`; docs/operations.md lists them).

Defined once per process at import. With several workers the supervisor sets
`PROMETHEUS_MULTIPROC_DIR` before they start, so every worker's values are summed at a scrape
(plumbing.metrics). Labels are bounded: request types the protocol defines, route names, the
configured servers and the tools they list; never a user, thread or item id."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Mapping
from typing import Any

from agents.exceptions import UserError
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from prometheus_client import Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.settings import BackendSettings
from plumbing.metrics import MetricsAccess

# Turn latencies run from a cached offline answer (ms) to a slow provider with tools (minutes).
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)

REQUESTS = Counter(
    "chatkit_requests_total",
    "ChatKit requests answered, by request type (threads.create, items.list, upload...) and HTTP status.",
    ["type", "status"],
)
TURN_SECONDS = Histogram(
    "chatkit_turn_seconds",
    "Time from the request to the end of its stream: model turns (kind=turn), widget actions (kind=action).",
    ["kind"],
    buckets=TURN_BUCKETS,
)
TOOL_CALLS = Counter(
    "chatkit_tool_calls_total",
    "MCP tool calls made by the backend, by server, tool and outcome (ok, error, unavailable).",
    ["server", "tool", "outcome"],
)
MCP_SERVER_UP = Gauge(
    "chatkit_mcp_server_up",
    "1 when the backend's connection to an MCP server is up, else 0.",
    ["server"],
    multiprocess_mode="livemin",  # down in any live worker: down
)
ACTIVE_STREAMS = Gauge(
    "chatkit_active_streams",
    "Streaming responses (turns, actions) in progress.",
    multiprocess_mode="livesum",
)
RATE_LIMIT_REFUSALS = Counter(
    "chatkit_rate_limit_refusals_total",
    "Requests refused by the per-user rate limit (HTTP 429), by what was limited (turn, action).",
    ["kind"],
)


# What each ChatKit request's latency counts as (other request types are not timed).
TURN_TYPES = frozenset(
    {
        "threads.create",
        "threads.add_user_message",
        "threads.retry_after_item",
        "threads.add_client_tool_output",
        "threads.add_structured_input",
    }
)
ACTION_TYPES = frozenset({"threads.custom_action", "threads.sync_custom_action"})
# The routes counted in chatkit_requests_total, and the key the ChatKit route notes its type under.
CHATKIT_ROUTE = "chatkit"
FILE_ROUTES = frozenset({"upload", "direct_upload", "download"})
TYPE_KEY = "chatkit.request_type"
INVALID_TYPE = "invalid"


def latency_kind(request_type: str) -> str | None:
    """`turn`, `action`, or None (not timed) for a ChatKit request type."""
    if request_type in TURN_TYPES:
        return "turn"
    return "action" if request_type in ACTION_TYPES else None


def note_request_type(request: Request, request_type: str) -> None:
    """Label this ChatKit request with its (parsed, hence bounded) type; unnoted: `invalid`."""
    request.scope[TYPE_KEY] = request_type


def observe_latency(request_type: str, started: float) -> None:
    """Record the time since `started` (perf_counter) for a timed request type."""
    kind = latency_kind(request_type)
    if kind is not None:
        TURN_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)


def _request_label(scope: Scope) -> str | None:
    name = getattr(scope.get("route"), "name", None)
    if name == CHATKIT_ROUTE:
        return str(scope.get(TYPE_KEY, INVALID_TYPE))
    return name if name in FILE_ROUTES else None


class CountRequests:
    """ASGI middleware counting the answers of the ChatKit and attachment routes by type and
    status (when the response starts; a crash before it counts as 500). Other paths, /metrics
    among them, are not counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def counting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                label = _request_label(scope)
                if label is not None:
                    REQUESTS.labels(type=label, status=str(message["status"])).inc()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            label = _request_label(scope)
            if not started and label is not None:
                REQUESTS.labels(type=label, status="500").inc()
            raise


class MeteredStream(StreamingResponse):
    """An SSE response counted in chatkit_active_streams while it is sent and timed (from
    `started`, perf_counter) until it ends, however it ends (done, failed, client gone)."""

    def __init__(
        self, content: AsyncIterable[bytes], *, request_type: str, started: float, **kwargs: Any
    ) -> None:
        super().__init__(content, **kwargs)
        self.request_type = request_type
        self.started = started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ACTIVE_STREAMS.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            ACTIVE_STREAMS.dec()
            observe_latency(self.request_type, self.started)


def publish_mcp_status(states: Mapping[str, str]) -> None:
    """Set chatkit_mcp_server_up from McpHub.status() (`ok` is up, anything else down)."""
    for server, state in states.items():
        MCP_SERVER_UP.labels(server=server).set(1 if state == "ok" else 0)


def tool_outcome(error: BaseException | None, is_error: bool = False) -> str:
    """`ok`, `error` (the tool or its server refused: an error result, a JSON-RPC error, arguments
    the SDK rejects) or `unavailable` (the call did not get an answer: transport, timeout)."""
    if error is None:
        return "error" if is_error else "ok"
    if isinstance(error, MCPError):  # the server's answer, unless the client gave up waiting
        return "unavailable" if error.code in (REQUEST_TIMEOUT, CONNECTION_CLOSED) else "error"
    if isinstance(error, UserError) and ("parameters" in str(error) or "arguments" in str(error)):
        return "error"
    return "unavailable"


def count_tool_call(server: str, tool: str, outcome: str) -> None:
    """One MCP tool call made by the backend (server and tool names come from the config and the
    server's own listing, never from a user)."""
    TOOL_CALLS.labels(server=server, tool=tool, outcome=outcome).inc()


def metrics_access(settings: BackendSettings) -> MetricsAccess:
    """The backend's /metrics rule: METRICS_TOKEN when set; else open in local mode (which only
    listens on loopback) and loopback clients only when end-user auth is on."""
    return MetricsAccess(settings.metrics_token, loopback_only_service=settings.local_mode)


def refresh_mcp_status(state: Any) -> None:
    """Before a scrape: chatkit_mcp_server_up as the app's hub (`state.hub`, if any) sees it now."""
    hub = getattr(state, "hub", None)
    if hub is not None:
        hub.status()  # publishes
